// kgate-node-agent as kubelet, on the real control plane: exec probes, lifecycle hooks and the
// termination order, eviction, endpoints of terminating pods, Jobs, volumes, security contexts,
// logs, and the project's Helm chart installed and tested by the real helm. One cluster for all.
//
// What a container did is asked of the container: its own log (through the API, or on disk
// under the agent's work folder once the pod is gone), its files (emptyDir volumes live there
// too), and the pod's status as a watch saw it change.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <kgate/http.hpp>
#include <kgate/kube/client.hpp>
#include <kgate/process.hpp>
#include <kgate/wait.hpp>

#include "framework/jwt_helpers.hpp"
#include "framework/local_cluster.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using kgate::testfw::LocalCluster;
using kgate::testfw::wait_for_ready_pods;
using nlohmann::json;
namespace fs = std::filesystem;
namespace res = kgate::kube::resources;
const kgate::kube::ResourceType kPdbs{"policy", "v1", "poddisruptionbudgets", true};
const kgate::kube::ResourceType kJobs{"batch", "v1", "jobs", true};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Every change of one pod, as a watch delivers it, with when it arrived.
class PodWatch {
 public:
  PodWatch(kgate::kube::Client& api, const std::string& ns, const std::string& name) {
    thread_ = std::thread([this, &api, ns, name] {
      kgate::kube::WatchOptions wo;
      wo.field_selector = "metadata.name=" + name;
      try {
        api.watch(
            res::pods, ns, wo,
            [this](const kgate::kube::WatchEvent& e) {
              std::lock_guard lock(mutex_);
              if (e.type == "RELIST") {
                for (const auto& item : e.object.value("items", json::array())) {
                  events_.push_back({Clock::now(), "ADDED", item});
                }
              } else if (e.type != "BOOKMARK") {
                events_.push_back({Clock::now(), e.type, e.object});
              }
              return e.type != "DELETED";
            },
            &stop_);
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex_);
        error_ = e.what();
      }
    });
    // Listening before the test acts: the first list has been delivered.
    auto listening = kgate::wait_until(
        [this](std::string*) {
          std::lock_guard lock(mutex_);
          return !events_.empty() || !error_.empty();
        },
        std::chrono::seconds(10), std::chrono::milliseconds(20));
    EXPECT_TRUE(listening.ok) << "the watch of " << name << " did not start";
  }
  ~PodWatch() {
    stop_ = true;
    thread_.join();
  }
  struct Event {
    Clock::time_point at;
    std::string type;
    json pod;
  };
  std::vector<Event> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // The first time a pod state satisfied pred; nullopt if none did.
  template <typename Pred>
  std::optional<Event> first(Pred pred) {
    EXPECT_EQ(error(), "") << "the watch failed";
    for (const auto& e : events()) {
      if (pred(e.pod)) return e;
    }
    return std::nullopt;
  }
  std::string error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  std::mutex mutex_;
  std::vector<Event> events_;
  std::string error_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

json condition(const json& pod, const std::string& type) {
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return json::object();
}

json container_status(const json& pod, std::size_t i = 0) {
  auto s = pod.value("status", json::object()).value("containerStatuses", json::array());
  return i < s.size() ? s[i] : json::object();
}

class NodeAgentClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new LocalCluster();
    std::cout << "local cluster ready in " << cluster_->startup_time().count() << " ms\n";
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  LocalCluster& cluster() { return *cluster_; }
  kgate::kube::Client& api() { return cluster_->client(); }

  // A namespace of the test's own, so that tests do not see each other's objects.
  std::string make_namespace(const std::string& name) {
    api().create(res::namespaces, "",
                 {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
    // The service account controller makes "default"; pods are refused until it exists.
    auto sa = kgate::wait_until(
        [&](std::string*) {
          return api().find(res::service_accounts, name, "default").has_value();
        },
        30s);
    EXPECT_TRUE(sa.ok) << "no default service account in " << name;
    return name;
  }

  json pod(const std::string& ns, const std::string& name) {
    return api().get(res::pods, ns, name);
  }

  // Waits for a pod state; returns the pod. Fails the test, saying what it saw, on timeout.
  template <typename Pred>
  json wait_pod(const std::string& ns, const std::string& name, Pred pred,
                std::chrono::seconds timeout, const std::string& what) {
    json last;
    auto r = kgate::wait_until(
        [&](std::string* why) {
          auto p = api().find(res::pods, ns, name);
          if (!p) {
            *why = "no pod " + name;
            return false;
          }
          last = *p;
          *why = last.value("status", json::object()).dump();
          return pred(last);
        },
        timeout, 200ms);
    EXPECT_TRUE(r.ok) << name << ": " << what << ": " << r.last_error;
    return last;
  }

  bool gone(const std::string& ns, const std::string& name, std::chrono::seconds timeout) {
    return kgate::wait_until([&](std::string*) { return !api().find(res::pods, ns, name); },
                             timeout, 100ms)
        .ok;
  }

  // The agent's folder for a pod (logs and volumes), from its uid.
  fs::path pod_dir(const json& p) {
    const auto& m = p["metadata"];
    return fs::path(cluster().dir()) / "pods" /
           (m.value("namespace", "") + "_" + m.value("name", "") + "_" + m.value("uid", ""));
  }

  std::vector<json> events_for(const std::string& ns, const std::string& pod_name) {
    kgate::kube::ListOptions lo;
    lo.field_selector = "involvedObject.name=" + pod_name;
    std::vector<json> out;
    const json list = api().list(res::events, ns, lo);  // outlives the loop below
    for (const auto& e : list["items"]) out.push_back(e);
    return out;
  }
  std::optional<json> event(const std::string& ns, const std::string& pod_name,
                            const std::string& reason, std::chrono::seconds timeout) {
    std::optional<json> found;
    kgate::wait_until(
        [&](std::string*) {
          for (const auto& e : events_for(ns, pod_name)) {
            if (e.value("reason", "") == reason) found = e;
          }
          return found.has_value();
        },
        timeout, 200ms);
    return found;
  }

  static LocalCluster* cluster_;
};
LocalCluster* NodeAgentClusterTest::cluster_ = nullptr;

// A shell standing in for an image's program: `command: [sh, -c, ...]` runs the host's sh in
// the container's mount namespace, as the image todo-app (any mapped image would do).
const char* kShellPod = R"(apiVersion: v1
kind: Pod
metadata: {name: NAME, namespace: NS}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: GRACE
  volumes: [{name: tmp, emptyDir: {}}]
  containers:
  - name: app
    image: todo-app
    command: ["sh", "-c", SCRIPT]
    volumeMounts: [{name: tmp, mountPath: /tmp}]
EXTRA
)";

std::string shell_pod(const std::string& ns, const std::string& name, const std::string& script,
                      int grace, const std::string& extra = "") {
  std::string y = kShellPod;
  auto put = [&](const std::string& key, const std::string& value) {
    y.replace(y.find(key), key.size(), value);
  };
  put("NAME", name);
  put("NS", ns);
  put("GRACE", std::to_string(grace));
  put("SCRIPT", json(script).dump());  // a JSON string is a YAML string
  put("EXTRA", extra);
  return y;
}

// Exec probes run the command inside the container (its mount namespace: /tmp here is the
// pod's emptyDir, not the host's), pass on exit 0 and fail otherwise; a probe the agent cannot
// run fails, saying so. Before, every exec probe passed without running.
TEST_F(NodeAgentClusterTest, ExecProbesRunInTheContainerAndNeverPassSilently) {
  const auto ns = make_namespace("na-exec");
  cluster().apply(
      shell_pod(ns, "gated",
                "echo waiting; while [ ! -f /tmp/go ]; do sleep 0.2; done; touch /tmp/ready; "
                "echo ready; exec sleep 600",
                2,
                "    readinessProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 1, "
                "failureThreshold: 1}") +
      "---\n" +
      shell_pod(ns, "failing", "exec sleep 600", 2,
                "    readinessProbe: {exec: {command: [sh, -c, 'echo not today; exit 1']}, "
                "periodSeconds: 1, failureThreshold: 1}") +
      "---\n" +
      shell_pod(ns, "grpc", "exec sleep 600", 2,
                "    readinessProbe: {grpc: {port: 9000}, periodSeconds: 1, failureThreshold: 1}"));

  // A failing exec probe is reported with the command's output and keeps the pod unready.
  auto unhealthy = event(ns, "failing", "Unhealthy", 60s);
  ASSERT_TRUE(unhealthy) << "no Unhealthy event for the failing exec probe";
  EXPECT_EQ(unhealthy->value("message", ""),
            "Readiness probe failed: command exited with 1: not today");
  EXPECT_EQ(condition(pod(ns, "failing"), "Ready").value("status", ""), "False");
  auto grpc = event(ns, "grpc", "Unhealthy", 60s);
  ASSERT_TRUE(grpc);
  EXPECT_EQ(grpc->value("message", ""),
            "Readiness probe failed: grpc is not supported by kgate-node-agent as a probe");
  EXPECT_EQ(condition(pod(ns, "grpc"), "Ready").value("status", ""), "False");

  // The gated pod's probe has been failing (its Unhealthy event), so it is not Ready ...
  ASSERT_TRUE(event(ns, "gated", "Unhealthy", 60s));
  json gated = pod(ns, "gated");
  EXPECT_EQ(condition(gated, "Ready").value("status", ""), "False");
  // ... until the container makes /tmp/ready in its own /tmp, the emptyDir, which the test
  // reaches from the host side.
  const fs::path volume = pod_dir(gated) / "volumes" / "tmp";
  ASSERT_TRUE(fs::is_directory(volume)) << volume;
  std::ofstream(volume / "go") << "1";
  wait_pod(
      ns, "gated",
      [](const json& p) { return condition(p, "Ready").value("status", "") == "True"; }, 30s,
      "Ready once /tmp/ready exists in the container");
  EXPECT_TRUE(fs::exists(volume / "ready"));
  EXPECT_EQ(api().logs(ns, "gated"), "waiting\nready\n");
  api().remove(res::namespaces, "", ns);
}

// kubelet's order on deletion: the pod is marked (deletionTimestamp), the preStop hook runs,
// then SIGTERM, the rest of the grace period, SIGKILL; then the object goes. The grace period
// covers hook and SIGTERM together, with kubelet's 2 s minimum after the hook.
TEST_F(NodeAgentClusterTest, DeletionRunsPreStopThenSigtermWithinTheGracePeriod) {
  const auto ns = make_namespace("na-stop");
  const std::string on_term =
      "trap 'if [ -f /tmp/prestop-ran ]; then echo TERM after preStop; else echo TERM before "
      "preStop; fi; exit 0' TERM; echo up; while :; do sleep 0.1; done";
  cluster().apply(
      shell_pod(ns, "polite", on_term, 20,
                "    lifecycle: {preStop: {exec: {command: [sh, -c, 'touch /tmp/prestop-ran; "
                "sleep 2']}}}") +
      "---\n" +
      // The sleep action, and a container that ignores SIGTERM: only SIGKILL ends it.
      shell_pod(ns, "stubborn", "trap '' TERM; echo up; exec sleep 600", 4,
                "    lifecycle: {preStop: {exec: {command: [sleep, '30']}}}") +
      "---\n" +
      shell_pod(ns, "sleeper", on_term, 20, "    lifecycle: {preStop: {sleep: {seconds: 3}}}") +
      // An httpGet hook, to the app itself: it logs the request, then the SIGTERM.
      R"(---
apiVersion: v1
kind: Pod
metadata: {name: http-hook, namespace: )" +
      ns + R"(}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 10
  containers:
  - name: app
    image: todo-app
    args: ["--role", "api", "--bind", "0.0.0.0", "--port", "7860", "--threads", "1", "--grace", "1s"]
    env: [{name: BETTER_AUTH_SECRET, value: cluster-test-secret-0123456789abcdef}]
    ports: [{name: http, containerPort: 7860}]
    readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 1}
    lifecycle: {preStop: {httpGet: {path: /kgate-prestop, port: http}}}
)");
  for (const char* name : {"polite", "stubborn", "sleeper", "http-hook"}) {
    wait_pod(
        ns, name, [](const json& p) { return p["status"].value("phase", "") == "Running"; }, 60s,
        "Running");
  }
  ASSERT_TRUE(
      kgate::wait_until([&](std::string*) { return api().logs(ns, "polite") == "up\n"; }, 10s).ok);
  const json polite = pod(ns, "polite"), stubborn = pod(ns, "stubborn"),
             sleeper = pod(ns, "sleeper");

  PodWatch watch_polite(api(), ns, "polite"), watch_stubborn(api(), ns, "stubborn"),
      watch_sleeper(api(), ns, "sleeper");
  const auto deleted_at = Clock::now();
  const json http_hook = pod(ns, "http-hook");
  for (const char* name : {"polite", "stubborn", "sleeper", "http-hook"}) {
    api().remove(res::pods, ns, name);
  }
  for (const char* name : {"polite", "stubborn", "sleeper", "http-hook"}) {
    EXPECT_TRUE(gone(ns, name, 60s)) << name << " was not finalized";
  }
  const double all_gone = seconds_since(deleted_at);

  // polite: SIGTERM came after the hook, and the pod went once the process exited (hook 2 s).
  EXPECT_EQ(slurp(pod_dir(polite) / "app.log"), "up\nTERM after preStop\n");
  auto polite_done = watch_polite.first(
      [](const json& p) { return container_status(p)["state"].contains("terminated"); });
  ASSERT_TRUE(polite_done) << "the final status was not reported before the object went";
  EXPECT_EQ(container_status(polite_done->pod)["state"]["terminated"].value("exitCode", -1), 0);
  const double polite_s = std::chrono::duration<double>(polite_done->at - deleted_at).count();
  EXPECT_GE(polite_s, 2.0) << "the preStop hook sleeps 2 s before SIGTERM";
  EXPECT_LT(polite_s, 10.0);

  // stubborn: the 30 s hook is cut at the 4 s grace period, SIGTERM is ignored for kubelet's
  // 2 s minimum, then SIGKILL (137): about 6 s, far from the hook's 30.
  auto stubborn_done = watch_stubborn.first(
      [](const json& p) { return container_status(p)["state"].contains("terminated"); });
  ASSERT_TRUE(stubborn_done);
  EXPECT_EQ(container_status(stubborn_done->pod)["state"]["terminated"].value("exitCode", -1), 137);
  const double stubborn_s = std::chrono::duration<double>(stubborn_done->at - deleted_at).count();
  EXPECT_GE(stubborn_s, 5.5);
  EXPECT_LT(stubborn_s, 15.0);
  auto cut = event(ns, "stubborn", "FailedPreStopHook", 10s);
  ASSERT_TRUE(cut) << "the hook cut short by the grace period is reported";
  EXPECT_EQ(cut->value("message", ""), "PreStopHook failed: command timed out");

  // sleeper: the sleep action holds SIGTERM back 3 s.
  EXPECT_EQ(slurp(pod_dir(sleeper) / "app.log"), "up\nTERM before preStop\n");
  auto sleeper_done = watch_sleeper.first(
      [](const json& p) { return container_status(p)["state"].contains("terminated"); });
  ASSERT_TRUE(sleeper_done);
  EXPECT_GE(std::chrono::duration<double>(sleeper_done->at - deleted_at).count(), 3.0);

  // While terminating, each pod kept its deletionTimestamp and was marked with a Killing event.
  EXPECT_TRUE(watch_polite.first(
      [](const json& p) { return p["metadata"].contains("deletionTimestamp"); }));
  std::cout << "deletion to all finalized: " << all_gone << " s (polite " << polite_s
            << " s, stubborn " << stubborn_s << " s)\n";
  // The volumes (which may hold Secrets) went with the pods; the logs stayed.
  EXPECT_FALSE(fs::exists(pod_dir(polite) / "volumes"));

  // http-hook: the hook's request reached the app before its SIGTERM did.
  const std::string app_log = slurp(pod_dir(http_hook) / "app.log");
  const auto hook_at = app_log.find("path=/kgate-prestop ");
  const auto term_at = app_log.find("received SIGTERM");
  ASSERT_NE(hook_at, std::string::npos) << app_log;
  ASSERT_NE(term_at, std::string::npos) << app_log;
  EXPECT_LT(hook_at, term_at) << app_log;
  api().remove(res::namespaces, "", ns);
}

// The node agent's own promptness: a container stopped after a failed liveness probe takes its
// whole grace period (it ignores SIGTERM), and meanwhile metrics.k8s.io and `kubectl logs`
// answer at once and other pods go on being probed. Before, one sync pass held the runtime's
// lock through that grace period and everything waited.
TEST_F(NodeAgentClusterTest, MetricsLogsAndOtherPodsStayPromptWhileAContainerTakesItsGrace) {
  const auto ns = make_namespace("na-prompt");
  cluster().apply(shell_pod(ns, "stubborn", "trap '' TERM; echo up; exec sleep 600", 25,
                            "    livenessProbe: {tcpSocket: {port: 7999}, periodSeconds: 1, "
                            "failureThreshold: 1}") +
                  "---\n" + shell_pod(ns, "chatty", "echo hello; exec sleep 600", 2));
  wait_pod(
      ns, "chatty",
      [](const json& p) { return condition(p, "Ready").value("status", "") == "True"; }, 60s,
      "Ready");
  ASSERT_TRUE(event(ns, "stubborn", "Killing", 60s)) << "the liveness kill did not start";
  const auto kill_started = Clock::now();

  // A new pod admitted now gets started and probed during the other's grace period.
  cluster().apply(shell_pod(ns, "newcomer", "exec sleep 600", 2,
                            "    readinessProbe: {exec: {command: ['true']}, periodSeconds: 1}"));
  double worst_metrics = 0, worst_logs = 0;
  bool newcomer_ready = false;
  int rounds = 0;
  // At least 5 s of the 25 s stop, and until the newcomer is Ready (12 s at most).
  while (seconds_since(kill_started) < 12 &&
         !(newcomer_ready && seconds_since(kill_started) >= 5)) {
    auto t = Clock::now();
    auto metrics = api().raw_get("/apis/metrics.k8s.io/v1beta1/namespaces/" + ns + "/pods");
    worst_metrics = std::max(worst_metrics, seconds_since(t));
    EXPECT_EQ(metrics.value("kind", ""), "PodMetricsList");
    t = Clock::now();
    EXPECT_EQ(api().logs(ns, "chatty"), "hello\n");
    worst_logs = std::max(worst_logs, seconds_since(t));
    newcomer_ready = condition(pod(ns, "newcomer"), "Ready").value("status", "") == "True";
    ++rounds;
  }
  const double newcomer_s = seconds_since(kill_started);
  // The stop is still under way: the container has not been killed yet.
  EXPECT_LT(newcomer_s, 25.0);
  EXPECT_TRUE(container_status(pod(ns, "stubborn"))["state"].contains("running"));
  EXPECT_TRUE(newcomer_ready) << "a new pod was not Ready within 12 s of another's kill";
  EXPECT_LT(worst_metrics, 2.0) << "metrics.k8s.io waited for the grace period";
  EXPECT_LT(worst_logs, 2.0) << "kubectl logs waited for the grace period";
  std::cout << "during a 25 s stop: worst metrics " << worst_metrics << " s, worst logs "
            << worst_logs << " s over " << rounds << " rounds\n";
  api().remove(res::namespaces, "", ns);
}

// A pod being deleted leaves its Service at once: the EndpointSlice controller marks it not
// ready and terminating from the deletionTimestamp, the agent's proxy sends it no new
// connection, while the preStop hook still holds its process up.
TEST_F(NodeAgentClusterTest, ATerminatingPodGetsNoNewConnections) {
  const auto ns = make_namespace("na-drain");
  cluster().apply(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: drain, namespace: )" +
                  ns + R"(}
spec:
  replicas: 2
  selector: {matchLabels: {app: drain}}
  template:
    metadata: {labels: {app: drain}}
    spec:
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 30
      containers:
      - name: api
        image: todo-app
        args: ["--role", "api", "--bind", "0.0.0.0", "--port", "7860", "--threads", "1", "--grace", "1s"]
        env: [{name: BETTER_AUTH_SECRET, value: cluster-test-secret-0123456789abcdef}]
        ports: [{name: http, containerPort: 7860}]
        readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 1}
        lifecycle: {preStop: {sleep: {seconds: 8}}}
---
apiVersion: v1
kind: Service
metadata: {name: drain, namespace: )" +
                  ns + R"(}
spec:
  selector: {app: drain}
  ports: [{name: http, port: 7860, targetPort: http}]
)");
  auto pods = wait_for_ready_pods(api(), ns, "app=drain", 2, 90s);
  const std::string url = kgate::testfw::service_url(api(), ns, "drain");
  // Each request on a new connection, so that each is routed afresh; each pod keeps the tasks
  // it was sent in memory, which says afterwards where every request went.
  const std::string token =
      kgate::testfw::sign_hs256("drain", "cluster-test-secret-0123456789abcdef");
  auto send = [&](const std::string& base, const std::string& method, const std::string& path,
                  const std::string& body = {}) -> kgate::http::Response {
    kgate::http::ClientOptions o;
    o.connect_timeout = 2s;
    o.request_timeout = 3s;
    o.keep_alive = false;
    kgate::http::Request r{.method = method, .url = base + path, .headers = {}, .body = body};
    r.headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    try {
      return kgate::http::Client(o).send(r);
    } catch (const kgate::http::TransportError& e) {
      kgate::http::Response failed;
      failed.body = e.what();
      return failed;
    }
  };
  auto get = [&](const std::string& path) { return send(url, "GET", path).status; };
  ASSERT_TRUE(kgate::wait_until([&](std::string*) { return get("/health") == 200; }, 30s).ok);
  const json victim = pods[0];
  const std::string victim_ip = victim["status"].value("podIP", "");

  api().remove(res::pods, ns, victim["metadata"].value("name", ""));
  const auto deleted_at = Clock::now();
  json endpoint;
  auto withdrawn = kgate::wait_until(
      [&](std::string* why) {
        kgate::kube::ListOptions lo;
        lo.label_selector = "kubernetes.io/service-name=drain";
        const json slices = api().list(res::endpoint_slices, ns, lo);
        for (const auto& slice : slices["items"]) {
          for (const auto& ep : slice.value("endpoints", json::array())) {
            if (ep["addresses"][0] == victim_ip) endpoint = ep;
          }
        }
        *why = endpoint.dump();
        const auto& c = endpoint.value("conditions", json::object());
        return c.value("ready", true) == false && c.value("terminating", false) == true;
      },
      10s, 50ms);
  ASSERT_TRUE(withdrawn.ok) << withdrawn.last_error;
  const double withdrawn_s = seconds_since(deleted_at);
  EXPECT_LT(withdrawn_s, 3.0);
  // Still serving: its readiness probe passes while the preStop hook holds SIGTERM back.
  EXPECT_TRUE(endpoint["conditions"].value("serving", false)) << endpoint.dump();

  // New connections during the preStop window go to the survivor. The agent's proxy learns of
  // the change from its own watch, as the test does: a request sent in the moment before that
  // may still reach the pod (kube-proxy takes up to its sync period, 1 s by default), so
  // requests are told apart by when they were sent after the withdrawal was seen.
  const auto seen_at = Clock::now();
  constexpr double kPropagation = 0.5;  // seconds the agent may take to act on the change
  std::vector<double> sent_at;
  // For 1 s (at most 3000 requests), well inside the 8 s preStop.
  while (seconds_since(seen_at) < 1.0 && sent_at.size() < 3000) {
    const std::string title = "drain-" + std::to_string(sent_at.size());
    sent_at.push_back(seconds_since(seen_at));
    auto r = send(url, "POST", "/api/drain/tasks", json{{"title", title}}.dump());
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.body;
  }
  const int sent = static_cast<int>(sent_at.size());
  // Which requests each pod got, asked directly while the victim's 8 s preStop holds it up.
  auto titles_at = [&](const json& p) {
    auto r = send("http://" + p["status"].value("podIP", "") + ":7860", "GET", "/api/drain/tasks");
    EXPECT_EQ(r.status, 200) << p["metadata"].value("name", "") << ": " << r.body;
    std::set<int> got;
    auto body = json::parse(r.body, nullptr, false);
    for (const auto& t : body.is_array() ? body : json::array()) {
      got.insert(std::stoi(t.value("title", "drain--1").substr(6)));
    }
    return got;
  };
  // The survivor, and the replacement the ReplicaSet started meanwhile once it is Ready.
  const auto at_victim = titles_at(victim);
  std::set<int> at_others;
  kgate::kube::ListOptions drain_pods;
  drain_pods.label_selector = "app=drain";
  const json current = api().list(res::pods, ns, drain_pods);
  for (const auto& p : current["items"]) {
    if (p["metadata"]["uid"] == victim["metadata"]["uid"] || p["status"].value("podIP", "").empty())
      continue;
    const auto got = titles_at(p);
    at_others.insert(got.begin(), got.end());
  }
  EXPECT_LT(seconds_since(deleted_at), 8.0) << "the victim was asked after its preStop ended";
  double last_misrouted = -1;
  for (int i : at_victim) {
    ASSERT_TRUE(i >= 0 && i < sent) << i;
    last_misrouted = std::max(last_misrouted, sent_at[static_cast<std::size_t>(i)]);
  }
  EXPECT_LT(last_misrouted, kPropagation) << "a request sent " << last_misrouted
                                          << " s after the withdrawal reached the terminating pod";
  EXPECT_GE(sent_at.back(), kPropagation) << "too few requests after the propagation bound";
  EXPECT_EQ(static_cast<int>(at_victim.size() + at_others.size()), sent) << "requests lost";
  std::cout << "endpoint withdrawn " << withdrawn_s << " s after the delete; " << sent
            << " new connections during preStop, " << at_victim.size()
            << " to the terminating pod (the last sent " << std::max(last_misrouted, 0.0)
            << " s after the withdrawal was seen)\n";
  api().remove(res::namespaces, "", ns);
}

// postStart runs in the container before it counts as started; when it fails, the container
// is killed and restarted, with kubelet's event and message.
TEST_F(NodeAgentClusterTest, PostStartRunsFirstAndAFailedOneRestartsTheContainer) {
  const auto ns = make_namespace("na-poststart");
  cluster().apply(
      shell_pod(
          ns, "hooked",
          "while [ ! -f /tmp/poststart ]; do sleep 0.1; done; echo saw $(cat /tmp/poststart); "
          "exec sleep 600",
          2,
          "    lifecycle: {postStart: {exec: {command: [sh, -c, 'echo hook > "
          "/tmp/poststart']}}}") +
      "---\n" +
      shell_pod(ns, "refused", "exec sleep 600", 2,
                "    lifecycle: {postStart: {exec: {command: [sh, -c, 'echo no; exit 7']}}}"));
  ASSERT_TRUE(
      kgate::wait_until([&](std::string*) { return api().logs(ns, "hooked") == "saw hook\n"; }, 30s)
          .ok)
      << api().logs(ns, "hooked");
  auto failed = event(ns, "refused", "FailedPostStartHook", 30s);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->value("message", ""), "PostStartHook failed: command exited with 7: no");
  const json restarted = wait_pod(
      ns, "refused",
      [](const json& p) { return container_status(p).value("restartCount", 0) >= 1; }, 30s,
      "restarted after its failed postStart");
  EXPECT_EQ(container_status(restarted)["lastState"]["terminated"].value("message", ""),
            "PostStartHook failed: command exited with 7: no");
  api().remove(res::namespaces, "", ns);
}

// The Eviction API is the API server's: it checks the PodDisruptionBudget, marks the pod with
// a DisruptionTarget condition and deletes it. The agent terminates it exactly as a delete
// (preStop, then SIGTERM), and its status reports keep the API server's condition.
TEST_F(NodeAgentClusterTest, EvictionTerminatesLikeADeleteAndKeepsTheDisruptionCondition) {
  const auto ns = make_namespace("na-evict");
  const std::string on_term =
      "trap 'if [ -f /tmp/prestop-ran ]; then echo TERM after preStop; else echo TERM before "
      "preStop; fi; exit 0' TERM; echo up; while :; do sleep 0.1; done";
  std::string yaml = shell_pod(ns, "evictee", on_term, 10,
                               "    lifecycle: {preStop: {exec: {command: [sh, -c, 'touch "
                               "/tmp/prestop-ran; sleep 1']}}}");
  const std::string meta = "namespace: " + ns + "}";
  yaml.replace(yaml.find(meta), meta.size(), "namespace: " + ns + ", labels: {app: evictable}}");
  cluster().apply(yaml + R"(---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: keep-one, namespace: )" +
                  ns + R"(}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: evictable}}
)");
  wait_pod(
      ns, "evictee",
      [](const json& p) { return condition(p, "Ready").value("status", "") == "True"; }, 60s,
      "Ready");
  // The budget allows no disruption of the only pod: 429, and nothing happens to it.
  ASSERT_TRUE(kgate::wait_until(
                  [&](std::string*) {
                    auto pdb = api().raw_get("/apis/policy/v1/namespaces/" + ns +
                                             "/poddisruptionbudgets/keep-one");
                    return pdb.value("status", json::object()).value("currentHealthy", 0) == 1;
                  },
                  30s)
                  .ok);
  try {
    api().evict(ns, "evictee");
    ADD_FAILURE() << "an eviction that breaks the budget must be refused";
  } catch (const kgate::kube::ApiError& e) {
    EXPECT_EQ(e.http_status(), 429) << e.what();
  }
  EXPECT_FALSE(pod(ns, "evictee")["metadata"].contains("deletionTimestamp"));

  // Without the budget the eviction goes through, and it is a deletion like any other.
  api().remove(kPdbs, ns, "keep-one");
  const json before = pod(ns, "evictee");
  PodWatch watch(api(), ns, "evictee");
  auto evicted = kgate::wait_until(
      [&](std::string* why) {
        try {
          api().evict(ns, "evictee");
          return true;
        } catch (const kgate::kube::ApiError& e) {
          *why = e.what();  // 429 until the disruption controller has seen the budget go
          return false;
        }
      },
      30s, 500ms);
  ASSERT_TRUE(evicted.ok) << evicted.last_error;
  EXPECT_TRUE(gone(ns, "evictee", 60s));
  EXPECT_EQ(slurp(pod_dir(before) / "app.log"), "up\nTERM after preStop\n");
  // The API server's DisruptionTarget condition survives the agent's status reports to the end.
  auto final_state = watch.first(
      [](const json& p) { return container_status(p)["state"].contains("terminated"); });
  ASSERT_TRUE(final_state) << "no final status was seen";
  const json target = condition(final_state->pod, "DisruptionTarget");
  EXPECT_EQ(target.value("status", ""), "True") << final_state->pod["status"].dump();
  EXPECT_EQ(target.value("reason", ""), "EvictionByEvictionAPI");
  api().remove(res::namespaces, "", ns);
}

// Jobs: pods under restartPolicy Never reach Succeeded or Failed with their exit codes; an
// Indexed Job's pods get JOB_COMPLETION_INDEX through the downward API (the Job controller's
// fieldRef on the job-completion-index annotation); logs stay readable after the pods finish.
TEST_F(NodeAgentClusterTest, JobPodsCompleteWithTheirIndexAndTheirLogsOutliveThem) {
  const auto ns = make_namespace("na-jobs");
  cluster().apply(R"(apiVersion: batch/v1
kind: Job
metadata: {name: indexed, namespace: )" +
                  ns + R"(}
spec:
  completionMode: Indexed
  completions: 3
  parallelism: 3
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      containers:
      - name: worker
        image: todo-app
        command: ["sh", "-c", "echo index=$JOB_COMPLETION_INDEX"]
---
apiVersion: batch/v1
kind: Job
metadata: {name: failing, namespace: )" +
                  ns + R"(}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      containers:
      - name: worker
        image: todo-app
        command: ["sh", "-c", "echo giving up; exit 3"]
)");
  auto job_condition = [&](const std::string& name, const std::string& type) {
    auto job = api().get(kJobs, ns, name);
    for (const auto& c : job.value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == type && c.value("status", "") == "True") return true;
    }
    return false;
  };
  ASSERT_TRUE(
      kgate::wait_until([&](std::string*) { return job_condition("indexed", "Complete"); }, 90s)
          .ok);
  kgate::kube::ListOptions lo;
  lo.label_selector = "batch.kubernetes.io/job-name=indexed";
  std::set<std::string> indexes;
  const json indexed_pods = api().list(res::pods, ns, lo);
  for (const auto& p : indexed_pods["items"]) {
    EXPECT_EQ(p["status"].value("phase", ""), "Succeeded");
    const auto term = container_status(p)["state"]["terminated"];
    EXPECT_EQ(term.value("exitCode", -1), 0);
    EXPECT_EQ(term.value("reason", ""), "Completed");
    indexes.insert(api().logs(ns, p["metadata"].value("name", "")));
  }
  EXPECT_EQ(indexes, (std::set<std::string>{"index=0\n", "index=1\n", "index=2\n"}));

  ASSERT_TRUE(
      kgate::wait_until([&](std::string*) { return job_condition("failing", "Failed"); }, 90s).ok);
  lo.label_selector = "batch.kubernetes.io/job-name=failing";
  auto failed = api().list(res::pods, ns, lo)["items"];
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["status"].value("phase", ""), "Failed");
  EXPECT_EQ(container_status(failed[0])["state"]["terminated"].value("exitCode", -1), 3);
  EXPECT_EQ(container_status(failed[0])["state"]["terminated"].value("reason", ""), "Error");
  EXPECT_EQ(api().logs(ns, failed[0]["metadata"].value("name", "")), "giving up\n");
  api().remove(res::namespaces, "", ns);
}

// What a container sees: configMap, secret and downward API volumes at their paths, the
// service account token where in-cluster clients look for it, Services by name through
// /etc/hosts, the pod's hostname, and the user the security context asks for.
TEST_F(NodeAgentClusterTest, VolumesNamesAndUsersAreWhereTheSpecSays) {
  const auto ns = make_namespace("na-view");
  cluster().apply(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: )" +
                  ns + R"(}
data: {kgate.yaml: "suites: [smoke]"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: )" +
                  ns + R"(}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Service
metadata: {name: peer, namespace: )" +
                  ns + R"(}
spec:
  selector: {app: none}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: viewer, namespace: )" +
                  ns + R"(, labels: {team: kgate}}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, runAsNonRoot: true}
  volumes:
  - {name: settings, configMap: {name: settings}}
  - {name: creds, secret: {secretName: creds}}
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
  - {name: work, emptyDir: {}}
  containers:
  - name: app
    image: todo-app
    workingDir: /work
    command:
    - sh
    - -c
    - |
      id -u; id -G; hostname; pwd
      cat /etc/kgate/kgate.yaml; echo
      cat /var/run/secrets/creds/password; echo
      cat /etc/podinfo/labels; echo
      test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo token
      cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo
      getent hosts peer | cut -d' ' -f1
      getent hosts peer.)" +
                  ns + R"(.svc.cluster.local | cut -d' ' -f1
      echo $KUBERNETES_SERVICE_HOST
      touch /work/mine && echo work-writable
      (touch /etc/kgate/x) 2>/dev/null || echo config-read-only
      (touch /usr/x) 2>/dev/null || echo root-read-only
    securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    volumeMounts:
    - {name: settings, mountPath: /etc/kgate}
    - {name: creds, mountPath: /var/run/secrets/creds}
    - {name: info, mountPath: /etc/podinfo}
    - {name: work, mountPath: /work}
---
apiVersion: v1
kind: Pod
metadata: {name: root-refused, namespace: )" +
                  ns + R"(}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true}
  containers:
  - {name: app, image: todo-app, command: [sh, -c, "echo should not run"]}
)");
  const json done = wait_pod(
      ns, "viewer", [](const json& p) { return p["status"].value("phase", "") == "Succeeded"; },
      60s, "Succeeded");
  const std::string peer_ip = api().get(res::services, ns, "peer")["spec"].value("clusterIP", "");
  const std::string api_ip =
      api().get(res::services, "default", "kubernetes")["spec"].value("clusterIP", "");
  EXPECT_EQ(api().logs(ns, "viewer"),
            "1000\n1000 2000\nviewer\n/work\n"
            "suites: [smoke]\n"
            "s3cret\n"
            "team=\"kgate\"\n"
            "token\n" +
                ns + "\n" + peer_ip + "\n" + peer_ip + "\n" + api_ip +
                "\n"
                "work-writable\nconfig-read-only\nroot-read-only\n");

  // runAsNonRoot with no user (the image's, root here): refused as kubelet refuses it.
  const json refused = wait_pod(
      ns, "root-refused",
      [](const json& p) {
        return container_status(p)["state"]["waiting"].value("reason", "") ==
               "CreateContainerConfigError";
      },
      30s, "CreateContainerConfigError");
  EXPECT_EQ(container_status(refused)["state"]["waiting"].value("message", ""),
            "container has runAsNonRoot and image will run as root (pod: \"" + ns +
                "/root-refused\", container: app)");
  EXPECT_EQ(slurp(pod_dir(refused) / "app.log"), "");
  api().remove(res::namespaces, "", ns);
}

// `kubectl logs --previous`: the log of the instance before the last restart.
TEST_F(NodeAgentClusterTest, RestartedContainersKeepThePreviousLog) {
  const auto ns = make_namespace("na-logs");
  cluster().apply(shell_pod(ns, "counter",
                            "n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; "
                            "echo run $n; [ $n -ge 3 ] && exec sleep 600; exit 1",
                            2));
  wait_pod(
      ns, "counter",
      [](const json& p) {
        return container_status(p).value("restartCount", 0) >= 2 &&
               container_status(p)["state"].contains("running");
      },
      60s, "running after two restarts");
  auto current = cluster().kubectl({"logs", "-n", ns, "counter"});
  auto previous = cluster().kubectl({"logs", "-n", ns, "counter", "--previous"});
  EXPECT_EQ(current.output, "run 3\n");
  EXPECT_EQ(previous.output, "run 2\n");
  auto tail = cluster().kubectl({"logs", "-n", ns, "counter", "--tail=1", "--limit-bytes=3"});
  EXPECT_EQ(tail.output, "run");
  api().remove(res::namespaces, "", ns);
}

// The project's Helm chart, installed by the real helm with the images mapped to the project's
// binaries: its pods run as the chart's non-root user with a read-only root, its volumes and
// probes, and `helm test` runs kgate in a hook pod whose log stays readable afterwards.
TEST_F(NodeAgentClusterTest, TheProjectsHelmChartRunsAndItsHelmTestPasses) {
  const std::string helm = kgate::testfw::helm_binary();
  ASSERT_TRUE(fs::exists(helm)) << helm << " is missing: run scripts/install-helm.sh";
  const char* source = std::getenv("KGATE_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  const auto ns = make_namespace("na-chart");
  auto run_helm = [&](std::vector<std::string> args, std::chrono::seconds timeout) {
    auto r = cluster().command(helm, args, timeout);
    return std::pair{r.status, r.output};
  };
  // One replica each and an in-memory database: the smoke suite's writes and reads then meet
  // the same process. The images map by name (todo-app, kgate) to the built binaries.
  auto [installed, install_log] = run_helm(
      {"install", "todo", std::string(source) + "/chart/todo", "--namespace", ns, "--wait",
       "--timeout", "180s", "--set", "secrets.databaseUrl=sqlite::memory:", "--set",
       "postgresql.enabled=false", "--set", "backend.autoscaling.enabled=false", "--set",
       "frontend.autoscaling.enabled=false", "--set", "backend.replicaCount=1", "--set",
       "frontend.replicaCount=1", "--set", "backend.grace=2s", "--set", "frontend.grace=2s",
       // The smoke suite only: the full hook (security,
       // the live audit, kgate collect) is
       // release_cluster_test's.
       "--set", "tests.kgate.suites={smoke}"},
      200s);
  ASSERT_EQ(installed, 0) << install_log << "\nnode agent:\n" << cluster().log_tail("node-agent");

  auto pods = wait_for_ready_pods(api(), ns, "app.kubernetes.io/instance=todo", 2, 60s);
  for (const auto& p : pods) {
    const std::string id = container_status(p).value("containerID", "");
    ASSERT_EQ(id.rfind("process://", 0), 0u) << id;
    const std::string status = slurp("/proc/" + id.substr(10) + "/status");
    EXPECT_NE(status.find("\nUid:\t1000\t1000\t1000\t1000\n"), std::string::npos)
        << p["metadata"].value("name", "") << " does not run as the chart's user 1000";
    EXPECT_NE(status.find("\nNoNewPrivs:\t1\n"), std::string::npos);
  }

  auto [tested, test_log] =
      run_helm({"test", "todo", "--namespace", ns, "--timeout", "180s"}, 200s);
  EXPECT_EQ(tested, 0) << test_log << "\nnode agent:\n" << cluster().log_tail("node-agent");
  const json hook = pod(ns, "todo-kgate");
  EXPECT_EQ(hook["status"].value("phase", ""), "Succeeded") << hook["status"].dump();
  EXPECT_EQ(container_status(hook)["state"]["terminated"].value("exitCode", -1), 0);
  const std::string hook_log = api().logs(ns, "todo-kgate");
  EXPECT_FALSE(hook_log.empty()) << "the test pod's log must stay readable after it succeeded";
  std::cout << "helm test pod log (tail):\n"
            << hook_log.substr(hook_log.size() > 1500 ? hook_log.size() - 1500 : 0) << "\n";

  auto [removed, uninstall_log] =
      run_helm({"uninstall", "todo", "--namespace", ns, "--wait", "--timeout", "120s"}, 150s);
  EXPECT_EQ(removed, 0) << uninstall_log;
  api().remove(res::namespaces, "", ns);
}

}  // namespace
