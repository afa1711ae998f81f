#include "kgate/kube/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace kgate::kube {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Credentials that must never appear in an error message. The key is arbitrary PEM-looking text:
// the loader only transports PEM, it does not parse it.
constexpr const char* kToken = "s3cr3t-token-7f2a9c1e";
constexpr const char* kCertPem =
    "-----BEGIN CERTIFICATE-----\nQ0VSVElGSUNBVEUtZm9yLXRlc3Rz\n-----END CERTIFICATE-----\n";
constexpr const char* kKeyPem =
    "-----BEGIN PRIVATE KEY-----\nS0VZTUFURVJJQUwtOWQ4YzdiNmE=\n-----END PRIVATE KEY-----\n";
constexpr const char* kKeyMarker = "S0VZTUFURVJJQUwtOWQ4YzdiNmE=";
constexpr const char* kCaPem =
    "-----BEGIN CERTIFICATE-----\nQ0EtZm9yLXRlc3Rz\n-----END CERTIFICATE-----\n";

std::string b64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A kubeconfig with one context "ctx" -> cluster "c" + user "u"; extra user/cluster keys are
// spliced in (already indented by the caller).
std::string kubeconfig(const std::string& cluster_keys, const std::string& user_keys,
                       const std::string& context_keys = "",
                       const std::string& current = "current-context: ctx\n") {
  return "apiVersion: v1\nkind: Config\n" + current +
         "clusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n" + cluster_keys +
         "users:\n- name: u\n  user:\n" + user_keys +
         "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n" + context_keys;
}

class KubeConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "kgate-kube-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text, bool executable = false) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    if (executable) ::chmod(p.c_str(), 0755);
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Nothing from the real environment: no KUBECONFIG, an empty HOME, not in a cluster.
  LoadOptions options() const {
    LoadOptions o;
    o.kubeconfig_env = "";
    o.home = path("home");
    o.in_cluster_root = path("sa");
    o.service_host = "";
    o.service_port = "";
    o.pod_namespace = "";
    return o;
  }
  LoadOptions file_options(const std::string& file) const {
    LoadOptions o = options();
    o.kubeconfig = file;
    return o;
  }

  // The ConfigError message of f, checked to carry no credential.
  std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const ConfigError& e) {
      const std::string message = e.what();
      EXPECT_FALSE(contains(message, kToken)) << message;
      EXPECT_FALSE(contains(message, kKeyMarker)) << message;
      EXPECT_FALSE(contains(message, b64(kKeyPem))) << message;
      return message;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a ConfigError: " << e.what();
      return "";
    }
    ADD_FAILURE() << "no ConfigError";
    return "";
  }
  std::string load_error(const std::string& yaml) {
    const std::string file = write("config", yaml);
    return error_of([&] { load_kubeconfig(file_options(file)); });
  }

  fs::path dir_;
};

// --- kubeconfig ------------------------------------------------------------------------------

TEST_F(KubeConfig, StaticToken) {
  const std::string file =
      write("config", kubeconfig("", std::string("    token: ") + kToken + "\n"));
  ClusterConfig c = load_kubeconfig(file_options(file));
  EXPECT_EQ(c.server, "https://10.0.0.1:6443");
  EXPECT_EQ(c.token, kToken);
  EXPECT_TRUE(c.token_file.empty());
  EXPECT_EQ(c.namespace_name, "default");
  EXPECT_EQ(c.context_name, "ctx");
  EXPECT_EQ(c.cluster_name, "c");
  EXPECT_EQ(c.user_name, "u");
  EXPECT_EQ(c.source, file + " (context ctx)");
  EXPECT_TRUE(c.ca_pem.empty());
  EXPECT_FALSE(c.insecure_skip_tls_verify);
  EXPECT_FALSE(c.exec.has_value());
}

TEST_F(KubeConfig, ServerIsNormalized) {
  const std::string file = write("config",
                                 "current-context: x\n"
                                 "clusters:\n- name: c\n  cluster:\n    server: kind.local:6443/\n"
                                 "contexts:\n- name: x\n  context: {cluster: c}\n");
  ClusterConfig c = load_kubeconfig(file_options(file));
  EXPECT_EQ(c.server, "https://kind.local:6443") << "bare host:port means https, no trailing /";
  EXPECT_TRUE(c.user_name.empty()) << "a context without a user is anonymous";
}

TEST_F(KubeConfig, TokenFileResolvesAgainstTheKubeconfigFolder) {
  write("conf/tokens/t", std::string(kToken) + "\n");
  const std::string file = write("conf/config", kubeconfig("", "    tokenFile: tokens/t\n"));
  ClusterConfig c = load_kubeconfig(file_options(file));
  EXPECT_EQ(c.token_file, path("conf/tokens/t"));
  EXPECT_TRUE(c.token.empty()) << "the file is the one source of the token (rotation)";
  EXPECT_EQ(read_token_file(c.token_file), kToken) << "trimmed";

  // A token wins over tokenFile, whose file is then not even read (as client-go).
  const std::string both = write(
      "conf/both", kubeconfig("", std::string("    token: ") + kToken + "\n    tokenFile: nope\n"));
  EXPECT_EQ(load_kubeconfig(file_options(both)).token, kToken);
}

TEST_F(KubeConfig, MissingTokenFileNamesThePath) {
  const std::string msg = load_error(kubeconfig("", "    tokenFile: tokens/missing\n"));
  EXPECT_TRUE(contains(msg, path("config") + ":")) << msg;
  EXPECT_TRUE(contains(msg, "users[name=u].user.tokenFile")) << msg;
  EXPECT_TRUE(contains(msg, path("tokens/missing"))) << msg;
}

TEST_F(KubeConfig, ClientCertificateAndKeyAsData) {
  const std::string file =
      write("config", kubeconfig("", "    client-certificate-data: " + b64(kCertPem) +
                                         "\n    client-key-data: " + b64(kKeyPem) + "\n"));
  ClusterConfig c = load_kubeconfig(file_options(file));
  EXPECT_EQ(c.client_cert_pem, kCertPem);
  EXPECT_EQ(c.client_key_pem, kKeyPem);
  EXPECT_TRUE(c.token.empty());
}

TEST_F(KubeConfig, Base64MayBeFoldedOverLines) {
  const std::string data = b64(kCertPem);
  const std::string file =
      write("config", kubeconfig("", "    client-certificate-data: >-\n      " +
                                         data.substr(0, 20) + "\n      " + data.substr(20) +
                                         "\n    client-key-data: " + b64(kKeyPem) + "\n"));
  EXPECT_EQ(load_kubeconfig(file_options(file)).client_cert_pem, kCertPem);
}

TEST_F(KubeConfig, ClientCertificateAndKeyAsFiles) {
  write("conf/pki/client.crt", kCertPem);
  write("abs/client.key", kKeyPem);
  const std::string file =
      write("conf/config", kubeconfig("",
                                      "    client-certificate: pki/client.crt\n"
                                      "    client-key: " +
                                          path("abs/client.key") + "\n"));
  ClusterConfig c = load_kubeconfig(file_options(file));
  EXPECT_EQ(c.client_cert_pem, kCertPem);
  EXPECT_EQ(c.client_key_pem, kKeyPem);
}

TEST_F(KubeConfig, CertificateAuthorityAsDataAndAsFile) {
  const std::string data =
      write("data", kubeconfig("    certificate-authority-data: " + b64(kCaPem) + "\n", ""));
  EXPECT_EQ(load_kubeconfig(file_options(data)).ca_pem, kCaPem);

  write("conf/ca.crt", kCaPem);
  const std::string file =
      write("conf/config", kubeconfig("    certificate-authority: ca.crt\n", ""));
  EXPECT_EQ(load_kubeconfig(file_options(file)).ca_pem, kCaPem);
}

TEST_F(KubeConfig, InsecureSkipTlsVerifyAndTlsServerName) {
  const std::string file = write("config", kubeconfig("    insecure-skip-tls-verify: true\n"
                                                      "    tls-server-name: api.internal\n",
                                                      ""));
  ClusterConfig c = load_kubeconfig(file_options(file));
  EXPECT_TRUE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.tls_server_name, "api.internal");
  EXPECT_TRUE(c.ca_pem.empty());
}

TEST_F(KubeConfig, NamespaceFromTheContextElseDefault) {
  const std::string with = write("with", kubeconfig("", "", "    namespace: todo\n"));
  EXPECT_EQ(load_kubeconfig(file_options(with)).namespace_name, "todo");
  const std::string without = write("without", kubeconfig("", ""));
  EXPECT_EQ(load_kubeconfig(file_options(without)).namespace_name, "default");
}

TEST_F(KubeConfig, ContextOptionWinsOverCurrentContext) {
  const std::string file = write("config",
                                 "current-context: a\n"
                                 "clusters:\n"
                                 "- name: ca\n  cluster: {server: 'https://a:6443'}\n"
                                 "- name: cb\n  cluster: {server: 'https://b:6443'}\n"
                                 "contexts:\n"
                                 "- name: a\n  context: {cluster: ca, namespace: na}\n"
                                 "- name: b\n  context: {cluster: cb, namespace: nb}\n");
  LoadOptions o = file_options(file);
  ClusterConfig a = load_kubeconfig(o);
  EXPECT_EQ(a.context_name, "a");
  EXPECT_EQ(a.server, "https://a:6443");
  o.context = "b";
  ClusterConfig b = load_kubeconfig(o);
  EXPECT_EQ(b.context_name, "b");
  EXPECT_EQ(b.server, "https://b:6443");
  EXPECT_EQ(b.namespace_name, "nb");
  EXPECT_EQ(b.source, file + " (context b)");
}

TEST_F(KubeConfig, KubeconfigListMergesFirstWins) {
  // One: a context and the shared cluster, no current-context.
  const std::string one =
      write("one/config",
            "clusters:\n- name: shared\n  cluster:\n"
            "    server: https://first:6443\n"
            "    certificate-authority: ca.crt\n"
            "contexts:\n- name: first\n  context: {cluster: shared, user: u}\n");
  write("one/ca.crt", kCaPem);
  // Two: the user, its own version of the shared cluster and the current-context.
  const std::string two = write("two/config",
                                "current-context: first\n"
                                "clusters:\n- name: shared\n  cluster: {server: 'https://second'}\n"
                                "- name: only-two\n  cluster: {server: 'https://two:6443'}\n"
                                "users:\n- name: u\n  user: {tokenFile: token}\n"
                                "contexts:\n- name: first\n  context: {cluster: only-two}\n"
                                "- name: second\n  context: {cluster: only-two, user: u}\n");
  write("two/token", kToken);
  // Three: a later current-context that must lose.
  const std::string three = write("three/config", "current-context: second\n");

  LoadOptions o = options();
  o.kubeconfig_env = ":" + path("missing/config") + "::" + one + ":" + two + ":" + three + ":";
  ClusterConfig c = load_kubeconfig(o);
  EXPECT_EQ(c.context_name, "first") << "current-context from the first file that sets one";
  EXPECT_EQ(c.server, "https://first:6443") << "the first file's cluster wins";
  EXPECT_EQ(c.ca_pem, kCaPem) << "one's relative CA path resolves against one's folder";
  EXPECT_EQ(c.token_file, path("two/token")) << "two's relative path against two's folder";
  EXPECT_EQ(c.source, one + " (context first)");

  o.context = "second";
  ClusterConfig second = load_kubeconfig(o);
  EXPECT_EQ(second.server, "https://two:6443");
}

TEST_F(KubeConfig, ExplicitKubeconfigWinsOverTheList) {
  const std::string listed =
      write("listed", kubeconfig("", std::string("    token: ") + kToken + "\n"));
  const std::string explicit_file = write("explicit",
                                          "current-context: e\n"
                                          "clusters:\n- name: c\n  cluster: {server: 'https://e'}\n"
                                          "contexts:\n- name: e\n  context: {cluster: c}\n");
  write("home/.kube/config", kubeconfig("", ""));
  LoadOptions o = options();
  o.kubeconfig_env = listed;
  EXPECT_EQ(load_kubeconfig(o).context_name, "ctx");
  o.kubeconfig = explicit_file;
  EXPECT_EQ(load_kubeconfig(o).context_name, "e");
  EXPECT_EQ(load_config(o).server, "https://e");
}

TEST_F(KubeConfig, HomeKubeconfigWhenNoList) {
  const std::string file = write("home/.kube/config", kubeconfig("", ""));
  ClusterConfig c = load_config(options());
  EXPECT_EQ(c.context_name, "ctx");
  EXPECT_EQ(c.source, file + " (context ctx)");
}

TEST_F(KubeConfig, ExecConfigIsRead) {
  const std::string file =
      write("conf/config", kubeconfig("",
                                      "    exec:\n"
                                      "      apiVersion: client.authentication.k8s.io/v1\n"
                                      "      command: bin/get-token\n"
                                      "      args: [--cluster, kind]\n"
                                      "      env:\n      - {name: A, value: '1'}\n"
                                      "      - {name: B, value: two words}\n"
                                      "      installHint: install get-token\n"
                                      "      provideClusterInfo: true\n"
                                      "      interactiveMode: Never\n"));
  ClusterConfig c = load_kubeconfig(file_options(file));
  ASSERT_TRUE(c.exec.has_value());
  EXPECT_EQ(c.exec->api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(c.exec->command, path("conf/bin/get-token")) << "a path with '/' is relative";
  EXPECT_EQ(c.exec->args, (std::vector<std::string>{"--cluster", "kind"}));
  ASSERT_EQ(c.exec->env.size(), 2u);
  EXPECT_EQ(c.exec->env[1], (std::pair<std::string, std::string>{"B", "two words"}));
  EXPECT_EQ(c.exec->install_hint, "install get-token");
  EXPECT_TRUE(c.exec->provide_cluster_info);
  EXPECT_EQ(c.exec->interactive_mode, "Never");

  const std::string path_based =
      write("conf/path", kubeconfig("",
                                    "    exec:\n"
                                    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                                    "      command: aws\n"));
  EXPECT_EQ(load_kubeconfig(file_options(path_based)).exec->command, "aws") << "left to PATH";
}

// --- in-cluster ------------------------------------------------------------------------------

class InCluster : public KubeConfig {
 protected:
  void SetUp() override {
    KubeConfig::SetUp();
    write("sa/token", std::string(kToken) + "\n");
    write("sa/ca.crt", kCaPem);
    write("sa/namespace", "todo-prod\n");
  }
  LoadOptions cluster_options(const std::string& host = "10.96.0.1") const {
    LoadOptions o = options();
    o.service_host = host;
    o.service_port = "443";
    return o;
  }
};

TEST_F(InCluster, ServiceAccount) {
  ClusterConfig c = in_cluster_config(cluster_options());
  EXPECT_EQ(c.server, "https://10.96.0.1:443");
  EXPECT_EQ(c.token_file, path("sa/token"));
  EXPECT_TRUE(c.token.empty()) << "re-read from token_file: the kubelet rotates it";
  EXPECT_EQ(c.ca_pem, kCaPem);
  EXPECT_EQ(c.namespace_name, "todo-prod");
  EXPECT_EQ(c.context_name, "");
  EXPECT_EQ(c.source, "in-cluster");
  EXPECT_FALSE(c.exec.has_value());
}

TEST_F(InCluster, Ipv6HostGetsBrackets) {
  EXPECT_EQ(in_cluster_config(cluster_options("fd00:10:96::1")).server,
            "https://[fd00:10:96::1]:443");
}

TEST_F(InCluster, NamespaceDefaultsAndPodNamespaceWins) {
  LoadOptions o = cluster_options();
  o.pod_namespace = "from-downward-api";
  EXPECT_EQ(in_cluster_config(o).namespace_name, "from-downward-api");
  fs::remove(path("sa/namespace"));
  EXPECT_EQ(in_cluster_config(cluster_options()).namespace_name, "default");
}

TEST_F(InCluster, LoadConfigFallsBackToInCluster) {
  EXPECT_EQ(load_config(cluster_options()).source, "in-cluster") << "no kubeconfig at all";

  // KUBECONFIG naming only missing or empty files is no kubeconfig either (as client-go).
  LoadOptions o = cluster_options();
  o.kubeconfig_env = path("missing") + ":" + write("empty", "");
  EXPECT_EQ(load_config(o).source, "in-cluster");

  // A kubeconfig, when there is one, wins.
  write("home/.kube/config", kubeconfig("", ""));
  EXPECT_EQ(load_config(cluster_options()).context_name, "ctx");
}

TEST_F(InCluster, NotInACluster) {
  LoadOptions o = cluster_options();
  o.service_port = "";
  std::string msg = error_of([&] { in_cluster_config(o); });
  EXPECT_TRUE(contains(msg, "not running in a Kubernetes cluster")) << msg;
  EXPECT_TRUE(contains(msg, "KUBERNETES_SERVICE_HOST")) << msg;

  msg = error_of([&] { load_config(o); });
  EXPECT_TRUE(contains(msg, "no kubeconfig found")) << msg;
  EXPECT_TRUE(contains(msg, path("home/.kube/config"))) << msg;
  EXPECT_TRUE(contains(msg, "not running in a cluster")) << msg;
}

TEST_F(InCluster, MissingServiceAccountFilesNameThePath) {
  fs::remove(path("sa/ca.crt"));
  std::string msg = error_of([&] { in_cluster_config(cluster_options()); });
  EXPECT_TRUE(contains(msg, path("sa/ca.crt"))) << msg;
  fs::remove(path("sa/token"));
  msg = error_of([&] { in_cluster_config(cluster_options()); });
  EXPECT_TRUE(contains(msg, path("sa/token"))) << msg;
  write("sa/token", " \n");
  msg = error_of([&] { in_cluster_config(cluster_options()); });
  EXPECT_TRUE(contains(msg, "is empty")) << msg;
}

// --- errors ----------------------------------------------------------------------------------

TEST_F(KubeConfig, YamlSyntaxErrorNamesFileLineAndColumn) {
  const std::string msg = load_error(std::string("users:\n- name: u\n  user:\n    token: ") +
                                     kToken + "\n    bad: [unclosed\n");
  EXPECT_EQ(msg.rfind("kubeconfig " + path("config") + ":6:1: invalid YAML", 0), 0u) << msg;
}

TEST_F(KubeConfig, WrongTypesNameTheKeyAndPosition) {
  EXPECT_EQ(load_error("clusters: nope\n"),
            "kubeconfig " + path("config") + ":1:11: clusters must be a list");
  EXPECT_EQ(load_error(kubeconfig("    insecure-skip-tls-verify: maybe\n", "")),
            "kubeconfig " + path("config") +
                ":8:31: clusters[name=c].cluster.insecure-skip-tls-verify must be true or false");
  std::string msg = load_error(kubeconfig("", "    token: [a, b]\n"));
  EXPECT_TRUE(contains(msg, ":11:12: users[name=u].user.token must be a string")) << msg;
  msg = load_error("contexts:\n- context: {cluster: c}\n");
  EXPECT_TRUE(contains(msg, ":2:3: contexts[0].name is missing")) << msg;
}

TEST_F(KubeConfig, DuplicateNameInOneFile) {
  const std::string msg = load_error(
      "clusters:\n- name: c\n  cluster: {server: 'https://a'}\n"
      "- name: c\n  cluster: {server: 'https://b'}\n");
  EXPECT_TRUE(contains(msg, ":4:3: clusters[1]: duplicate clusters name \"c\"")) << msg;
}

TEST_F(KubeConfig, ContextNotFoundListsTheContexts) {
  const std::string file =
      write("config", kubeconfig("", "") + "- name: other\n  context: {cluster: c}\n");
  LoadOptions o = file_options(file);
  o.context = "foo";
  EXPECT_EQ(error_of([&] { load_kubeconfig(o); }),
            "kubeconfig " + file + ": context \"foo\" not found (contexts: ctx, other)");

  const std::string stale = write("stale", kubeconfig("", "", "", "current-context: gone\n"));
  EXPECT_EQ(
      error_of([&] { load_kubeconfig(file_options(stale)); }),
      "kubeconfig " + stale + ": context \"gone\" (the current-context) not found (contexts: ctx)");
}

TEST_F(KubeConfig, NoCurrentContext) {
  const std::string msg = load_error(kubeconfig("", "", "", ""));
  EXPECT_EQ(msg, "kubeconfig " + path("config") +
                     ": no current-context set; pass --context (contexts: ctx)");
}

TEST_F(KubeConfig, UserOrClusterOfTheContextNotFound) {
  std::string msg = load_error(
      "current-context: ctx\n"
      "clusters:\n- name: c\n  cluster: {server: 'https://a'}\n"
      "users:\n- name: someone\n  user: {token: x}\n"
      "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n");
  EXPECT_EQ(msg, "kubeconfig " + path("config") +
                     ":12:11: user \"u\" for context \"ctx\" not found (users: someone)");
  msg = load_error(
      "current-context: ctx\n"
      "contexts:\n- name: ctx\n  context:\n    cluster: nowhere\n");
  EXPECT_EQ(msg, "kubeconfig " + path("config") +
                     ":5:14: cluster \"nowhere\" for context \"ctx\" not found (clusters: none "
                     "defined)");
  msg = load_error("current-context: ctx\ncontexts:\n- name: ctx\n  context: {user: u}\n");
  EXPECT_TRUE(contains(msg, "contexts[name=ctx].context.cluster is missing")) << msg;
  msg = load_error(
      "current-context: ctx\n"
      "clusters:\n- name: c\n  cluster: {tls-server-name: x}\n"
      "contexts:\n- name: ctx\n  context: {cluster: c}\n");
  EXPECT_TRUE(contains(msg, ":4:12: clusters[name=c].cluster.server is missing")) << msg;
}

TEST_F(KubeConfig, BadBase64NamesTheKeyNotTheValue) {
  const std::string bad_key = std::string(kToken) + "!!";
  const std::string msg =
      load_error(kubeconfig("", "    client-certificate-data: " + b64(kCertPem) +
                                    "\n    client-key-data: " + bad_key + "\n"));
  EXPECT_TRUE(contains(msg, "kubeconfig " + path("config") + ":12:22:")) << msg;
  EXPECT_TRUE(contains(msg, "users[name=u].user.client-key-data is not valid base64")) << msg;
}

TEST_F(KubeConfig, ClientCertificateWithoutKey) {
  std::string msg =
      load_error(kubeconfig("", "    client-certificate-data: " + b64(kCertPem) + "\n"));
  EXPECT_TRUE(contains(msg, "users[name=u].user: a client certificate is set without")) << msg;
  msg = load_error(kubeconfig("", "    client-key-data: " + b64(kKeyPem) + "\n"));
  EXPECT_TRUE(contains(msg, "a client key is set without")) << msg;
  msg = load_error(kubeconfig("", "    client-certificate-data: " + b64(kCertPem) +
                                      "\n    client-key-data: " + b64(kKeyPem) +
                                      "\n    client-key: key.pem\n"));
  EXPECT_TRUE(contains(msg, "client-key-data and client-key are both set")) << msg;
}

TEST_F(KubeConfig, UnreadableFilesNameThePath) {
  std::string msg = load_error(kubeconfig("    certificate-authority: pki/ca.crt\n", ""));
  EXPECT_TRUE(contains(
      msg, "clusters[name=c].cluster.certificate-authority: cannot read " + path("pki/ca.crt")))
      << msg;
  fs::create_directories(path("dir.crt"));
  msg = load_error(kubeconfig("", "    client-certificate: dir.crt\n    client-key: k.pem\n"));
  EXPECT_TRUE(contains(msg, "cannot read " + path("dir.crt") + ": Is a directory")) << msg;
}

TEST_F(KubeConfig, CaConflicts) {
  std::string msg =
      load_error(kubeconfig("    insecure-skip-tls-verify: true\n"
                            "    certificate-authority-data: " +
                                b64(kCaPem) + "\n",
                            ""));
  EXPECT_TRUE(contains(msg, "insecure-skip-tls-verify cannot be combined")) << msg;
  msg =
      load_error(kubeconfig("    certificate-authority: ca.crt\n"
                            "    certificate-authority-data: " +
                                b64(kCaPem) + "\n",
                            ""));
  EXPECT_TRUE(contains(msg, "certificate-authority-data and certificate-authority are both set"))
      << msg;
}

TEST_F(KubeConfig, UnsupportedAuthIsRefusedNotIgnored) {
  std::string msg = load_error(kubeconfig("", "    username: admin\n    password: hunter22\n"));
  EXPECT_TRUE(contains(msg, "basic authentication")) << msg;
  EXPECT_FALSE(contains(msg, "hunter22")) << msg;
  msg = load_error(kubeconfig("", "    auth-provider: {name: gcp}\n"));
  EXPECT_TRUE(contains(msg, "users[name=u].user.auth-provider is not supported")) << msg;
  msg = load_error(kubeconfig("", std::string("    token: ") + kToken + "\n    as: admin\n"));
  EXPECT_TRUE(contains(msg, "users[name=u].user.as: impersonation is not supported")) << msg;
}

TEST_F(KubeConfig, BadExecConfig) {
  std::string msg = load_error(kubeconfig("", "    exec: {command: x}\n"));
  EXPECT_TRUE(contains(msg, "users[name=u].user.exec.apiVersion is missing")) << msg;
  msg = load_error(kubeconfig(
      "", "    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}\n"));
  EXPECT_TRUE(contains(msg,
                       "exec.apiVersion \"client.authentication.k8s.io/v1alpha1\" is not "
                       "supported"))
      << msg;
  msg = load_error(kubeconfig("", "    exec: {apiVersion: client.authentication.k8s.io/v1}\n"));
  EXPECT_TRUE(contains(msg, "users[name=u].user.exec.command is missing")) << msg;
  msg = load_error(kubeconfig("",
                              "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                              "      command: x\n      env: [{value: v}]\n"));
  EXPECT_TRUE(contains(msg, "users[name=u].user.exec.env: an entry has no name")) << msg;
}

TEST_F(KubeConfig, MissingKubeconfigs) {
  LoadOptions o = options();
  o.kubeconfig = path("nope/config");
  o.kubeconfig_env = write("listed", kubeconfig("", ""));
  std::string msg = error_of([&] { load_config(o); });
  EXPECT_EQ(msg, "kubeconfig " + path("nope/config") + ": cannot read: No such file or directory")
      << "--kubeconfig must exist, even when KUBECONFIG has one";

  msg = error_of([&] { load_kubeconfig(options()); });
  EXPECT_EQ(msg, "no kubeconfig found (looked at " + path("home/.kube/config") + ")");

  // Asking for a context means asking for a kubeconfig: no silent in-cluster fallback.
  LoadOptions ctx = options();
  ctx.context = "prod";
  ctx.service_host = "10.0.0.1";
  ctx.service_port = "443";
  msg = error_of([&] { load_config(ctx); });
  EXPECT_TRUE(contains(msg, "no kubeconfig found")) << msg;
}

TEST(KubeConfigText, ParsedAsIfFromTheNamedFile) {
  const ClusterConfig c =
      parse_kubeconfig(kubeconfig("", "    token: from-text-token\n"), "/nonexistent/kgate/config");
  EXPECT_EQ(c.server, "https://10.0.0.1:6443");
  EXPECT_EQ(c.token, "from-text-token");
  EXPECT_EQ(c.context_name, "ctx");
  EXPECT_EQ(c.source, "/nonexistent/kgate/config (context ctx)");
  try {
    parse_kubeconfig(kubeconfig("", "    token: t\n"), "/nonexistent/kgate/config", "other");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "/nonexistent/kgate/config: context \"other\" not found"))
        << e.what();
  }
}

// --- exec plugin -----------------------------------------------------------------------------

constexpr const char* kV1 = "client.authentication.k8s.io/v1";
constexpr const char* kV1beta1 = "client.authentication.k8s.io/v1beta1";

class ExecPlugin : public KubeConfig {
 protected:
  // A /bin/sh plugin; `body` runs after the shebang.
  ExecConfig plugin(const std::string& name, const std::string& body,
                    const std::string& api = kV1) {
    ExecConfig e;
    e.api_version = api;
    e.command = write("bin/" + name, "#!/bin/sh\n" + body, true);
    e.install_hint = "install " + name + " from the test";
    return e;
  }
  static std::string credential(const std::string& api, const std::string& status) {
    return "cat <<'EOF'\n{\"apiVersion\": \"" + api + "\", \"kind\": \"ExecCredential\", " +
           "\"status\": " + status + "}\nEOF\n";
  }
  ClusterConfig cluster_ = [] {
    ClusterConfig c;
    c.server = "https://10.0.0.1:6443";
    c.ca_pem = kCaPem;
    c.tls_server_name = "api.internal";
    c.source = "/kube/config (context ctx)";
    return c;
  }();
};

TEST_F(ExecPlugin, V1TokenWithExpiry) {
  ExecConfig e = plugin("v1", credential(kV1, std::string("{\"token\": \"") + kToken +
                                                  "\", \"expirationTimestamp\": "
                                                  "\"2030-01-02T03:04:05Z\"}"));
  ExecCredential cred = run_exec_plugin(e, cluster_, 5s);
  EXPECT_EQ(cred.token, kToken);
  EXPECT_TRUE(cred.client_cert_pem.empty());
  ASSERT_TRUE(cred.expires.has_value());
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::seconds>(cred.expires->time_since_epoch()).count(),
      1893553445);
}

TEST_F(ExecPlugin, V1beta1CertificateAndKeyWithOffsetExpiry) {
  nlohmann::json status = {{"clientCertificateData", kCertPem},
                           {"clientKeyData", kKeyPem},
                           {"expirationTimestamp", "2030-01-02T05:04:05.250+02:00"}};
  ExecConfig e = plugin("v1beta1", credential(kV1beta1, status.dump()), kV1beta1);
  ExecCredential cred = run_exec_plugin(e, cluster_, 5s);
  EXPECT_TRUE(cred.token.empty());
  EXPECT_EQ(cred.client_cert_pem, kCertPem);
  EXPECT_EQ(cred.client_key_pem, kKeyPem);
  ASSERT_TRUE(cred.expires.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(cred.expires->time_since_epoch())
                .count(),
            1893553445250);
}

TEST_F(ExecPlugin, ExecInfoEnvironmentArgsAndStdin) {
  ::setenv("KGATE_KUBE_TEST_INHERITED", "inherited", 1);
  ::setenv("KGATE_KUBE_TEST_OVERRIDE", "old", 1);
  const std::string out = path("seen");
  ExecConfig e =
      plugin("env",
             "[ -t 0 ] && exit 3\n"
             "if read -r line; then exit 4; fi\n"  // stdin is /dev/null
             "printf '%s' \"$KUBERNETES_EXEC_INFO\" > " +
                 out +
                 ".json\n"
                 "printf '%s|%s|%s|%s' \"$KGATE_KUBE_TEST_INHERITED\" "
                 "\"$KGATE_KUBE_TEST_OVERRIDE\" \"$KGATE_KUBE_TEST_ADDED\" \"$*\" > " +
                 out + ".env\n" + credential(kV1, std::string("{\"token\": \"") + kToken + "\"}"));
  e.args = {"--flag", "two words"};
  e.env = {{"KGATE_KUBE_TEST_OVERRIDE", "new"}, {"KGATE_KUBE_TEST_ADDED", "added value"}};
  e.provide_cluster_info = true;
  EXPECT_EQ(run_exec_plugin(e, cluster_, 5s).token, kToken);
  ::unsetenv("KGATE_KUBE_TEST_INHERITED");
  ::unsetenv("KGATE_KUBE_TEST_OVERRIDE");

  std::stringstream env_seen;
  env_seen << std::ifstream(out + ".env").rdbuf();
  EXPECT_EQ(env_seen.str(), "inherited|new|added value|--flag two words");

  std::stringstream info_text;
  info_text << std::ifstream(out + ".json").rdbuf();
  auto info = nlohmann::json::parse(info_text.str());
  EXPECT_EQ(info["apiVersion"], kV1);
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://10.0.0.1:6443");
  EXPECT_EQ(info["spec"]["cluster"]["tls-server-name"], "api.internal");
  EXPECT_EQ(info["spec"]["cluster"]["certificate-authority-data"], b64(kCaPem));
  EXPECT_FALSE(info["spec"]["cluster"].contains("insecure-skip-tls-verify"));

  // Without provideClusterInfo the cluster stays out of KUBERNETES_EXEC_INFO.
  e.provide_cluster_info = false;
  run_exec_plugin(e, cluster_, 5s);
  std::stringstream bare;
  bare << std::ifstream(out + ".json").rdbuf();
  EXPECT_FALSE(nlohmann::json::parse(bare.str())["spec"].contains("cluster")) << bare.str();
}

TEST_F(ExecPlugin, FailureCarriesStderrAndInstallHint) {
  ExecConfig e = plugin("fail", "echo 'error: no credentials for profile dev' >&2\nexit 1\n");
  e.args = {std::string("--token=") + kToken};  // args may hold secrets: never in the message
  const std::string msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "exec plugin \"" + e.command + "\" (/kube/config (context ctx))"))
      << msg;
  EXPECT_TRUE(contains(msg, "failed with exit code 1")) << msg;
  EXPECT_TRUE(contains(msg, "stderr: error: no credentials for profile dev")) << msg;
  EXPECT_TRUE(contains(msg, "install hint: install fail from the test")) << msg;
}

TEST_F(ExecPlugin, TimeoutKillsThePlugin) {
  ExecConfig e = plugin("slow", "echo waiting >&2\nsleep 30\n");
  const auto started = std::chrono::steady_clock::now();
  const std::string msg = error_of([&] { run_exec_plugin(e, cluster_, 300ms); });
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(contains(msg, "did not finish within 300 ms (killed)")) << msg;
  EXPECT_TRUE(contains(msg, "stderr: waiting")) << msg;
  EXPECT_LT(took, 3s) << "the sleeping child of the shell must not hold us";
}

TEST_F(ExecPlugin, WrongApiVersionOrKind) {
  ExecConfig e =
      plugin("old", credential(kV1beta1, std::string("{\"token\": \"") + kToken + "\"}"));
  std::string msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg,
                       "printed apiVersion \"client.authentication.k8s.io/v1beta1\" but is "
                       "configured for \"client.authentication.k8s.io/v1\""))
      << msg;
  e = plugin("kind",
             "echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": "
             "\"Status\"}'\n");
  msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "printed kind \"Status\", expected ExecCredential")) << msg;
}

TEST_F(ExecPlugin, BadOutputNeverQuotesTheCredential) {
  // Truncated JSON right after the token: a parser message would quote it.
  ExecConfig e = plugin("truncated", std::string("printf '{\"apiVersion\": \"") + kV1 +
                                         "\", \"status\": {\"token\": \"" + kToken + "'\n");
  std::string msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "did not print a JSON ExecCredential object")) << msg;

  e = plugin("nothing", "true\n");
  msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "printed nothing")) << msg;

  e = plugin("half", credential(kV1, nlohmann::json({{"clientKeyData", kKeyPem}}).dump()));
  msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "returned only one of")) << msg;

  e = plugin("empty", credential(kV1, "{}"));
  msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "did not return a token or a client certificate and key")) << msg;

  e = plugin("expiry", credential(kV1, std::string("{\"token\": \"") + kToken +
                                           "\", \"expirationTimestamp\": \"tomorrow\"}"));
  msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "status.expirationTimestamp \"tomorrow\" is not an RFC 3339 time"))
      << msg;
}

TEST_F(ExecPlugin, StderrIsRedacted) {
  // A plugin that echoes the token it found on stderr before failing.
  ExecConfig e = plugin("leaky", std::string("echo 'got ") + kToken + "' >&2\nexit 2\n");
  EXPECT_EQ(read_token_file(write("t", kToken)), kToken);  // registers the token as a secret
  const std::string msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "stderr: got [REDACTED]")) << msg;
}

TEST_F(ExecPlugin, CommandNotFoundAndInteractiveAlways) {
  ExecConfig e;
  e.api_version = kV1;
  e.command = "kgate-no-such-credential-plugin";
  e.install_hint = "brew install it";
  std::string msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "exec plugin \"kgate-no-such-credential-plugin\"")) << msg;
  EXPECT_TRUE(contains(msg, "executable not found; install hint: brew install it")) << msg;

  e = plugin("interactive", credential(kV1, "{\"token\": \"abcd\"}"));
  e.interactive_mode = "Always";
  msg = error_of([&] { run_exec_plugin(e, cluster_, 5s); });
  EXPECT_TRUE(contains(msg, "interactiveMode is Always")) << msg;
}

}  // namespace
}  // namespace kgate::kube
