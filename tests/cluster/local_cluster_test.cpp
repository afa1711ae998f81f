// The local cluster end to end: real etcd, kube-apiserver and kube-controller-manager, and
// kgate-node-agent running the pods as todo-app processes. The real Deployment, ReplicaSet,
// EndpointSlice and HPA controllers decide; these tests check what they decided, over the API,
// kubectl and HTTP through the Services.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <kgate/http.hpp>
#include <kgate/kube/client.hpp>
#include <kgate/process.hpp>
#include <kgate/wait.hpp>

#include "framework/local_cluster.hpp"

namespace {

using namespace std::chrono_literals;
using kgate::testfw::LocalCluster;
using kgate::testfw::wait_for_ready_pods;
using nlohmann::json;
namespace res = kgate::kube::resources;

// A todo-app Deployment and its Service; cpu requests let the HPA compute utilization.
std::string todo_api(const std::string& name, int replicas, const std::string& cpu = "100m") {
  return R"(apiVersion: v1
kind: Secret
metadata: {name: )" +
         name + R"(-secret}
stringData: {BETTER_AUTH_SECRET: cluster-test-secret-0123456789abcdef}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: )" +
         name + R"(}
spec:
  replicas: )" +
         std::to_string(replicas) + R"(
  selector: {matchLabels: {app: )" +
         name + R"(}}
  template:
    metadata: {labels: {app: )" +
         name + R"(}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: api
        image: ghcr.io/kgate/todo-app:dev
        args: ["--role", "api", "--bind", "0.0.0.0", "--port", "7860", "--threads", "1", "--grace", "2s"]
        env:
        - name: BETTER_AUTH_SECRET
          valueFrom: {secretKeyRef: {name: )" +
         name + R"(-secret, key: BETTER_AUTH_SECRET}}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        ports: [{name: http, containerPort: 7860}]
        resources: {requests: {cpu: )" +
         cpu + R"(, memory: 32Mi}}
        readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 1}
        livenessProbe: {tcpSocket: {port: http}, periodSeconds: 1, failureThreshold: 2}
---
apiVersion: v1
kind: Service
metadata: {name: )" +
         name + R"(}
spec:
  selector: {app: )" +
         name + R"(}
  ports: [{name: http, port: 7860, targetPort: http}]
)";
}

class LocalClusterTest : public ::testing::Test {
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

  // GET url through a fresh connection each time, as a client behind a Service would.
  static int get_status(const std::string& url) {
    kgate::http::ClientOptions o;
    o.connect_timeout = 2s;
    o.request_timeout = 3s;
    o.keep_alive = false;
    kgate::http::Client client(o);
    try {
      return client.send({.method = "GET", .url = url, .headers = {}, .body = {}}).status;
    } catch (const kgate::http::TransportError&) {
      return 0;
    }
  }

  static LocalCluster* cluster_;
};
LocalCluster* LocalClusterTest::cluster_ = nullptr;

TEST_F(LocalClusterTest, NodeIsReadyAndKubectlWorks) {
  auto node = api().get(res::nodes, "", "kgate-node");
  bool ready = false;
  for (const auto& c : node["status"]["conditions"]) {
    if (c["type"] == "Ready") ready = c["status"] == "True";
  }
  EXPECT_TRUE(ready) << node["status"].dump(2);

  auto r = cluster().kubectl({"get", "nodes", "-o", "name"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("node/kgate-node"), std::string::npos) << r.output;
}

// The cluster lives in its own network namespace: the host's namespace has no address, route or
// listening socket in 10.0.0.0/8, while the cluster's namespace carries the pod and Service
// ranges (the same commands, run there, show them: the check can fail).
TEST_F(LocalClusterTest, HostNetworkHasNothingOfTheCluster) {
  const std::regex ten(R"((^|[^0-9.])10\.[0-9]+\.[0-9]+\.[0-9]+)");
  const std::vector<std::vector<std::string>> commands{
      {"ip", "-4", "addr"}, {"ip", "-4", "route", "show", "table", "all"}, {"ss", "-ltnH"}};
  for (const auto& argv : commands) {
    auto host = cluster().on_host(argv);
    ASSERT_EQ(host.status, 0) << host.output;
    std::smatch m;
    EXPECT_FALSE(std::regex_search(host.output, m, ten))
        << "the host's namespace shows " << m.str() << " in `" << argv[0] << " " << argv[1]
        << "`:\n"
        << host.output;
  }
  auto inside = cluster().command("ip", {"-4", "route", "show", "table", "all"});
  ASSERT_EQ(inside.status, 0) << inside.output;
  EXPECT_NE(inside.output.find("local 10.244.1.0/24 dev lo"), std::string::npos) << inside.output;
  EXPECT_NE(inside.output.find("local 10.96.1.0/24 dev lo"), std::string::npos) << inside.output;
  auto listening = cluster().command("ss", {"-ltnH"});
  EXPECT_NE(listening.output.find("10.244.1.1:10250"), std::string::npos)
      << "the node agent listens on the node's address inside the namespace:\n"
      << listening.output;
}

TEST_F(LocalClusterTest, DeploymentServesTheApiThroughItsService) {
  cluster().apply(todo_api("todo-serve", 2));
  auto pods = wait_for_ready_pods(api(), "default", "app=todo-serve", 2, 90s);
  std::set<std::string> ips;
  for (const auto& p : pods) ips.insert(p["status"].value("podIP", ""));
  EXPECT_EQ(ips.size(), 2u) << "each pod has its own IP";

  const std::string url = kgate::testfw::service_url(api(), "default", "todo-serve");
  auto served = kgate::wait_until(
      [&](std::string* why) {
        int s = get_status(url + "/health");
        *why = "GET " + url + "/health -> " + std::to_string(s);
        return s == 200;
      },
      30s);
  EXPECT_TRUE(served.ok) << served.last_error;
  // The API itself answers through the Service: no token is a 401, not a connection error.
  EXPECT_EQ(get_status(url + "/api/someone/tasks"), 401);

  auto logs = cluster().kubectl({"logs", pods[0]["metadata"].value("name", "")});
  EXPECT_EQ(logs.status, 0) << logs.output;
  EXPECT_FALSE(logs.output.empty());
  // The tcpSocket liveness probe (every second) has been passing all along.
  for (const auto& p : kgate::testfw::ready_pods(api(), "default", "app=todo-serve")) {
    EXPECT_EQ(p["status"]["containerStatuses"][0].value("restartCount", -1), 0) << p["status"];
  }
}

TEST_F(LocalClusterTest, DeletedPodIsReplacedWhileTrafficFlows) {
  cluster().apply(todo_api("todo-heal", 2));
  auto pods = wait_for_ready_pods(api(), "default", "app=todo-heal", 2, 90s);
  const std::string url = kgate::testfw::service_url(api(), "default", "todo-heal") + "/health";
  ASSERT_TRUE(kgate::wait_until([&](std::string*) { return get_status(url) == 200; }, 30s).ok);

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::thread traffic([&] {
    while (!stop) (get_status(url) == 200 ? ok : failed)++;
  });
  const std::string victim = pods[0]["metadata"].value("name", "");
  api().remove(res::pods, "default", victim);
  std::vector<json> now;
  auto replaced = kgate::wait_until(
      [&](std::string* why) {
        now = kgate::testfw::ready_pods(api(), "default", "app=todo-heal");
        *why = std::to_string(now.size()) + " ready";
        if (now.size() != 2) return false;
        for (const auto& p : now) {
          if (p["metadata"].value("name", "") == victim) return false;
        }
        return true;
      },
      90s);
  if (!replaced.ok) {
    stop = true;
    traffic.join();
  }
  ASSERT_TRUE(replaced.ok) << replaced.last_error;
  auto finalized = kgate::wait_until(
      [&](std::string*) { return !api().find(res::pods, "default", victim); }, 30s);
  // Once the replacement serves and the deleted pod is gone, nothing may fail any more.
  const int ok_settled = ok.load(), failed_settled = failed.load();
  const bool flowing =
      kgate::wait_until([&](std::string*) { return ok.load() > ok_settled + 50; }, 15s).ok;
  stop = true;
  traffic.join();
  EXPECT_TRUE(finalized.ok) << "the deleted pod is finalized";
  EXPECT_TRUE(flowing) << "traffic stopped flowing after the replacement";
  EXPECT_EQ(failed.load(), failed_settled) << "failures after the replacement was ready";
  // While the pod terminates, a connection can still reach it in the moment before its
  // endpoint is withdrawn (kube-proxy has the same window without a preStop hook): a few
  // failures are tolerated there, not a broken Service.
  const double failure_rate = static_cast<double>(failed) / static_cast<double>(ok + failed);
  std::cout << "traffic during the replacement: " << ok << " ok, " << failed << " failed\n";
  EXPECT_LT(failure_rate, 0.05) << ok << " ok, " << failed << " failed";
}

TEST_F(LocalClusterTest, RolloutRestartReplacesEveryPod) {
  cluster().apply(todo_api("todo-roll", 2));
  auto before = wait_for_ready_pods(api(), "default", "app=todo-roll", 2, 90s);
  auto r = cluster().kubectl({"rollout", "restart", "deployment/todo-roll"});
  ASSERT_EQ(r.status, 0) << r.output;
  r = cluster().kubectl({"rollout", "status", "deployment/todo-roll", "--timeout=120s"}, 130s);
  ASSERT_EQ(r.status, 0) << r.output;
  auto after = wait_for_ready_pods(api(), "default", "app=todo-roll", 2, 60s);
  for (const auto& old : before) {
    for (const auto& pod : after) {
      EXPECT_NE(old["metadata"]["uid"], pod["metadata"]["uid"]) << "a pod survived the restart";
    }
  }
}

// The real HPA controller, on CPU the node agent reads from /proc, while kgate loads the
// Service: 1 replica grows to at least 3, and shrinks back once the load stops.
TEST_F(LocalClusterTest, HpaScalesUpUnderKgateLoadAndBackDown) {
  // A small request makes a modest load a large utilization on this 2-core machine.
  cluster().apply(todo_api("todo-hpa", 1, "20m") + R"(---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: todo-hpa}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: todo-hpa}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
)");
  wait_for_ready_pods(api(), "default", "app=todo-hpa", 1, 90s);
  const std::string url = kgate::testfw::service_url(api(), "default", "todo-hpa") + "/health";

  const char* build = std::getenv("KGATE_BUILD_DIR");
  ASSERT_NE(build, nullptr);
  kgate::ProcessSpec load;
  load.program = std::string(build) + "/core/kgate";
  load.args = {"load",          url,
               "--rate",        "1500",
               "--duration",    "120s",
               "--connections", "32",
               "--out",         cluster().dir() + "/hpa-load.json"};
  load.log_path = cluster().dir() + "/hpa-load.log";
  kgate::ChildProcess loader(load);

  auto replicas = [&] {
    auto hpa = api().get(res::horizontal_pod_autoscalers, "default", "todo-hpa");
    return hpa.value("status", json::object()).value("currentReplicas", 0);
  };
  std::string top;
  auto scaled_up = kgate::wait_until(
      [&](std::string* why) {
        auto r = cluster().kubectl({"top", "pods", "-l", "app=todo-hpa", "--no-headers"});
        std::istringstream lines(r.output);
        for (std::string name, cpu, rest; lines >> name >> cpu && std::getline(lines, rest);) {
          if (r.status == 0 && cpu != "0m") top = r.output;  // some pod burns measurable CPU
        }
        *why = "replicas " + std::to_string(replicas()) + "; top: " + r.output;
        return replicas() >= 3;
      },
      90s, 1s);
  loader.signal(SIGINT);  // Ctrl-C: kgate stops and still writes its results
  EXPECT_EQ(loader.wait(15s).value_or(-1), 130) << "interrupted is 130: " << loader.log_tail();
  EXPECT_TRUE(std::filesystem::exists(cluster().dir() + "/hpa-load.json"));
  ASSERT_TRUE(scaled_up.ok) << scaled_up.last_error;
  EXPECT_FALSE(top.empty()) << "kubectl top pods never showed non-zero CPU";
  std::cout << "kubectl top pods under load:\n" << top;

  auto scaled_down = kgate::wait_until(
      [&](std::string* why) {
        *why = "replicas " + std::to_string(replicas());
        return replicas() == 1;
      },
      120s, 1s);
  EXPECT_TRUE(scaled_down.ok) << scaled_down.last_error;
  std::cout << "scaled up in " << scaled_up.waited.count() << " ms, down in "
            << scaled_down.waited.count() << " ms after the load stopped\n";
}

// kubelet's duties: a crashing container restarts with back-off, a failed liveness probe
// restarts a live one, and a pod that runs to completion under restartPolicy Never succeeds.
TEST_F(LocalClusterTest, ContainersRestartOnCrashAndOnFailedLivenessAndPodsComplete) {
  cluster().apply(R"(apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
  - {name: app, image: todo-app, args: ["--no-such-flag"]}
---
apiVersion: v1
kind: Pod
metadata: {name: not-alive}
spec:
  containers:
  - name: app
    image: todo-app
    args: ["--bind", "0.0.0.0", "--port", "7860", "--threads", "1", "--grace", "1s"]
    env: [{name: BETTER_AUTH_SECRET, value: cluster-test-secret-0123456789abcdef}]
    livenessProbe: {tcpSocket: {port: 7999}, periodSeconds: 1, failureThreshold: 2}
---
apiVersion: v1
kind: Pod
metadata: {name: one-shot}
spec:
  restartPolicy: Never
  containers:
  - {name: app, image: todo-app, args: ["--version"]}
)");
  auto container_status = [&](const std::string& pod) {
    auto p = api().get(res::pods, "default", pod);
    auto statuses = p.value("status", json::object()).value("containerStatuses", json::array());
    return statuses.empty() ? json::object() : statuses[0];
  };
  auto restarted = [&](const std::string& pod, int times) {
    return kgate::wait_until(
        [&](std::string* why) {
          auto s = container_status(pod);
          *why = s.dump();
          return s.value("restartCount", 0) >= times;
        },
        60s);
  };
  auto crash = restarted("crasher", 2);
  ASSERT_TRUE(crash.ok) << crash.last_error;
  EXPECT_EQ(container_status("crasher")["lastState"]["terminated"].value("exitCode", 0), 2)
      << "todo-app's usage error is exit 2";
  auto liveness = restarted("not-alive", 1);
  EXPECT_TRUE(liveness.ok) << liveness.last_error;
  EXPECT_EQ(container_status("not-alive")["lastState"]["terminated"].value("exitCode", -1), 0)
      << "stopped by SIGTERM after failed probes (a clean drain), not a crash";

  auto done = kgate::wait_until(
      [&](std::string* why) {
        auto p = api().get(res::pods, "default", "one-shot");
        *why = p.value("status", json::object()).dump();
        return p["status"].value("phase", "") == "Succeeded";
      },
      30s);
  EXPECT_TRUE(done.ok) << done.last_error;
  EXPECT_EQ(container_status("one-shot")["state"]["terminated"].value("exitCode", -1), 0);
  EXPECT_EQ(container_status("one-shot").value("restartCount", -1), 0);
  for (const char* name : {"crasher", "not-alive", "one-shot"}) {
    api().remove(res::pods, "default", name);
  }
}

// `kgate cluster-info`: the kubeconfig as kubectl reads it, with distinct exits for a bad
// configuration (2) and a cluster that does not answer (3); no credential is printed.
TEST_F(LocalClusterTest, KgateClusterInfoReadsTheKubeconfigAndReachesTheApiServer) {
  auto kgate_cli = [&](std::vector<std::string> args) {
    kgate::ProcessSpec spec;
    spec.program = std::string(std::getenv("KGATE_BUILD_DIR")) + "/core/kgate";
    spec.args = std::move(args);
    spec.env_unset = {"KUBECONFIG"};
    spec.log_path = cluster().dir() + "/cluster-info.out";
    kgate::ChildProcess p(spec);
    const int status = p.wait(30s).value_or(-1);
    std::ifstream in(spec.log_path);
    return std::pair{status, std::string(std::istreambuf_iterator<char>(in), {})};
  };
  auto [ok, out] = kgate_cli({"cluster-info", "--kubeconfig", cluster().kubeconfig()});
  EXPECT_EQ(ok, 0) << out;
  EXPECT_NE(out.find("version:   v1.37.2"), std::string::npos) << out;
  EXPECT_NE(out.find("client certificate"), std::string::npos) << out;
  EXPECT_EQ(out.find("BEGIN"), std::string::npos) << "no key material in the output";

  auto [bad_context, why] =
      kgate_cli({"cluster-info", "--kubeconfig", cluster().kubeconfig(), "--context", "nope"});
  EXPECT_EQ(bad_context, 2) << why;
  EXPECT_NE(why.find("\"nope\""), std::string::npos) << why;

  std::ifstream in(cluster().kubeconfig());
  std::string text(std::istreambuf_iterator<char>(in), {});
  const auto at = text.find("server: ");
  text.replace(at, text.find('\n', at) - at, "server: https://127.0.0.1:1");
  const std::string dead = cluster().dir() + "/dead.kubeconfig";
  std::ofstream(dead) << text;
  auto [unreachable, said] = kgate_cli({"cluster-info", "--kubeconfig", dead});
  EXPECT_EQ(unreachable, 3) << said;
  EXPECT_NE(said.find("127.0.0.1:1"), std::string::npos) << said;
}

// kgate's Kubernetes client against the real API server.
TEST_F(LocalClusterTest, ClientPagesPatchesAndHonoursPreconditions) {
  for (int i = 0; i < 5; ++i) {
    api().create(
        res::config_maps, "default",
        {{"apiVersion", "v1"},
         {"kind", "ConfigMap"},
         {"metadata", {{"name", "page-" + std::to_string(i)}, {"labels", {{"t", "page"}}}}},
         {"data", {{"i", std::to_string(i)}}}});
  }
  kgate::kube::ListOptions lo;
  lo.label_selector = "t=page";
  lo.page_size = 2;  // three pages, followed through continue tokens
  EXPECT_EQ(api().list(res::config_maps, "default", lo)["items"].size(), 5u);

  auto patched = api().patch(res::config_maps, "default", "page-0", {{"data", {{"extra", "x"}}}});
  EXPECT_EQ(patched["data"]["extra"], "x");
  EXPECT_EQ(patched["data"]["i"], "0") << "a merge patch keeps what it does not name";

  json stale = patched;
  stale["metadata"]["resourceVersion"] = "1";
  try {
    api().update(res::config_maps, "default", "page-0", stale);
    ADD_FAILURE() << "an update with a stale resourceVersion must conflict";
  } catch (const kgate::kube::ApiError& e) {
    EXPECT_EQ(e.http_status(), 409);
    EXPECT_EQ(e.reason(), "Conflict");
    EXPECT_NE(std::string(e.what()).find("update configmaps \"page-0\" in namespace \"default\""),
              std::string::npos)
        << e.what();
  }
  kgate::kube::DeleteOptions wrong;
  wrong.precondition_uid = "00000000-0000-0000-0000-000000000000";
  EXPECT_THROW(api().remove(res::config_maps, "default", "page-1", wrong), kgate::kube::ApiError);
  EXPECT_TRUE(api().find(res::config_maps, "default", "page-1"));
  for (int i = 0; i < 5; ++i)
    api().remove(res::config_maps, "default", "page-" + std::to_string(i));
  EXPECT_FALSE(api().find(res::config_maps, "default", "page-1"));
}

TEST_F(LocalClusterTest, ClientWatchResumesAcrossEndedStreamsWithoutLossOrRepeats) {
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::string> added;
  int relists = 0;
  kgate::kube::WatchOptions wo;
  wo.label_selector = "t=watch";
  wo.timeout_seconds = 1;  // the server ends each stream after 1 s; the client must resume
  std::thread watcher([&] {
    api().watch(
        res::config_maps, "default", wo,
        [&](const kgate::kube::WatchEvent& e) {
          std::lock_guard lock(mutex);
          if (e.type == "RELIST") relists++;
          if (e.type == "ADDED") added.push_back(e.object["metadata"].value("name", ""));
          return true;
        },
        &stop);
  });
  ASSERT_TRUE(kgate::wait_until(
                  [&](std::string*) {
                    std::lock_guard lock(mutex);
                    return relists == 1;
                  },
                  10s)
                  .ok);
  // Objects created over about 3 s span several streams.
  std::vector<std::string> want;
  const auto until = std::chrono::steady_clock::now() + 3s;
  for (int i = 0; std::chrono::steady_clock::now() < until && i < 30; ++i) {
    want.push_back("watch-" + std::to_string(i));
    api().create(res::config_maps, "default",
                 {{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", {{"name", want.back()}, {"labels", {{"t", "watch"}}}}}});
    // Pacing, not synchronisation: the point is that time passes across stream ends.
    std::this_thread::sleep_for(250ms);
  }
  auto seen = kgate::wait_until(
      [&](std::string* why) {
        std::lock_guard lock(mutex);
        *why = std::to_string(added.size()) + " of " + std::to_string(want.size()) + " seen";
        return added.size() >= want.size();
      },
      10s);
  stop = true;
  watcher.join();
  EXPECT_TRUE(seen.ok) << seen.last_error;
  EXPECT_EQ(added, want) << "every object once, in order";
  EXPECT_EQ(relists, 1) << "resuming from the last resourceVersion needs no relist";
  for (const auto& name : want) api().remove(res::config_maps, "default", name);
}

TEST_F(LocalClusterTest, ForbiddenSaysWhichVerbOnWhichResourceWhere) {
  // An identity the cluster's CA vouches for, with no RBAC grants at all.
  const std::string pki = cluster().dir() + "/pki";
  const std::string key = cluster().dir() + "/nobody.key", crt = cluster().dir() + "/nobody.crt";
  const std::string cmd =
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key + " -out " +
      key + ".csr -subj /CN=kgate-nobody 2>/dev/null && openssl x509 -req -in " + key +
      ".csr -CA " + pki + "/ca.crt -CAkey " + pki + "/ca.key -CAcreateserial -days 1 -out " + crt +
      " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  kgate::kube::ClusterConfig config = api().config();
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  config.client_cert_pem = read(crt);
  config.client_key_pem = read(key);
  kgate::kube::Client nobody(config);
  try {
    nobody.list(res::pods, "default");
    ADD_FAILURE() << "listing pods without a grant must be forbidden";
  } catch (const kgate::kube::ApiError& e) {
    EXPECT_EQ(e.http_status(), 403);
    EXPECT_NE(
        std::string(e.what()).find("forbidden: kgate may not list pods in namespace \"default\""),
        std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("kgate-nobody"), std::string::npos)
        << "the API's own message names the user: " << e.what();
  }
}

}  // namespace
