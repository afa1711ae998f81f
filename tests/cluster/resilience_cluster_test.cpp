// The resilience suite on the real control plane: the project's Helm chart installed by the real
// helm onto the local cluster (images mapped to the project's binaries, an external PostgreSQL
// started by the test), the namespace opened, and `kgate run --suites resilience` run as a user
// runs it. The hardened app passes; an app fault fails exactly the checks that catch it; a
// namespace without the opt-in label skips every disruptive check, saying why. One cluster.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <kgate/kube/client.hpp>
#include <kgate/process.hpp>
#include <kgate/wait.hpp>

#include "framework/local_cluster.hpp"
#include "framework/postgres.hpp"

namespace {

using namespace std::chrono_literals;
using kgate::testfw::LocalCluster;
using kgate::testfw::PostgresServer;
using nlohmann::json;
namespace fs = std::filesystem;
namespace res = kgate::kube::resources;

const std::string kNs = "res";
const kgate::kube::ResourceType kRoles{"rbac.authorization.k8s.io", "v1", "roles", true};
const kgate::kube::ResourceType kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings",
                                              true};
const kgate::kube::ResourceType kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles",
                                              false};
const kgate::kube::ResourceType kClusterRoleBindings{"rbac.authorization.k8s.io", "v1",
                                                     "clusterrolebindings", false};
const std::string kSecret = "resilience-test-signing-secret-0123456789abcdef";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

class ResilienceClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new LocalCluster();
    std::cout << "local cluster ready in " << cluster_->startup_time().count() << " ms\n";
    // Started from the cluster's network namespace: the pods (the node's network) reach it.
    pg_ = new PostgresServer("todo");
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete cluster_;
  }
  LocalCluster& cluster() { return *cluster_; }
  kgate::kube::Client& api() { return cluster_->client(); }

  LocalCluster::Result helm(const std::vector<std::string>& args) {
    return cluster().command(kgate::testfw::helm_binary(), args, 240s);
  }

  // Installs (or upgrades to) the chart with the local cluster's values and `extra` --set's.
  void install(const std::vector<std::string>& extra) {
    const std::string source = env_or("KGATE_SOURCE_DIR", "");
    std::vector<std::string> args{"upgrade",     "--install", "todo",   source + "/chart/todo",
                                  "--namespace", kNs,         "--wait", "--timeout",
                                  "200s"};
    for (const auto& s :
         {std::string("postgresql.enabled=false"), "secrets.databaseUrl=" + pg_->url(),
          "secrets.betterAuthSecret=" + kSecret, std::string("backend.autoscaling.enabled=false"),
          std::string("frontend.autoscaling.enabled=false"), std::string("backend.replicaCount=2"),
          std::string("frontend.replicaCount=2"), std::string("backend.grace=2s"),
          std::string("frontend.grace=2s"), std::string("backend.probes.readiness.periodSeconds=1"),
          std::string("frontend.probes.readiness.periodSeconds=1"),
          std::string("backend.terminationGracePeriodSeconds=10"),
          std::string("frontend.terminationGracePeriodSeconds=10"),
          std::string("backend.pdb.enabled=true")}) {
      args.push_back("--set");
      args.push_back(s);
    }
    bool flag = false;  // "--set-string", "x=1" pass as they are
    for (const auto& s : extra) {
      if (!flag && s.rfind("--", 0) != 0) args.push_back("--set");
      flag = s.rfind("--", 0) == 0;
      args.push_back(s);
    }
    auto r = helm(args);
    ASSERT_EQ(r.status, 0) << r.output << "\nnode agent:\n" << cluster().log_tail("node-agent");
    kgate::testfw::wait_for_ready_pods(api(), kNs,
                                       "app.kubernetes.io/instance=todo,app.kubernetes.io/"
                                       "component=backend",
                                       2, 120s);
  }

  void label_namespace(bool allowed) {
    api().patch(res::namespaces, "", kNs,
                {{"metadata",
                  {{"labels", {{"kgate.io/disruption", allowed ? json("allowed") : json()}}}}}});
  }

  struct Outcome {
    int exit = -1;
    std::map<std::string, std::string> status;  // check id -> passed, failed, warning, ...
    std::map<std::string, std::string> message;
    json results;
    std::string log;
  };
  // kgate run --suites resilience against the release, as a user runs it.
  Outcome kgate_run(const std::string& name, const std::vector<std::string>& extra = {},
                    const std::string& kubeconfig = "") {
    const std::string dir = cluster().dir() + "/kgate-" + name;
    fs::create_directories(dir);
    const std::string backend = kgate::testfw::service_url(api(), kNs, "todo-backend");
    const std::string frontend = kgate::testfw::service_url(api(), kNs, "todo-frontend");
    std::ofstream(dir + "/kgate.yaml")
        << "target:\n  backend: " << backend << "\n  frontend: " << frontend
        << "\nkubernetes:\n  namespace: " << kNs << "\n  release: todo\n"
        << (kubeconfig.empty() ? "" : "  kubeconfig: " + kubeconfig + "\n")
        << "suites:\n  resilience:\n    baseline: 2s\n    rate: 50\n"
        << "    recovery: 2s\n"
        << "reports:\n  junit: " << dir << "/junit.xml\n  html: " << dir
        << "/report.html\n  json: " << dir << "/results.json\n";
    std::vector<std::string> args{"run", "--config", dir + "/kgate.yaml", "--suites", "resilience"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = cluster().command(kgate::testfw::kgate_binary(), args, 900s,
                               {{"BETTER_AUTH_SECRET", kSecret}});
    Outcome o;
    o.exit = r.status;
    o.log = r.output;
    try {
      o.results = json::parse(slurp(dir + "/results.json"));
      for (const auto& c : o.results["checks"]) {
        o.status[c.value("id", "")] = c.value("status", "");
        o.message[c.value("id", "")] = c.value("message", "");
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "no results.json: " << e.what() << "\n" << r.output;
    }
    std::cout << "kgate run (" << name << "): exit " << o.exit << "\n";
    for (const auto& [id, s] : o.status)
      std::cout << "  " << s << "  " << id << "  " << o.message[id].substr(0, 300) << "\n";
    return o;
  }

  // The same run, started and left running (for Ctrl-C).
  std::unique_ptr<kgate::ChildProcess> kgate_start(const std::string& name,
                                                   const std::vector<std::string>& extra) {
    const std::string dir = cluster().dir() + "/kgate-" + name;
    fs::create_directories(dir);
    const std::string backend = kgate::testfw::service_url(api(), kNs, "todo-backend");
    std::ofstream(dir + "/kgate.yaml")
        << "target:\n  backend: " << backend << "\nkubernetes:\n  namespace: " << kNs
        << "\n  release: todo\n"
        << "reports:\n  json: " << dir << "/results.json\n  junit: " << dir
        << "/junit.xml\n  html: " << dir << "/report.html\n";
    kgate::ProcessSpec spec;
    spec.program = kgate::testfw::kgate_binary();
    spec.args = {"run", "--config", dir + "/kgate.yaml", "--suites", "resilience"};
    spec.args.insert(spec.args.end(), extra.begin(), extra.end());
    spec.env_set["KUBECONFIG"] = cluster().kubeconfig();
    spec.env_set["BETTER_AUTH_SECRET"] = kSecret;
    spec.log_path = dir + "/kgate.log";
    return std::make_unique<kgate::ChildProcess>(spec);
  }

  // A check's recorded figure (NaN when it was not recorded).
  static double figure(const Outcome& o, const std::string& id, const std::string& name) {
    for (const auto& c : o.results.value("checks", json::array()))
      if (c.value("id", "") == id)
        for (const auto& m : c.value("scalars", json::array()))
          if (m.value("name", "") == name) return m.value("value", 0.0);
    return std::nan("");
  }

  static std::set<std::string> with(const Outcome& o, const std::string& status) {
    std::set<std::string> out;
    for (const auto& [id, s] : o.status)
      if (s == status) out.insert(id);
    return out;
  }

  // A kubeconfig for `user` (a certificate from the cluster's CA, no group), bound in the test
  // namespace to a Role with `rules` only.
  std::string kubeconfig_for(const std::string& user, const json& rules) {
    const std::string pki = cluster().dir() + "/pki", base = cluster().dir() + "/" + user;
    const std::string cmd =
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + base +
        ".key -out " + base + ".csr -subj /CN=" + user + " 2>/dev/null && openssl x509 -req -in " +
        base + ".csr -CA " + pki + "/ca.crt -CAkey " + pki + "/ca.key -CAcreateserial -days 1 " +
        "-out " + base + ".crt 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    fs::copy_file(cluster().kubeconfig(), base + ".kubeconfig",
                  fs::copy_options::overwrite_existing);
    auto r = cluster().command("/usr/bin/kubectl",
                               {"--kubeconfig", base + ".kubeconfig", "config", "set-credentials",
                                "admin", "--client-certificate", base + ".crt", "--client-key",
                                base + ".key", "--embed-certs=true"},
                               30s);
    EXPECT_EQ(r.status, 0) << r.output;
    api().create(kRoles, kNs,
                 {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                  {"kind", "Role"},
                  {"metadata", {{"name", user}}},
                  {"rules", rules}});
    api().create(
        kRoleBindings, kNs,
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "RoleBinding"},
         {"metadata", {{"name", user}}},
         {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", user}}},
         {"subjects", {{{"kind", "User"}, {"name", user}}}}});
    // The namespace's opt-in label is read with a cluster-scoped get.
    api().create(
        kClusterRoles, "",
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "ClusterRole"},
         {"metadata", {{"name", user}}},
         {"rules", {{{"apiGroups", {""}}, {"resources", {"namespaces"}}, {"verbs", {"get"}}}}}});
    api().create(
        kClusterRoleBindings, "",
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "ClusterRoleBinding"},
         {"metadata", {{"name", user}}},
         {"roleRef",
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", user}}},
         {"subjects", {{{"kind", "User"}, {"name", user}}}}});
    return base + ".kubeconfig";
  }

  // Nothing of kgate's left: the Deployments as helm left them, no restart annotation.
  void expect_restored() {
    for (const char* d : {"todo-backend", "todo-frontend"}) {
      const json dep = api().get(res::deployments, kNs, d);
      EXPECT_EQ(dep["spec"].value("replicas", 0), 2) << d;
      const auto ann = dep["spec"]["template"]["metadata"].value("annotations", json::object());
      EXPECT_FALSE(ann.contains("kubectl.kubernetes.io/restartedAt")) << d << ": " << ann.dump();
    }
  }

  static LocalCluster* cluster_;
  static PostgresServer* pg_;
};
LocalCluster* ResilienceClusterTest::cluster_ = nullptr;
PostgresServer* ResilienceClusterTest::pg_ = nullptr;

const std::set<std::string> kDisruptive{
    "resilience.PodDelete.Backend",      "resilience.PodDelete.Frontend",
    "resilience.PodDelete.AllBackend",   "resilience.Eviction.Budget",
    "resilience.Rollout.Restart",        "resilience.State.Persists",
    "resilience.Probes.ReadinessHonest", "resilience.Scaling.Manual"};

const std::set<std::string> kLyingReadinessFails{
    "resilience.PodDelete.Backend", "resilience.Rollout.Restart",
    "resilience.Probes.ReadinessHonest", "resilience.Scaling.Manual"};

TEST_F(ResilienceClusterTest, TheSuiteOnTheProjectsChart) {
  api().create(res::namespaces, "",
               {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNs}}}});
  ASSERT_NO_FATAL_FAILURE(install({}));

  // Not opened: every disruptive check skips, saying why; nothing is touched.
  {
    auto o = kgate_run("closed");
    EXPECT_EQ(with(o, "skipped"), kDisruptive);
    for (const auto& id : kDisruptive)
      EXPECT_NE(o.message[id].find("kgate.io/disruption=allowed"), std::string::npos)
          << id << ": " << o.message[id];
    expect_restored();
  }

  label_namespace(true);
  // A dry run: every disruptive check says exactly what it would do, and nothing changes.
  {
    auto uids = [&] {
      std::set<std::string> out;
      const json pods = api().list(res::pods, kNs);
      for (const auto& p : pods["items"]) out.insert(p["metadata"].value("uid", ""));
      return out;
    };
    const auto before = uids();
    auto o = kgate_run("dry-run", {"--dry-run"});
    EXPECT_EQ(o.exit, 0) << o.log;
    EXPECT_EQ(with(o, "skipped"), kDisruptive);
    for (const auto& id : kDisruptive)
      EXPECT_NE(o.message[id].find("dry run, nothing changed: would "), std::string::npos)
          << id << ": " << o.message[id];
    EXPECT_NE(o.message["resilience.PodDelete.Backend"].find("would delete pod/todo-backend-"),
              std::string::npos);
    EXPECT_NE(o.message["resilience.Rollout.Restart"].find(
                  "would restart deployment/todo-backend in namespace " + kNs),
              std::string::npos);
    EXPECT_NE(o.message["resilience.Eviction.Budget"].find("would evict pod/todo-backend-"),
              std::string::npos);
    EXPECT_EQ(uids(), before) << "a dry run deleted or replaced a pod";
    expect_restored();
  }

  // Read-only RBAC: kgate finds and watches the release, and each disruption it may not make
  // is an error naming the verb, the resource and the namespace; nothing changes.
  {
    const json read = {"get", "list", "watch"};
    const json rules = {
        {{"apiGroups", {""}},
         {"resources", {"pods", "services", "events", "endpoints"}},
         {"verbs", read}},
        {{"apiGroups", {"apps"}}, {"resources", {"deployments", "replicasets"}}, {"verbs", read}},
        {{"apiGroups", {"discovery.k8s.io"}}, {"resources", {"endpointslices"}}, {"verbs", read}},
        {{"apiGroups", {"autoscaling"}},
         {"resources", {"horizontalpodautoscalers"}},
         {"verbs", read}},
        {{"apiGroups", {"policy"}}, {"resources", {"poddisruptionbudgets"}}, {"verbs", read}},
        {{"apiGroups", {"networking.k8s.io"}}, {"resources", {"ingresses"}}, {"verbs", read}}};
    const auto kubeconfig = kubeconfig_for("kgate-reader", rules);
    auto o = kgate_run(
        "read-only",
        {"--filter", "resilience.PodDelete.Backend", "--filter", "resilience.Rollout.Restart"},
        kubeconfig);
    EXPECT_EQ(o.exit, 1) << o.log;
    EXPECT_EQ(with(o, "error"), (std::set<std::string>{"resilience.PodDelete.Backend",
                                                       "resilience.Rollout.Restart"}));
    EXPECT_NE(o.message["resilience.PodDelete.Backend"].find(
                  "forbidden: kgate may not delete pods in namespace \"" + kNs + "\""),
              std::string::npos)
        << o.message["resilience.PodDelete.Backend"];
    EXPECT_NE(o.message["resilience.Rollout.Restart"].find(
                  "forbidden: kgate may not patch deployments in namespace \"" + kNs + "\""),
              std::string::npos)
        << o.message["resilience.Rollout.Restart"];
    expect_restored();
  }

  // The hardened app on the chart as it is: every check passes.
  {
    auto o = kgate_run("pass");
    // The figures docs/resilience.md quotes.
    for (const auto& c : o.results["checks"])
      for (const auto& m : c.value("scalars", json::array()))
        for (const char* k :
             {"replacement_ready", "availability", "recovery_time", "failed", "outage", "rollout",
              "scale_to_ready", "new_pod_ready", "p99", "baseline.p99", "requests", "evicted"})
          if (m.value("name", "") == k)
            std::cout << "    " << c.value("id", "") << " " << k << " = " << m["value"].dump()
                      << " " << m.value("unit", "") << "\n";
    EXPECT_EQ(o.exit, 0) << o.log.substr(o.log.size() > 6000 ? o.log.size() - 6000 : 0);
    EXPECT_EQ(with(o, "passed"), kDisruptive);
    EXPECT_EQ(figure(o, "resilience.State.Persists", "conversations_lost"), 0);
    expect_restored();
  }

  // No graceful shutdown: pods dropping requests on SIGTERM fail the rollout restart, and every
  // check in which a pod terminates under traffic with an availability objective.
  {
    // Answers that take 500 ms (a database round trip, as real apps have) so that pods have
    // requests in flight when SIGTERM comes: with ~3 ms answers a pod often has none, and the
    // node agent's Service proxy retries refused connections on another endpoint.
    ASSERT_NO_FATAL_FAILURE(install({"backend.faults={no-graceful-shutdown,slow}",
                                     "backend.extraEnv[0].name=TODO_FAULT_SLOW_MS", "--set-string",
                                     "backend.extraEnv[0].value=500"}));
    auto o = kgate_run("no-graceful-shutdown");
    EXPECT_NE(o.exit, 0);
    // Every check in which a pod terminates under traffic and failed requests count: the rollout
    // and the scale back down (several pods each), and the deleted pod, whose in-flight
    // requests (sent just before the delete) are in its window. AllBackend has no availability
    // objective; in State.Persists nothing is in flight at the delete.
    EXPECT_EQ(with(o, "failed"),
              (std::set<std::string>{"resilience.PodDelete.Backend", "resilience.Rollout.Restart",
                                     "resilience.Scaling.Manual"}));
    EXPECT_NE(o.message["resilience.Rollout.Restart"].find("preStop"), std::string::npos);
    expect_restored();
  }

  // Readiness that lies (Ready while the API answers 503 for its first 10 s): every check in
  // which a new backend pod takes traffic while the lie lasts sees those 503s (AllBackend has no
  // availability SLO and State.Persists waits for the API before reading back).
  {
    ASSERT_NO_FATAL_FAILURE(install({"backend.faults={lying-readiness}",
                                     "backend.extraEnv[0].name=TODO_FAULT_WARMUP_MS",
                                     "--set-string", "backend.extraEnv[0].value=10000"}));
    auto o = kgate_run("lying-readiness");
    EXPECT_NE(o.exit, 0);
    EXPECT_EQ(with(o, "failed"), kLyingReadinessFails);
    expect_restored();
  }

  // State in process memory: lost when the pods are replaced.
  {
    ASSERT_NO_FATAL_FAILURE(install({"backend.faults={state-in-memory}"}));
    auto o = kgate_run("state-in-memory");
    EXPECT_NE(o.exit, 0);
    EXPECT_EQ(with(o, "failed"), std::set<std::string>{"resilience.State.Persists"});
    EXPECT_EQ(figure(o, "resilience.State.Persists", "conversations_lost"), 1)
        << o.message["resilience.State.Persists"];
    expect_restored();
  }

  // The chart with the PDB off: a warning, not a failure; the gate passes.
  {
    ASSERT_NO_FATAL_FAILURE(install({"backend.pdb.enabled=false"}));
    auto o = kgate_run("no-pdb", {"--filter", "resilience.Eviction.*"});
    EXPECT_EQ(o.exit, 0);
    EXPECT_EQ(with(o, "warning"), std::set<std::string>{"resilience.Eviction.Budget"});
    EXPECT_NE(o.message["resilience.Eviction.Budget"].find("no PodDisruptionBudget"),
              std::string::npos);
  }

  // Ctrl-C while the backend is scaled to 3: kgate puts it back to 2 and deletes what it made.
  {
    ASSERT_NO_FATAL_FAILURE(install({}));
    auto p = kgate_start("ctrl-c", {"--filter", "resilience.Scaling.*"});
    auto scaled = kgate::wait_until(
        [&](std::string* why) {
          const json d = api().get(res::deployments, kNs, "todo-backend");
          *why = "replicas " + std::to_string(d["spec"].value("replicas", 0));
          return d["spec"].value("replicas", 0) == 3;
        },
        120s, 100ms);
    ASSERT_TRUE(scaled.ok) << scaled.last_error;
    p->signal(SIGINT);
    auto status = p->wait(120s);
    ASSERT_TRUE(status.has_value()) << "kgate did not end after Ctrl-C";
    EXPECT_EQ(*status, 130);
    const std::string dir = cluster().dir() + "/kgate-ctrl-c";
    EXPECT_TRUE(fs::exists(dir + "/results.json")) << slurp(dir + "/kgate.log");
    const json d = api().get(res::deployments, kNs, "todo-backend");
    EXPECT_EQ(d["spec"].value("replicas", 0), 2) << slurp(dir + "/kgate.log");
  }

  // Nothing kgate wrote is left in the database: every run deleted its tasks.
  EXPECT_EQ(pg_->query_value("SELECT count(*) FROM tasks"), "0");
}

}  // namespace
