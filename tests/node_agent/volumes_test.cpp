// A pod's volumes as the node agent prepares them on disk, from objects the API would return,
// and each container's mounts of them.
#include "volumes.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "kgate/base64.hpp"
#include "kgate/process.hpp"

namespace kgate::nodeagent {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

unsigned mode(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

class VolumesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kgate-volumes-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    objects_["configmaps/app-config"] = {
        {"data", {{"kgate.yaml", "suites: [smoke]\n"}, {"extra", "x"}}},
        {"binaryData", {{"blob", base64_encode(std::string("\x01\x02", 2))}}}};
    objects_["secrets/app-secret"] = {
        {"data", {{"DATABASE_URL", base64_encode("postgresql://u:p@db/todo")}}}};
    objects_["configmaps/kube-root-ca.crt"] = {{"data", {{"ca.crt", "-----BEGIN CERT-----"}}}};
    sources_.get = [this](const std::string& kind, const std::string& name) {
      auto it = objects_.find(kind + "/" + name);
      return it == objects_.end() ? std::nullopt : std::optional<json>(it->second);
    };
    sources_.token = [this](const std::string& sa, const std::string& audience,
                            std::int64_t expiration) {
      token_requests_.push_back(sa + "|" + audience + "|" + std::to_string(expiration));
      return std::string("token-for-") + sa;
    };
  }
  void TearDown() override { fs::remove_all(dir_); }

  json pod(json volumes, json security = nullptr) {
    json p = {{"metadata", {{"name", "web-0"}, {"namespace", "shop"}, {"labels", {{"a", "b"}}}}},
              {"spec", {{"volumes", volumes}, {"containers", json::array()}}}};
    if (!security.is_null()) p["spec"]["securityContext"] = security;
    return p;
  }

  fs::path dir_;
  std::map<std::string, json> objects_;
  std::vector<std::string> token_requests_;
  VolumeSources sources_;
};

TEST_F(VolumesTest, EmptyDirIsAWorldWritableFolderThatKeepsItsFiles) {
  auto p = pod({{{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}}});
  auto v = prepare_volumes(p, dir_, sources_, {});
  ASSERT_EQ(v.count("tmp"), 1u);
  EXPECT_FALSE(v["tmp"].read_only);
  EXPECT_EQ(mode(v["tmp"].path), 0777u);
  std::ofstream(fs::path(v["tmp"].path) / "kept") << "1";
  v = prepare_volumes(p, dir_, sources_, {});  // a second setup (a retry) keeps the contents
  EXPECT_TRUE(fs::exists(fs::path(v["tmp"].path) / "kept"));
}

TEST_F(VolumesTest, EmptyDirWithFsGroupIsSetgidToThatGroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another group needs root";
  auto v =
      prepare_volumes(pod({{{"name", "tmp"}, {"emptyDir", json::object()}}}, {{"fsGroup", 4242}}),
                      dir_, sources_, {});
  struct stat st {};
  ::stat(v["tmp"].path.c_str(), &st);
  EXPECT_EQ(st.st_gid, 4242u);
  EXPECT_EQ(st.st_mode & 07777, 02777u);
}

TEST_F(VolumesTest, ConfigMapKeysAndItemsBecomeReadOnlyFiles) {
  auto v = prepare_volumes(
      pod({{{"name", "all"}, {"configMap", {{"name", "app-config"}}}},
           {{"name", "some"},
            {"configMap",
             {{"name", "app-config"},
              {"defaultMode", 0440},
              {"items", {{{"key", "kgate.yaml"}, {"path", "conf/kgate.yaml"}}}}}}}}),
      dir_, sources_, {});
  EXPECT_TRUE(v["all"].read_only);
  EXPECT_EQ(slurp(fs::path(v["all"].path) / "kgate.yaml"), "suites: [smoke]\n");
  EXPECT_EQ(slurp(fs::path(v["all"].path) / "blob"), std::string("\x01\x02", 2));
  EXPECT_EQ(mode(fs::path(v["all"].path) / "extra"), 0644u);
  EXPECT_EQ(slurp(fs::path(v["some"].path) / "conf/kgate.yaml"), "suites: [smoke]\n");
  EXPECT_FALSE(fs::exists(fs::path(v["some"].path) / "extra"));
  EXPECT_EQ(mode(fs::path(v["some"].path) / "conf/kgate.yaml"), 0440u);
}

TEST_F(VolumesTest, SecretValuesAreDecoded) {
  auto v = prepare_volumes(pod({{{"name", "s"}, {"secret", {{"secretName", "app-secret"}}}}}), dir_,
                           sources_, {});
  EXPECT_EQ(slurp(fs::path(v["s"].path) / "DATABASE_URL"), "postgresql://u:p@db/todo");
}

TEST_F(VolumesTest, MissingObjectsAndKeysNameTheVolume) {
  try {
    prepare_volumes(pod({{{"name", "cfg"}, {"configMap", {{"name", "nope"}}}}}), dir_, sources_,
                    {});
    FAIL() << "a missing configMap must fail";
  } catch (const VolumeError& e) {
    EXPECT_STREQ(e.what(),
                 "MountVolume.SetUp failed for volume \"cfg\": configmap \"nope\" not found");
  }
  // optional: an empty volume instead.
  auto v = prepare_volumes(
      pod({{{"name", "cfg"}, {"configMap", {{"name", "nope"}, {"optional", true}}}}}), dir_,
      sources_, {});
  EXPECT_TRUE(fs::is_empty(v["cfg"].path));
  try {
    prepare_volumes(
        pod({{{"name", "cfg"},
              {"configMap",
               {{"name", "app-config"}, {"items", {{{"key", "absent"}, {"path", "a"}}}}}}}}),
        dir_, sources_, {});
    FAIL() << "a missing key must fail";
  } catch (const VolumeError& e) {
    EXPECT_NE(std::string(e.what()).find("no key \"absent\""), std::string::npos) << e.what();
  }
  try {
    prepare_volumes(
        pod({{{"name", "cfg"},
              {"configMap",
               {{"name", "app-config"}, {"items", {{{"key", "extra"}, {"path", "../escape"}}}}}}}}),
        dir_, sources_, {});
    FAIL() << "a path leaving the volume must fail";
  } catch (const VolumeError& e) {
    EXPECT_NE(std::string(e.what()).find("must not contain '..'"), std::string::npos) << e.what();
  }
}

TEST_F(VolumesTest, ProjectedServiceAccountVolumeAsTheAdmissionPluginAddsIt) {
  json p =
      pod({{{"name", "kube-api-access-x"},
            {"projected",
             {{"defaultMode", 420},
              {"sources",
               {{{"serviceAccountToken", {{"expirationSeconds", 3607}, {"path", "token"}}}},
                {{"configMap",
                  {{"name", "kube-root-ca.crt"},
                   {"items", {{{"key", "ca.crt"}, {"path", "ca.crt"}}}}}}},
                {{"downwardAPI",
                  {{"items",
                    {{{"path", "namespace"},
                      {"fieldRef",
                       {{"apiVersion", "v1"}, {"fieldPath", "metadata.namespace"}}}}}}}}}}}}}}});
  p["spec"]["serviceAccountName"] = "kgate";
  auto v = prepare_volumes(p, dir_, sources_, {});
  const fs::path root = v["kube-api-access-x"].path;
  EXPECT_EQ(slurp(root / "token"), "token-for-kgate");
  EXPECT_EQ(slurp(root / "ca.crt"), "-----BEGIN CERT-----");
  EXPECT_EQ(slurp(root / "namespace"), "shop");
  EXPECT_EQ(token_requests_, (std::vector<std::string>{"kgate||3607"}));
}

TEST_F(VolumesTest, DownwardApiVolumeFiles) {
  auto v = prepare_volumes(
      pod({{{"name", "info"},
            {"downwardAPI",
             {{"items",
               {{{"path", "labels"}, {"fieldRef", {{"fieldPath", "metadata.labels"}}}},
                {{"path", "name"}, {"fieldRef", {{"fieldPath", "metadata.name"}}}}}}}}}}),
      dir_, sources_, {});
  EXPECT_EQ(slurp(fs::path(v["info"].path) / "labels"), "a=\"b\"");
  EXPECT_EQ(slurp(fs::path(v["info"].path) / "name"), "web-0");
}

TEST_F(VolumesTest, UnsupportedKindsAreRefusedByName) {
  try {
    prepare_volumes(pod({{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "d"}}}}}),
                    dir_, sources_, {});
    FAIL();
  } catch (const VolumeError& e) {
    EXPECT_STREQ(e.what(),
                 "MountVolume.SetUp failed for volume \"data\": persistentVolumeClaim volumes are "
                 "not supported by kgate-node-agent (pods are processes)");
  }
}

TEST_F(VolumesTest, ContainerMountsResolveSubPathsAndReadOnly) {
  auto v = prepare_volumes(pod({{{"name", "work"}, {"emptyDir", json::object()}},
                                {{"name", "cfg"}, {"configMap", {{"name", "app-config"}}}}}),
                           dir_, sources_, {});
  json container = {{"volumeMounts",
                     {{{"name", "work"}, {"mountPath", "/work/"}},
                      {{"name", "work"}, {"mountPath", "/cache"}, {"subPathExpr", "$(POD)/c"}},
                      {{"name", "cfg"}, {"mountPath", "/etc/kgate"}},
                      {{"name", "cfg"}, {"mountPath", "/etc/app.yaml"}, {"subPath", "kgate.yaml"}},
                      {{"name", "work"}, {"mountPath", "/ro"}, {"readOnly", true}}}}};
  auto mounts = container_mounts(container, v, {{"POD", "web-0"}});
  ASSERT_EQ(mounts.size(), 5u);
  EXPECT_EQ(mounts[0], (Mount{v["work"].path, "/work", false}));
  EXPECT_EQ(mounts[1], (Mount{v["work"].path + "/web-0/c", "/cache", false}));
  EXPECT_TRUE(fs::is_directory(mounts[1].source));  // made, as kubelet makes a subPath
  EXPECT_EQ(mounts[2], (Mount{v["cfg"].path, "/etc/kgate", true}));
  EXPECT_EQ(mounts[3], (Mount{v["cfg"].path + "/kgate.yaml", "/etc/app.yaml", true}));
  EXPECT_TRUE(mounts[4].read_only);

  for (const json& bad :
       {json{{"name", "nope"}, {"mountPath", "/x"}}, json{{"name", "work"}, {"mountPath", "x"}},
        json{{"name", "work"}, {"mountPath", "/x"}, {"subPath", "../up"}},
        json{{"name", "cfg"}, {"mountPath", "/x"}, {"subPath", "absent"}}}) {
    EXPECT_THROW(container_mounts(json{{"volumeMounts", {bad}}}, v, {}), VolumeError) << bad;
  }
}

}  // namespace
}  // namespace kgate::nodeagent
