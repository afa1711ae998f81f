// The release pipeline on the real control plane: the project's chart installed by the real helm
// with the local values, `helm test` running kgate (smoke, HTTP security, the live audit) in the
// test-hook pod, `kgate collect` turning that pod's log into junit.xml/report.html/results.json
// with the gate's verdict as exit code, an upgrade with a fault value rolling the pods and failing
// the gate, a rollback, and an uninstall that leaves nothing of the release behind.
//
// One cluster, one release; the stories run in order (each needs the state the previous left)
// and skip when an earlier one could not set it up.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <kgate/kube/client.hpp>
#include <kgate/log_block.hpp>
#include <kgate/process.hpp>
#include <kgate/wait.hpp>

#include "framework/local_cluster.hpp"

namespace {

using namespace std::chrono_literals;
using kgate::testfw::helm_binary;
using kgate::testfw::kgate_binary;
using kgate::testfw::LocalCluster;
using kgate::testfw::read_file;
using kgate::testfw::wait_for_ready_pods;
using nlohmann::json;
namespace fs = std::filesystem;
namespace res = kgate::kube::resources;

const std::string kNs = "release";
const std::string kRelease = "todo";
const std::string kSelector = "app.kubernetes.io/instance=todo";

// Check ids of results.json with that status.
std::set<std::string> with_status(const json& results, const std::string& status) {
  std::set<std::string> out;
  for (const auto& c : results.value("checks", json::array()))
    if (c.value("status", "") == status) out.insert(c.value("id", ""));
  return out;
}

std::set<std::string> suites_of(const json& results) {
  std::set<std::string> out;
  for (const auto& c : results.value("checks", json::array())) out.insert(c.value("suite", ""));
  return out;
}

class ReleaseClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new LocalCluster();
    std::cout << "local cluster ready in " << cluster_->startup_time().count() << " ms\n";
    char tmpl[] = "/tmp/kgate-release-XXXXXX";
    work_ = ::mkdtemp(tmpl);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    fs::remove_all(work_);
  }
  LocalCluster& cluster() { return *cluster_; }
  kgate::kube::Client& api() { return cluster_->client(); }

  struct Run {
    int status = -1;
    std::string output;
  };
  // The real helm, with its state in the cluster's folder and the cluster's kubeconfig.
  Run helm(std::vector<std::string> args, std::chrono::seconds timeout = 200s) {
    auto r = cluster().command(helm_binary(), args, timeout);
    return {r.status, r.output};
  }
  // `kgate collect` as a pipeline runs it, in a folder of its own.
  Run collect(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"collect", "--kubeconfig", cluster().kubeconfig(),
                                     "--report-dir", work_ + "/" + name};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = cluster().command(kgate_binary(), args, 60s);
    std::cout << "kgate collect (" << name << "), exit " << r.status << ":\n" << r.output;
    return {r.status, r.output};
  }
  // The gate's shell of a CI template (ci/github/kgate.yml's step, ci/gitlab's script entry
  // that runs `kgate collect`), extracted by tests/ci/check_ci.py and run as written with bash:
  // `kgate` and `helm` on the PATH as a pipeline has them, the template's variables set.
  Run ci_gate(const std::string& which, const std::string& name) {
    const std::string source = std::getenv("KGATE_SOURCE_DIR");
    const std::string bin = work_ + "/bin", script = work_ + "/" + name + ".sh";
    fs::create_directories(bin);
    std::error_code ec;
    fs::create_symlink(kgate_binary(), bin + "/kgate", ec);
    fs::create_symlink(helm_binary(), bin + "/helm", ec);
    kgate::ProcessSpec extract;
    extract.program = "python3";
    extract.args = {source + "/tests/ci/check_ci.py", "extract", which};
    extract.log_path = script;
    kgate::ChildProcess x(extract);
    if (x.wait(30s).value_or(-1) != 0) return {-1, "cannot extract: " + read_file(script)};
    kgate::ProcessSpec spec;
    spec.program = "bash";
    spec.args = {script};
    spec.workdir = work_;
    spec.env_set = cluster().tool_env();
    spec.env_set["PATH"] = bin + ":" + std::getenv("PATH");
    spec.env_set["RELEASE"] = kRelease;
    spec.env_set["NAMESPACE"] = kNs;
    spec.env_set["REPORT_DIR"] = work_ + "/" + name;
    spec.env_set["GITHUB_OUTPUT"] = work_ + "/" + name + ".github-output";
    spec.log_path = work_ + "/" + name + ".log";
    kgate::ChildProcess p(spec);
    auto status = p.wait(300s);
    if (!status) p.stop(SIGTERM, 5s);
    Run r{status.value_or(-1), read_file(spec.log_path)};
    std::cout << which << " template's gate (" << name << "), exit " << r.status << ":\n"
              << r.output.substr(r.output.size() > 1500 ? r.output.size() - 1500 : 0) << "\n";
    return r;
  }
  json results(const std::string& name) {
    return json::parse(read_file(work_ + "/" + name + "/results.json"), nullptr, false);
  }
  // The local values: one replica each, an in-memory database (the smoke suite's writes and
  // reads meet the same process), short graces. The images map by name to the built binaries.
  static std::vector<std::string> local_values() {
    return {"--set", "secrets.databaseUrl=sqlite::memory:",
            "--set", "postgresql.enabled=false",
            "--set", "backend.autoscaling.enabled=false",
            "--set", "frontend.autoscaling.enabled=false",
            "--set", "backend.replicaCount=1",
            "--set", "frontend.replicaCount=1",
            "--set", "backend.grace=2s",
            "--set", "frontend.grace=2s"};
  }
  std::set<std::string> pod_uids() {
    std::set<std::string> out;
    kgate::kube::ListOptions lo;
    lo.label_selector = kSelector + ",app.kubernetes.io/component=backend";
    for (const auto& p : api().list(res::pods, kNs, lo).value("items", json::array()))
      out.insert(p["metadata"].value("uid", ""));
    return out;
  }
  std::string backend_args() {
    auto d = api().get(res::deployments, kNs, "todo-backend");
    return d["spec"]["template"]["spec"]["containers"][0].dump();
  }
  // Waits for the rollout of the backend (the component whose values changed): one Ready
  // backend pod not in `old`, and the frontend Ready as it was.
  void wait_rolled(const std::set<std::string>& old) {
    auto r = kgate::wait_until(
        [&](std::string* why) {
          int fresh = 0, backend = 0, frontend = 0;
          for (const auto& p : kgate::testfw::ready_pods(api(), kNs, kSelector)) {
            const std::string component =
                p["metadata"]["labels"].value("app.kubernetes.io/component", "");
            if (component == "frontend") ++frontend;
            if (component != "backend") continue;
            ++backend;
            if (!old.count(p["metadata"].value("uid", ""))) ++fresh;
          }
          *why = std::to_string(fresh) + " new of " + std::to_string(backend) +
                 " ready backend pods, " + std::to_string(frontend) + " frontend";
          return fresh == 1 && backend == 1 && frontend == 1;
        },
        120s, 200ms);
    ASSERT_TRUE(r.ok) << r.last_error << "\nnode agent:\n" << cluster().log_tail("node-agent");
  }
  // The secret the chart generated, to prove it never reaches a log or a report.
  std::string auth_secret() {
    auto s = api().get(res::secrets, kNs, "todo-secrets");
    return s["data"].value("BETTER_AUTH_SECRET", "");  // base64: decoded below
  }

  static LocalCluster* cluster_;
  static std::string work_;
  static bool installed_, tested_;
};
LocalCluster* ReleaseClusterTest::cluster_ = nullptr;
std::string ReleaseClusterTest::work_;
bool ReleaseClusterTest::installed_ = false;
bool ReleaseClusterTest::tested_ = false;

std::string b64decode(const std::string& in) {
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    auto pos = chars.find(c);
    if (pos == std::string::npos) break;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

TEST_F(ReleaseClusterTest, InstallWithTheLocalValuesMakesEveryPodReady) {
  ASSERT_TRUE(fs::exists(helm_binary())) << helm_binary() << ": run scripts/install-helm.sh";
  const char* source = std::getenv("KGATE_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  api().create(res::namespaces, "",
               {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNs}}}});
  // Pods are admitted once the namespace's default service account exists.
  auto sa = kgate::wait_until(
      [&](std::string*) { return api().find(res::service_accounts, kNs, "default").has_value(); },
      30s);
  ASSERT_TRUE(sa.ok);
  std::vector<std::string> args = {"install",     kRelease, std::string(source) + "/chart/todo",
                                   "--namespace", kNs,      "--wait",
                                   "--timeout",   "180s"};
  for (auto& v : local_values()) args.push_back(v);
  auto r = helm(args);
  ASSERT_EQ(r.status, 0) << r.output << "\nnode agent:\n" << cluster().log_tail("node-agent");
  // Every pod of the release Ready: the backend and the frontend (no database: in memory).
  auto pods = wait_for_ready_pods(api(), kNs, kSelector, 2, 60s);
  std::set<std::string> components;
  for (const auto& p : pods)
    components.insert(p["metadata"]["labels"].value("app.kubernetes.io/component", ""));
  EXPECT_EQ(components, (std::set<std::string>{"backend", "frontend"}));
  installed_ = true;
}

// Before any `helm test`: no test pod, exit 3 saying so; no release given: a usage error.
TEST_F(ReleaseClusterTest, CollectWithoutATestPodOrARelease) {
  if (!installed_) GTEST_SKIP() << "the release is not installed";
  auto none = collect("none", {"--release", kRelease, "-n", kNs});
  EXPECT_EQ(none.status, 3) << none.output;
  EXPECT_NE(none.output.find("no helm test pod of release 'todo' in namespace 'release'"),
            std::string::npos)
      << none.output;
  EXPECT_FALSE(fs::exists(work_ + "/none/junit.xml"));
  auto usage = collect("usage", {"-n", kNs});
  EXPECT_EQ(usage.status, 2) << usage.output;
  auto unreachable = cluster().command(
      kgate_binary(), {"collect", "--release", kRelease, "--kubeconfig", work_ + "/missing"}, 30s);
  EXPECT_EQ(unreachable.status, 2) << unreachable.output;
  EXPECT_NE(unreachable.output.find(work_ + "/missing"), std::string::npos) << unreachable.output;
}

// `helm test` runs kgate in the hook pod: smoke, HTTP security and the live audit through the
// chart's read-only Role; the pod's log ends with the results block, `kgate collect` writes the
// reports here and exits with the gate's verdict. The hook pod and its log stay afterwards.
TEST_F(ReleaseClusterTest, HelmTestRunsKgateAndCollectWritesItsReports) {
  if (!installed_) GTEST_SKIP() << "the release is not installed";
  auto t0 = std::chrono::steady_clock::now();
  auto r = helm({"test", kRelease, "--namespace", kNs, "--timeout", "240s"}, 260s);
  std::cout << "helm test: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
  const std::string log = api().logs(kNs, "todo-kgate");
  EXPECT_EQ(r.status, 0) << r.output << "\ntest pod log:\n" << log;
  auto hook = api().get(res::pods, kNs, "todo-kgate");
  EXPECT_EQ(hook["status"].value("phase", ""), "Succeeded");
  ASSERT_FALSE(log.empty()) << "the hook pod's log must stay readable after it succeeded";
  EXPECT_TRUE(kgate::log_block::decode_last(log, "results").has_value())
      << log.substr(log.size() > 3000 ? log.size() - 3000 : 0);

  auto c = collect("pass", {"--release", kRelease, "--namespace", kNs});
  EXPECT_EQ(c.status, 0) << c.output;
  auto res = results("pass");
  ASSERT_TRUE(res.is_object()) << c.output;
  EXPECT_EQ(res.value("verdict", ""), "PASS");
  EXPECT_EQ(suites_of(res), (std::set<std::string>{"smoke", "security", "audit"}));
  EXPECT_TRUE(with_status(res, "failed").empty()) << res.dump(1).substr(0, 4000);
  EXPECT_TRUE(with_status(res, "error").empty());
  // The live audit read the release through the namespaced Role. ClusterRoleBindings are
  // cluster-wide, beyond it (by design: nothing cluster-wide for the test pod): the three rules
  // that need them say they cannot decide, and why; they do not pass silently.
  EXPECT_EQ(with_status(res, "inconclusive"),
            (std::set<std::string>{"audit.CrossObject.rbac-no-cluster-admin",
                                   "audit.CrossObject.rbac-no-wildcards",
                                   "audit.PodSecurity.automount-service-account-token"}));
  for (const auto& check : res["checks"]) {
    if (check.value("status", "") != "inconclusive") continue;
    EXPECT_NE(check.value("message", "").find("ClusterRoleBindings"), std::string::npos)
        << check.dump(1);
  }
  const std::string junit = read_file(work_ + "/pass/junit.xml");
  EXPECT_NE(junit.find("<testsuite name=\"audit\""), std::string::npos) << junit.substr(0, 500);
  EXPECT_NE(junit.find("failures=\"0\""), std::string::npos);
  EXPECT_NE(read_file(work_ + "/pass/report.html").find("<html"), std::string::npos);
  // The chart's generated secret reaches the pod, never its log nor the reports.
  const std::string secret = b64decode(auth_secret());
  ASSERT_GE(secret.size(), 32u);
  EXPECT_EQ(log.find(secret), std::string::npos) << "the auth secret in the test pod's log";
  for (const auto* f : {"junit.xml", "report.html", "results.json"})
    EXPECT_EQ(read_file(work_ + "/pass/" + f).find(secret), std::string::npos) << f;
  EXPECT_EQ(c.output.find(secret), std::string::npos);
  tested_ = true;
}

// The CI templates' gate, as written in them: helm test, then kgate collect; exit 0 and the
// reports where the templates publish them from.
TEST_F(ReleaseClusterTest, TheCiTemplatesGatePassAsWritten) {
  if (!tested_) GTEST_SKIP() << "helm test did not pass";
  for (const std::string which : {"github", "gitlab"}) {
    auto r = ci_gate(which, which + "-pass");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("kgate: gate passed"), std::string::npos) << r.output;
    for (const auto* f : {"junit.xml", "report.html", "results.json"})
      EXPECT_TRUE(fs::exists(work_ + "/" + which + "-pass/" + f)) << which << ": " << f;
  }
  EXPECT_EQ(read_file(work_ + "/github-pass.github-output"), "exit_code=0\n");
}

// An upgrade with a fault value (the backend's toggle answers 200 without toggling) rolls the
// pods; `helm test` fails and `kgate collect` exits 1 with a JUnit naming exactly that failure.
TEST_F(ReleaseClusterTest, AnUpgradeWithAFaultRollsThePodsAndFailsTheGate) {
  if (!tested_) GTEST_SKIP() << "no passing helm test to compare with";
  const char* source = std::getenv("KGATE_SOURCE_DIR");
  const auto before = pod_uids();
  std::vector<std::string> args = {"upgrade",     kRelease, std::string(source) + "/chart/todo",
                                   "--namespace", kNs,      "--wait",
                                   "--timeout",   "180s"};
  for (auto& v : local_values()) args.push_back(v);
  args.insert(args.end(), {"--set", "backend.faults={broken-toggle}"});
  auto up = helm(args);
  ASSERT_EQ(up.status, 0) << up.output;
  ASSERT_NO_FATAL_FAILURE(wait_rolled(before));
  EXPECT_NE(backend_args().find("broken-toggle"), std::string::npos) << backend_args();

  auto t = helm({"test", kRelease, "--namespace", kNs, "--timeout", "240s"}, 260s);
  EXPECT_NE(t.status, 0) << t.output;
  auto c = collect("fail", {"--release", kRelease, "--namespace", kNs});
  EXPECT_EQ(c.status, 1) << c.output;
  auto res = results("fail");
  ASSERT_TRUE(res.is_object()) << c.output;
  EXPECT_EQ(res.value("verdict", ""), "FAIL");
  EXPECT_EQ(with_status(res, "failed"), (std::set<std::string>{"smoke.Tasks.FullTaskFlow"}))
      << c.output;
  const std::string junit = read_file(work_ + "/fail/junit.xml");
  EXPECT_NE(junit.find("failures=\"1\""), std::string::npos) << junit.substr(0, 800);
  EXPECT_NE(junit.find("<failure"), std::string::npos);

  // The templates' gate fails the job on it, with the failure in the JUnit they publish.
  for (const std::string which : {"github", "gitlab"}) {
    auto g = ci_gate(which, which + "-fail");
    EXPECT_EQ(g.status, 1) << g.output;
    EXPECT_NE(g.output.find("the release gate failed"), std::string::npos) << g.output;
    EXPECT_NE(read_file(work_ + "/" + which + "-fail/junit.xml").find("<failure"),
              std::string::npos);
  }
  EXPECT_EQ(read_file(work_ + "/github-fail.github-output"), "exit_code=1\n");
}

// helm rollback to the first revision: the pods roll back to the values without the fault.
TEST_F(ReleaseClusterTest, RollbackRestoresThePreviousRevision) {
  if (!installed_) GTEST_SKIP() << "the release is not installed";
  const auto before = pod_uids();
  auto r = helm({"rollback", kRelease, "1", "--namespace", kNs, "--wait", "--timeout", "180s"});
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_NO_FATAL_FAILURE(wait_rolled(before));
  EXPECT_EQ(backend_args().find("broken-toggle"), std::string::npos) << backend_args();
  auto h = helm({"history", kRelease, "--namespace", kNs, "--output", "json"});
  ASSERT_EQ(h.status, 0) << h.output;
  auto history = json::parse(h.output, nullptr, false);
  ASSERT_TRUE(history.is_array()) << h.output;
  EXPECT_EQ(history.back().value("status", ""), "deployed");
  EXPECT_EQ(history.back().value("description", ""), "Rollback to 1");
}

// helm uninstall: no object of the release is left (checked through the API, kind by kind), the
// test pod's RBAC included, with one exception helm makes on purpose: a test hook with the
// before-hook-creation policy is not part of the release's manifest, so the test pod stays
// (its log is what `kgate collect` reads) until the namespace goes or someone deletes it.
TEST_F(ReleaseClusterTest, UninstallLeavesNoObjectOfTheRelease) {
  if (!installed_) GTEST_SKIP() << "the release is not installed";
  auto r = helm({"uninstall", kRelease, "--namespace", kNs, "--wait", "--timeout", "120s"}, 150s);
  ASSERT_EQ(r.status, 0) << r.output;
  const std::vector<std::pair<kgate::kube::ResourceType, std::string>> kinds = {
      {res::deployments, "Deployment"},
      {res::replica_sets, "ReplicaSet"},
      {res::services, "Service"},
      {res::config_maps, "ConfigMap"},
      {res::secrets, "Secret"},
      {res::service_accounts, "ServiceAccount"},
      {res::horizontal_pod_autoscalers, "HorizontalPodAutoscaler"},
      {kgate::kube::ResourceType{"policy", "v1", "poddisruptionbudgets", true},
       "PodDisruptionBudget"},
      {kgate::kube::ResourceType{"networking.k8s.io", "v1", "networkpolicies", true},
       "NetworkPolicy"},
      {kgate::kube::ResourceType{"rbac.authorization.k8s.io", "v1", "roles", true}, "Role"},
      {kgate::kube::ResourceType{"rbac.authorization.k8s.io", "v1", "rolebindings", true},
       "RoleBinding"},
      {res::pods, "Pod"},
  };
  // Pods terminate through their grace: wait for them; the rest is gone when helm returns.
  auto gone = kgate::wait_until(
      [&](std::string* why) {
        std::string left;
        for (const auto& [type, kind] : kinds) {
          kgate::kube::ListOptions lo;
          lo.label_selector = kSelector;
          for (const auto& o : api().list(type, kNs, lo).value("items", json::array()))
            left += " " + kind + "/" + o["metadata"].value("name", "");
        }
        // Helm's own release records are Secrets labelled owner=helm, name=<release>.
        kgate::kube::ListOptions helm_lo;
        helm_lo.label_selector = "owner=helm,name=" + kRelease;
        for (const auto& o : api().list(res::secrets, kNs, helm_lo).value("items", json::array()))
          left += " Secret/" + o["metadata"].value("name", "");
        *why = "left:" + left;
        return left == " Pod/todo-kgate";
      },
      60s, 250ms);
  EXPECT_TRUE(gone.ok) << gone.last_error;
  auto hook = api().get(res::pods, kNs, "todo-kgate");
  EXPECT_EQ(hook["metadata"]["annotations"].value("helm.sh/hook", ""), "test");
  api().remove(res::pods, kNs, "todo-kgate");
  api().remove(res::namespaces, "", kNs);
}

}  // namespace
