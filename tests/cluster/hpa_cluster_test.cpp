// The HPA suite on the real control plane: the project's Helm chart with its backend HPA
// (minReplicas 1) installed by the real helm onto the local cluster (images mapped to the
// project's binaries, PostgreSQL started by the test), and `kgate run --suites hpa` run as a
// user runs it. The real HPA controller scales on the CPU the node agent reads from /proc. The
// chart as it is passes; each fault fails exactly the checks that exist to catch it. One cluster.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

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

const std::string kNs = "hpa";
const std::string kSecret = "hpa-test-signing-secret-0123456789abcdef0123";

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Under AddressSanitizer every process of the story (the app, the node agent, kgate) costs
// several times its CPU and the machine runs another cluster test beside this one: the pods'
// CPU falls back more slowly after the load (the HPA still wanted 2 of 4 replicas at the
// computed 32 s in such a run). The computed scale-down budget is checked by the uninstrumented
// pass; the sanitized one gives the same story a fixed 60 s.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// The local cluster's controller settings (fixtures/local-cluster), which the API cannot tell.
const std::string kController =
    "    controller: {sync_period: 1s, downscale_stabilization: 15s, cpu_initialization: 10s, "
    "initial_readiness_delay: 5s}\n";

const std::set<std::string> kAll{"hpa.Preflight.Ready",     "hpa.Scaling.ScaleUp",
                                 "hpa.Scaling.NoFailures",  "hpa.Scaling.LatencyScaled",
                                 "hpa.Scaling.MaxReplicas", "hpa.Scaling.ScaleDown"};

class HpaClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new LocalCluster();
    std::cout << "local cluster ready in " << cluster_->startup_time().count() << " ms\n";
    pg_ = new PostgresServer("todo");
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete cluster_;
  }
  LocalCluster& cluster() { return *cluster_; }
  kgate::kube::Client& api() { return cluster_->client(); }

  // Installs (or upgrades to) the chart: the backend's HPA at minReplicas 1, maxReplicas 4 and
  // a small CPU request (a modest load is a large utilization), plus `extra` --set's. Waits for
  // the backend to be settled at one Ready pod, nothing terminating.
  void install(const std::vector<std::string>& extra) {
    const std::string source = env_or("KGATE_SOURCE_DIR", "");
    std::vector<std::string> args{"upgrade",     "--install", "todo",   source + "/chart/todo",
                                  "--namespace", kNs,         "--wait", "--timeout",
                                  "200s"};
    for (const auto& s :
         {std::string("postgresql.enabled=false"), "secrets.databaseUrl=" + pg_->url(),
          "secrets.betterAuthSecret=" + kSecret, std::string("frontend.autoscaling.enabled=false"),
          std::string("frontend.replicaCount=1"), std::string("backend.autoscaling.enabled=true"),
          std::string("backend.autoscaling.minReplicas=1"),
          std::string("backend.autoscaling.maxReplicas=4"),
          std::string("backend.resources.requests.cpu=20m"), std::string("backend.grace=1s"),
          std::string("backend.probes.readiness.periodSeconds=1"),
          std::string("backend.terminationGracePeriodSeconds=5"),
          std::string("backend.pdb.enabled=false")}) {
      args.push_back("--set");
      args.push_back(s);
    }
    for (const auto& s : extra) {
      args.push_back("--set");
      args.push_back(s);
    }
    auto r = cluster().command(kgate::testfw::helm_binary(), args, 240s);
    ASSERT_EQ(r.status, 0) << r.output << "\nnode agent:\n" << cluster().log_tail("node-agent");
    ASSERT_NO_FATAL_FAILURE(wait_settled());
  }

  // The backend settled at one Ready pod of its current template, nothing terminating.
  void wait_settled() {
    const std::string sel = "app.kubernetes.io/instance=todo,app.kubernetes.io/component=backend";
    auto settled = kgate::wait_until(
        [&](std::string* why) {
          const json d = api().get(res::deployments, kNs, "todo-backend");
          const json st = d.value("status", json::object());
          const int want = d["spec"].value("replicas", 1);
          kgate::kube::ListOptions lo;
          lo.label_selector = sel;
          int live = 0, ready = 0;
          const json pods = api().list(res::pods, kNs, lo);
          for (const auto& p : pods.value("items", json::array())) {
            ++live;  // a terminating pod counts too: it must be gone
            for (const auto& c : p["status"].value("conditions", json::array()))
              if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ++ready;
          }
          *why = "replicas " + std::to_string(want) + ", pods " + std::to_string(live) +
                 ", ready " + std::to_string(ready) + ", updated " +
                 std::to_string(st.value("updatedReplicas", 0));
          return want == 1 && live == 1 && ready == 1 && st.value("updatedReplicas", 0) == 1 &&
                 st.value("observedGeneration", 0) == d["metadata"].value("generation", 0);
        },
        180s, 200ms);
    ASSERT_TRUE(settled.ok) << "the backend did not settle at 1 replica: " << settled.last_error;
  }

  struct Outcome {
    int exit = -1;
    std::map<std::string, std::string> status, message;
    std::map<std::string, std::map<std::string, double>> figures;  // check -> name -> value
    std::map<std::string, std::map<std::string, std::string>> properties;
    json results;
    std::string log;
  };
  std::string write_config(const std::string& name, const std::string& hpa) {
    const std::string dir = cluster().dir() + "/kgate-" + name;
    fs::create_directories(dir);
    const std::string backend = kgate::testfw::service_url(api(), kNs, "todo-backend");
    std::ofstream(dir + "/kgate.yaml")
        << "target:\n  backend: " << backend << "\nkubernetes:\n  namespace: " << kNs
        << "\n  release: todo\nsuites:\n  hpa:\n"
        << kController << hpa << "reports:\n  junit: " << dir << "/junit.xml\n  html: " << dir
        << "/report.html\n  json: " << dir << "/results.json\n";
    return dir;
  }
  Outcome read_outcome(const std::string& name, const std::string& dir, int exit,
                       const std::string& log) {
    Outcome o;
    o.exit = exit;
    o.log = log;
    try {
      o.results = json::parse(kgate::testfw::read_file(dir + "/results.json"));
      for (const auto& c : o.results["checks"]) {
        const std::string id = c.value("id", "");
        o.status[id] = c.value("status", "");
        o.message[id] = c.value("message", "");
        for (const auto& m : c.value("scalars", json::array()))
          o.figures[id][m.value("name", "")] = m.value("value", 0.0);
        const json props = c.value("properties", json::object());
        for (const auto& [k, v] : props.items())
          o.properties[id][k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "no results.json: " << e.what() << "\n" << log;
    }
    std::cout << "kgate run --suites hpa (" << name << "): exit " << o.exit << "\n";
    for (const auto& [id, s] : o.status) {
      std::cout << "  " << s << "  " << id << "  " << o.message[id].substr(0, 300) << "\n";
      for (const auto& [f, v] : o.figures[id]) std::cout << "      " << f << " = " << v << "\n";
    }
    return o;
  }
  Outcome kgate_run(const std::string& name, const std::string& hpa) {
    const std::string dir = write_config(name, hpa);
    auto r = cluster().command(kgate::testfw::kgate_binary(),
                               {"run", "--config", dir + "/kgate.yaml", "--suites", "hpa"}, 600s,
                               {{"BETTER_AUTH_SECRET", kSecret}});
    return read_outcome(name, dir, r.status, r.output);
  }

  static std::set<std::string> with(const Outcome& o, const std::string& status) {
    std::set<std::string> out;
    for (const auto& [id, s] : o.status)
      if (s == status) out.insert(id);
    return out;
  }

  static LocalCluster* cluster_;
  static PostgresServer* pg_;
};
LocalCluster* HpaClusterTest::cluster_ = nullptr;
PostgresServer* HpaClusterTest::pg_ = nullptr;

TEST_F(HpaClusterTest, TheSuiteOnTheProjectsChart) {
  const auto test_start = std::chrono::steady_clock::now();
  api().create(res::namespaces, "",
               {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNs}}}});

  // The chart with its HPA: a derived ramp scales 1 -> 2+ and back to 1; every check passes.
  {
    ASSERT_NO_FATAL_FAILURE(install({}));
    auto o = kgate_run("pass", "    max_rate: 300\n    ramp: 30s\n    hold: 15s\n    p95: 1s\n" +
                                   std::string(kSanitized ? "    scale_down_budget: 60s\n" : ""));
    EXPECT_EQ(o.exit, 0) << o.log.substr(o.log.size() > 6000 ? o.log.size() - 6000 : 0);
    EXPECT_EQ(with(o, "passed"), kAll);
    for (const auto& [check, fig] : std::vector<std::pair<std::string, std::string>>{
             {"hpa.Scaling.ScaleUp", "time_to_first_scale"},
             {"hpa.Scaling.ScaleUp", "time_to_target"},
             {"hpa.Scaling.ScaleUp", "peak_cpu"},
             {"hpa.Scaling.MaxReplicas", "time_to_max"},
             {"hpa.Scaling.MaxReplicas", "overshoot"},
             {"hpa.Scaling.MaxReplicas", "pod_ready_max"},
             {"hpa.Scaling.ScaleDown", "time_to_scale_down"},
             {"hpa.Scaling.LatencyScaled", "p95"}})
      EXPECT_TRUE(o.figures[check].count(fig)) << check << " has no figure " << fig;
    // The computed budget is recorded with its reasons.
    EXPECT_NE(o.properties["hpa.Scaling.ScaleUp"]["scale_up_budget"].find("sync period"),
              std::string::npos);
    // The suite's charts: replicas, CPU, load, latency on the run's time axis.
    bool replicas_chart = false;
    const json suites = o.results.value("suite_results", json::array());
    for (const auto& s : suites)
      for (const auto& c : s.value("charts", json::array()))
        if (c.value("title", "").rfind("Replicas", 0) == 0) replicas_chart = true;
    EXPECT_TRUE(replicas_chart) << suites.dump().substr(0, 2000);
  }

  // A container without a CPU request, as a mesh's injector adds one to the live pods (the
  // chart's schema requires the backend's own; kubernetes#108920): the preflight fails naming
  // the pod's container, and nothing else is judged.
  {
    ASSERT_NO_FATAL_FAILURE(install({}));
    const json sidecar = {
        {"name", "mesh-proxy"},
        {"image", "kgate/todo-app:0.1.0"},
        {"args", {"--role", "api", "--bind", "0.0.0.0", "--port", "7861", "--threads", "1"}},
        {"env",
         {{{"name", "BETTER_AUTH_SECRET"},
           {"valueFrom",
            {{"secretKeyRef", {{"name", "todo-secrets"}, {"key", "BETTER_AUTH_SECRET"}}}}}}}},
        {"resources", {{"limits", {{"memory", "64Mi"}}}}}};
    api().patch(
        res::deployments, kNs, "todo-backend",
        json::array(
            {{{"op", "add"}, {"path", "/spec/template/spec/containers/-"}, {"value", sidecar}}}),
        kgate::kube::PatchType::Json);
    ASSERT_NO_FATAL_FAILURE(wait_settled());
    auto o = kgate_run("no-requests", "    stages: 5s:50\n    scale_down: false\n");
    EXPECT_EQ(o.exit, 1);
    EXPECT_EQ(with(o, "failed"), std::set<std::string>{"hpa.Preflight.Ready"});
    EXPECT_EQ(with(o, "inconclusive"),
              (std::set<std::string>{"hpa.Scaling.ScaleUp", "hpa.Scaling.NoFailures",
                                     "hpa.Scaling.LatencyScaled", "hpa.Scaling.MaxReplicas"}));
    const std::string& m = o.message["hpa.Preflight.Ready"];
    EXPECT_NE(m.find("container mesh-proxy: no cpu request"), std::string::npos) << m;
    // The injector's container goes again (helm leaves what it did not write).
    api().patch(res::deployments, kNs, "todo-backend",
                json::array({{{"op", "remove"}, {"path", "/spec/template/spec/containers/1"}}}),
                kgate::kube::PatchType::Json);
    ASSERT_NO_FATAL_FAILURE(wait_settled());
  }

  // No HPA at all (the chart's autoscaling off): the preflight says what to create, before
  // any load.
  {
    ASSERT_NO_FATAL_FAILURE(
        install({"backend.autoscaling.enabled=false", "backend.replicaCount=1"}));
    auto o = kgate_run("no-hpa", "    stages: 5s:50\n    scale_down: false\n");
    EXPECT_EQ(o.exit, 1);
    EXPECT_EQ(with(o, "failed"), std::set<std::string>{"hpa.Preflight.Ready"});
    EXPECT_EQ(with(o, "skipped"), std::set<std::string>{"hpa.Scaling.ScaleDown"});
    const std::string& m = o.message["hpa.Preflight.Ready"];
    EXPECT_NE(m.find("no HorizontalPodAutoscaler has scaleTargetRef Deployment/todo-backend"),
              std::string::npos)
        << m;
  }

  // An HPA on a per-pod custom metric with no custom metrics adapter serving it: the
  // controller cannot compute a replica count (ScalingActive False); the preflight quotes its
  // condition and its event.
  {
    ASSERT_NO_FATAL_FAILURE(install({}));
    const json chart_metrics =
        api().get(res::horizontal_pod_autoscalers, kNs, "todo-backend")["spec"]["metrics"];
    api().patch(
        res::horizontal_pod_autoscalers, kNs, "todo-backend",
        {{"spec",
          {{"metrics",
            json::array(
                {{{"type", "Pods"},
                  {"pods",
                   {{"metric", {{"name", "http_requests_per_second"}}},
                    {"target", {{"type", "AverageValue"}, {"averageValue", "10"}}}}}}})}}}});
    auto o = kgate_run("no-adapter",
                       "    stages: 5s:50\n    scale_down: false\n    preflight_wait: 10s\n");
    api().patch(res::horizontal_pod_autoscalers, kNs, "todo-backend",
                {{"spec", {{"metrics", chart_metrics}}}});
    EXPECT_EQ(o.exit, 1);
    EXPECT_EQ(with(o, "failed"), std::set<std::string>{"hpa.Preflight.Ready"});
    const std::string& m = o.message["hpa.Preflight.Ready"];
    EXPECT_NE(m.find("ScalingActive is False (FailedGetPodsMetric"), std::string::npos) << m;
    const std::string detail = o.results.dump();
    EXPECT_NE(detail.find("event FailedGetPodsMetric on hpa/todo-backend"), std::string::npos)
        << detail.substr(0, 3000);
  }

  // A request far above what the load uses (4 CPUs): utilization stays low, ScaleUp fails and
  // says why; nothing else fails.
  {
    ASSERT_NO_FATAL_FAILURE(
        install({"backend.resources.requests.cpu=4", "backend.resources.limits.cpu=4"}));
    auto o = kgate_run("large-request",
                       "    stages: 3s:150,10s:150\n    scale_down: false\n"
                       "    scale_up_budget: 15s\n");
    EXPECT_EQ(o.exit, 1);
    EXPECT_EQ(with(o, "failed"), std::set<std::string>{"hpa.Scaling.ScaleUp"});
    EXPECT_EQ(with(o, "skipped"), std::set<std::string>{"hpa.Scaling.ScaleDown"});
    const std::string& m = o.message["hpa.Scaling.ScaleUp"];
    EXPECT_NE(m.find("the load is too light or the request too large"), std::string::npos) << m;
    EXPECT_NE(m.find("(target 50 %)"), std::string::npos) << m;
  }

  // maxReplicas 1, and another controller scaling the Deployment past it while the load runs:
  // ScaleUp fails with the limit, MaxReplicas reports ScalingLimited and catches the excess.
  {
    ASSERT_NO_FATAL_FAILURE(install({"backend.autoscaling.maxReplicas=1"}));
    const std::string dir = write_config("max-1",
                                         "    stages: 3s:200,12s:200\n"
                                         "    scale_down: false\n"
                                         "    scale_up_budget: 15s\n");
    kgate::ProcessSpec spec;
    spec.program = kgate::testfw::kgate_binary();
    spec.args = {"run", "--config", dir + "/kgate.yaml", "--suites", "hpa"};
    spec.env_set["KUBECONFIG"] = cluster().kubeconfig();
    spec.env_set["BETTER_AUTH_SECRET"] = kSecret;
    spec.log_path = dir + "/kgate.log";
    // Rows ever inserted into tasks: grows once the load's todo mix creates tasks.
    const std::string inserted =
        "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_all_tables WHERE relname = 'tasks'";
    const long before = std::stol(pg_->query_value(inserted));
    kgate::ChildProcess p(spec);
    // Once the load writes tasks, something else scales the backend to 3 (the HPA takes it back).
    auto loading = kgate::wait_until(
        [&](std::string* why) {
          *why = "no task written yet";
          return std::stol(pg_->query_value(inserted)) > before;
        },
        120s, 100ms);
    ASSERT_TRUE(loading.ok) << kgate::testfw::read_file(spec.log_path);
    api().patch(res::deployments, kNs, "todo-backend", {{"spec", {{"replicas", 3}}}});
    auto status = p.wait(300s);
    if (!status) p.stop(SIGTERM, 10s);
    auto o =
        read_outcome("max-1", dir, status.value_or(-1), kgate::testfw::read_file(spec.log_path));
    EXPECT_EQ(o.exit, 1);
    EXPECT_EQ(with(o, "failed"),
              (std::set<std::string>{"hpa.Scaling.ScaleUp", "hpa.Scaling.MaxReplicas"}));
    const std::string& m = o.message["hpa.Scaling.ScaleUp"];
    EXPECT_NE(m.find("but maxReplicas 1"), std::string::npos) << m;
    EXPECT_NE(o.message["hpa.Scaling.MaxReplicas"].find("over maxReplicas 1"), std::string::npos)
        << o.message["hpa.Scaling.MaxReplicas"];
    EXPECT_TRUE(o.properties["hpa.Scaling.MaxReplicas"].count("ScalingLimited"))
        << "ScalingLimited not reported";
  }

  // Ctrl-C in the middle of the load: kgate stops within seconds, exits 130, still writes its
  // reports (nothing decided as passed), and deletes the tasks its load created.
  {
    const std::string dir = write_config("ctrl-c",
                                         "    stages: 3s:100,60s:100\n"
                                         "    scale_down: false\n");
    kgate::ProcessSpec spec;
    spec.program = kgate::testfw::kgate_binary();
    spec.args = {"run", "--config", dir + "/kgate.yaml", "--suites", "hpa"};
    spec.env_set["KUBECONFIG"] = cluster().kubeconfig();
    spec.env_set["BETTER_AUTH_SECRET"] = kSecret;
    spec.log_path = dir + "/kgate.log";
    const std::string inserted =
        "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_all_tables WHERE relname = 'tasks'";
    const long before = std::stol(pg_->query_value(inserted));
    kgate::ChildProcess p(spec);
    auto loading = kgate::wait_until(
        [&](std::string* why) {
          *why = "no task written yet";
          return std::stol(pg_->query_value(inserted)) > before;
        },
        120s, 100ms);
    ASSERT_TRUE(loading.ok) << kgate::testfw::read_file(spec.log_path);
    const auto sent = std::chrono::steady_clock::now();
    p.signal(SIGINT);
    auto status = p.wait(60s);
    ASSERT_TRUE(status.has_value()) << "kgate did not end after Ctrl-C";
    std::cout << "Ctrl-C -> exit in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - sent)
                     .count()
              << " ms\n";
    auto o = read_outcome("ctrl-c", dir, *status, kgate::testfw::read_file(spec.log_path));
    EXPECT_EQ(o.exit, 130) << o.log;
    EXPECT_TRUE(with(o, "passed").count("hpa.Scaling.ScaleUp") == 0);
    EXPECT_EQ(pg_->query_value("SELECT count(*) FROM tasks"), "0") << "the load's tasks were left";
  }

  // Pods added by the scale-up never pass their readiness probe (unready-new-pods: only the
  // replica holding the fault's PostgreSQL lock is Ready): the HPA adds replicas, ScaleUp fails
  // naming the probe, the scaled window is never reached, and nothing else is blamed.
  {
    ASSERT_NO_FATAL_FAILURE(install({"backend.faults={unready-new-pods}"}));
    auto o = kgate_run("unready",
                       "    stages: 3s:200,12s:200\n"
                       "    scale_down: false\n"
                       "    scale_up_budget: 15s\n");
    EXPECT_EQ(o.exit, 1);
    EXPECT_EQ(with(o, "failed"), std::set<std::string>{"hpa.Scaling.ScaleUp"});
    EXPECT_EQ(with(o, "inconclusive"), std::set<std::string>{"hpa.Scaling.LatencyScaled"});
    const std::string& m = o.message["hpa.Scaling.ScaleUp"];
    EXPECT_NE(m.find("within 15.0 s: replicas added but not Ready: "), std::string::npos) << m;
    // The pods added never came Ready: counted, not given a created -> Ready time.
    EXPECT_GE(o.figures["hpa.Scaling.MaxReplicas"]["pods_never_ready"], 1);
    EXPECT_FALSE(o.figures["hpa.Scaling.MaxReplicas"].count("pod_ready_max"));
    EXPECT_NE(m.find("readiness probe failing: Readiness probe failed: HTTP probe failed with "
                     "statuscode: 503"),
              std::string::npos)
        << m;
  }

  // A backend that scales but fails a share of its requests (errors-5xx), an HPA that never
  // scales down (selectPolicy Disabled) and a p95 objective no network path meets (1 ms): each
  // of the three checks that judge them fails, and only those.
  {
    ASSERT_NO_FATAL_FAILURE(install({"backend.faults={errors-5xx}"}));
    // Set once the backend is back at 1 (with scale-down disabled it could not settle there).
    api().patch(res::horizontal_pod_autoscalers, kNs, "todo-backend",
                {{"spec", {{"behavior", {{"scaleDown", {{"selectPolicy", "Disabled"}}}}}}}});
    auto o = kgate_run("faults",
                       "    max_rate: 300\n    ramp: 30s\n    hold: 8s\n    p95: 1ms\n"
                       "    scale_down_budget: 20s\n");
    EXPECT_EQ(o.exit, 1);
    EXPECT_EQ(with(o, "failed"),
              (std::set<std::string>{"hpa.Scaling.NoFailures", "hpa.Scaling.LatencyScaled",
                                     "hpa.Scaling.ScaleDown"}));
  }

  std::cout << "hpa cluster test: "
            << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                test_start)
                   .count()
            << " s\n";
}

// `kgate load --watch deployment/todo-backend` (issue 16's ad-hoc mode): the todo mix for 20 s
// through the backend's Service while the Deployment and its HPA are sampled; the results carry
// the replica series with the scale-up in it, the summary the first decision. A Deployment that
// does not exist is a usage error before any load; an HPA deleted mid-run is shown, not fatal.
TEST_F(HpaClusterTest, KgateLoadWatch) {
  try {
    api().create(res::namespaces, "",
                 {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNs}}}});
  } catch (const kgate::kube::ApiError& e) {
    ASSERT_EQ(e.http_status(), 409) << e.what();  // the suite's story made it
  }
  // The suite's last story disabled scale-down on the HPA (helm leaves what it did not write):
  // back to the controller's defaults, so the backend can settle at 1.
  try {
    api().patch(res::horizontal_pod_autoscalers, kNs, "todo-backend",
                {{"spec", {{"behavior", nullptr}}}});
  } catch (const kgate::kube::ApiError& e) {
    ASSERT_EQ(e.http_status(), 404) << e.what();  // run alone: not installed yet
  }
  ASSERT_NO_FATAL_FAILURE(install({}));
  const std::string backend = kgate::testfw::service_url(api(), kNs, "todo-backend");
  const std::string dir = cluster().dir() + "/kgate-watch";
  fs::create_directories(dir);
  const std::vector<std::string> load = {
      "load",         backend, "--scenario", "todo-mix",
      "--identities", "4",     "--rate",     "100",
      "--duration",   "20s",   "--watch",    "deployment/todo-backend",
      "-n",           kNs,     "--out",      dir + "/results.json"};
  auto r = cluster().command(kgate::testfw::kgate_binary(), load, 120s,
                             {{"BETTER_AUTH_SECRET", kSecret}});
  std::cout << r.output << "\n";
  ASSERT_EQ(r.status, 0) << r.output;
  const json j = json::parse(kgate::testfw::read_file(dir + "/results.json"));
  const json w = j.at("watch");
  EXPECT_EQ(w["deployment"], "todo-backend");
  EXPECT_EQ(w["namespace"], kNs);
  EXPECT_EQ(w["hpa"], "todo-backend");
  EXPECT_EQ(w["initial_replicas"], 1);
  EXPECT_EQ(w["sampling_errors"], 0) << w.dump();
  const json samples = w["samples"];
  EXPECT_GE(samples.size(), 15u) << "about a sample a second for 20 s";
  // The scale-up: the HPA wanted more than 1 and the Deployment followed.
  int max_desired = 0, max_hpa = 0;
  bool cpu = false;
  for (const auto& s : samples) {
    max_desired = std::max(max_desired, s.value("replicas_desired", 0));
    max_hpa = std::max(max_hpa, s.value("hpa_desired", 0));
    cpu |= s.contains("hpa_cpu");
  }
  EXPECT_GE(max_hpa, 2) << samples.dump();
  EXPECT_GE(max_desired, 2) << samples.dump();
  EXPECT_TRUE(cpu) << "the HPA's CPU utilization was never sampled";
  std::cout << "t s  desired  hpa_desired  ready  hpa_cpu %\n";
  for (const auto& s : samples)
    std::cout << s.value("t", -1.0) << "  " << s.value("replicas_desired", -1) << "  "
              << s.value("hpa_desired", -1) << "  " << s.value("replicas_ready", -1) << "  "
              << s.value("hpa_cpu", -1.0) << "\n";
  ASSERT_TRUE(w["first_scale_decision_s"].is_number()) << w.dump();
  EXPECT_GE(w["first_scale_decision_to"].get<int>(), 2) << "the first decision is a scale-up";
  EXPECT_LT(w["first_scale_decision_s"].get<double>(), 20.0);
  EXPECT_GE(w["max_replicas_desired"].get<int>(), 2);
  // Side by side with the load: the load's own per-second rows carry the replicas.
  int rows_with_replicas = 0;
  for (const auto& row : j["series"]) rows_with_replicas += row.contains("replicas_ready");
  EXPECT_GE(rows_with_replicas, 15) << j["series"].dump().substr(0, 3000);
  EXPECT_NE(
      r.output.find("scaling: deployment/todo-backend from 1 replicas, first scale decision at"),
      std::string::npos);
  EXPECT_NE(r.output.find("|  replicas "), std::string::npos) << "the live line shows the replicas";
  EXPECT_EQ(r.output.find(kSecret), std::string::npos);

  // A misspelt Deployment: exit 2 naming it and the namespace, before any load.
  auto typo = cluster().command(kgate::testfw::kgate_binary(),
                                {"load", backend + "/health", "--rate", "10", "--duration", "2s",
                                 "--watch", "deployment/todo-backnd", "-n", kNs},
                                60s);
  EXPECT_EQ(typo.status, 2) << typo.output;
  EXPECT_NE(typo.output.find("deployment/todo-backnd in namespace hpa does not exist"),
            std::string::npos)
      << typo.output;
  EXPECT_EQ(typo.output.find("requests in"), std::string::npos) << typo.output;

  // The HPA deleted while the load runs: each sample after says so, the load goes on to its
  // end and passes, the replicas are still sampled. (Last: the chart's HPA is gone after it.)
  ASSERT_NO_FATAL_FAILURE(wait_settled());
  kgate::ProcessSpec spec;
  spec.program = kgate::testfw::kgate_binary();
  spec.args = {
      "load",    backend + "/health",       "--rate", "20", "--duration", "12s",
      "--watch", "deployment/todo-backend", "-n",     kNs,  "--out",      dir + "/deleted.json"};
  spec.env_set["KUBECONFIG"] = cluster().kubeconfig();
  spec.log_path = dir + "/deleted.log";
  kgate::ChildProcess p(spec);
  auto sampling = kgate::wait_until(
      [&](std::string* why) {
        *why = "no live line with replicas yet";
        return kgate::testfw::read_file(spec.log_path).find("|  replicas ") != std::string::npos;
      },
      60s, 100ms);
  ASSERT_TRUE(sampling.ok) << kgate::testfw::read_file(spec.log_path);
  api().remove(res::horizontal_pod_autoscalers, kNs, "todo-backend");
  auto status = p.wait(60s);
  if (!status) p.stop(SIGTERM, 10s);
  const std::string log = kgate::testfw::read_file(spec.log_path);
  std::cout << log << "\n";
  EXPECT_EQ(status.value_or(-1), 0) << log;
  const json d = json::parse(kgate::testfw::read_file(dir + "/deleted.json"));
  EXPECT_GT(d["watch"]["sampling_errors"].get<int>(), 0) << d["watch"].dump();
  EXPECT_GE(d["completed"].get<int>(), 200) << "the load ran to its end";
  const json last = d["watch"]["samples"].back();
  EXPECT_NE(last.value("error", "").find("hpa/todo-backend"), std::string::npos) << last.dump();
  EXPECT_TRUE(last.contains("replicas_ready")) << last.dump();
  EXPECT_NE(log.find("watch: hpa/todo-backend"), std::string::npos) << "shown on the live line";
  EXPECT_NE(log.find("with errors (last: hpa/todo-backend"), std::string::npos) << log;
}

}  // namespace
