// kgate audit against live objects on the local cluster: the same rules as offline, read through
// kube::Client (list/get only). The sidecar case: a running pod carries a container its
// ReplicaSet's template lacks (as an injector adds one), without the cpu request the HPA's
// Utilization metric needs; only the live audit can see it. A planted Secret value never reaches
// any output.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <kgate/audit/live.hpp>
#include <kgate/audit/rules.hpp>
#include <kgate/kube/client.hpp>
#include <kgate/wait.hpp>

#include "framework/local_cluster.hpp"

namespace {

using namespace std::chrono_literals;
using kgate::testfw::kgate_binary;
using kgate::testfw::LocalCluster;
using kgate::testfw::read_file;
using nlohmann::json;
namespace res = kgate::kube::resources;

const std::string kNs = "audit-live";

const std::string kPlanted = "planted-live-secret-Vb7Nq3Zr5Xw1";

// The app's pod spec; `sidecar` adds a container without a cpu request (its memory limit
// defaults its memory request).
std::string pod_spec(bool sidecar, int indent) {
  std::string spec = R"(automountServiceAccountToken: false
terminationGracePeriodSeconds: 5
securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
containers:
- name: api
  image: ghcr.io/kgate/todo-app:dev
  args: ["--role", "api", "--bind", "0.0.0.0", "--port", "7860", "--threads", "1"]
  env:
  - name: BETTER_AUTH_SECRET
    valueFrom: {secretKeyRef: {name: audit-secret, key: BETTER_AUTH_SECRET}}
  ports: [{name: http, containerPort: 7860}]
  resources: {requests: {cpu: 50m, memory: 32Mi}, limits: {memory: 128Mi}}
  readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 1}
  livenessProbe: {tcpSocket: {port: http}, periodSeconds: 2}
  securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
)";
  if (sidecar)
    spec += R"(- name: mesh-proxy
  image: ghcr.io/kgate/todo-app:dev
  args: ["--role", "api", "--bind", "0.0.0.0", "--port", "7861", "--threads", "1"]
  env:
  - name: BETTER_AUTH_SECRET
    valueFrom: {secretKeyRef: {name: audit-secret, key: BETTER_AUTH_SECRET}}
  ports: [{name: proxy, containerPort: 7861}]
  resources: {limits: {memory: 64Mi}}
  readinessProbe: {httpGet: {path: /health, port: proxy}, periodSeconds: 1}
  livenessProbe: {tcpSocket: {port: proxy}, periodSeconds: 2}
  securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
)";
  std::string pad(indent, ' '), out;
  for (std::size_t pos = 0; pos < spec.size();) {
    auto end = spec.find('\n', pos);
    out += pad + spec.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  return out;
}

void create_objects(LocalCluster& c);

class AuditClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new LocalCluster(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static void ensure_objects() {
    static bool created = false;
    if (created) return;
    create_objects(*cluster_);
    created = !::testing::Test::HasFatalFailure();
  }
  static LocalCluster* cluster_;
};
LocalCluster* AuditClusterTest::cluster_ = nullptr;

// The namespace both stories audit: a ReplicaSet whose template has its requests, an adopted pod
// with an injected sidecar without a cpu request, an HPA on cpu Utilization, a Secret with a
// planted value. Created once (the first test to run), the stories only read it.
void create_objects(LocalCluster& c) {
  c.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: " + kNs + "}\n");
  // Pods are admitted once the namespace's default service account exists (its controller
  // creates it shortly after the namespace).
  auto sa = kgate::wait_until(
      [&](std::string*) {
        return c.client().find(res::service_accounts, kNs, "default").has_value();
      },
      30s, 100ms);
  ASSERT_TRUE(sa.ok) << "no default service account in " << kNs;
  c.apply(R"(apiVersion: v1
kind: Secret
metadata: {name: audit-secret, namespace: audit-live, labels: {app: audit-live}}
stringData: {BETTER_AUTH_SECRET: )" +
          kPlanted + R"(}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: audit-live, namespace: audit-live, labels: {app: audit-live}}
spec:
  podSelector: {matchLabels: {app: audit-live}}
  policyTypes: [Ingress]
  ingress: [{ports: [{port: 7860}]}]
)");
  // The pod with the extra container first, then the ReplicaSet: the ReplicaSet controller
  // adopts the matching orphan (it becomes its controller) and, at one replica, keeps it.
  c.apply(R"(apiVersion: v1
kind: Pod
metadata: {name: audit-live-injected, namespace: audit-live, labels: {app: audit-live}}
spec:
)" + pod_spec(true, 2));
  c.apply(R"(apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: audit-live, namespace: audit-live, labels: {app: audit-live}}
spec:
  replicas: 1
  selector: {matchLabels: {app: audit-live}}
  template:
    metadata: {labels: {app: audit-live}}
    spec:
)" + pod_spec(false, 6));
  auto adopted = kgate::wait_until(
      [&](std::string* why) {
        auto pod = c.client().get(res::pods, kNs, "audit-live-injected");
        for (const auto& r : pod["metadata"].value("ownerReferences", json::array()))
          if (r.value("kind", "") == "ReplicaSet" && r.value("controller", false)) return true;
        *why = "not adopted yet";
        return false;
      },
      60s, 200ms);
  ASSERT_TRUE(adopted.ok) << adopted.last_error;
  c.apply(R"(apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: audit-live, namespace: audit-live, labels: {app: audit-live}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: ReplicaSet, name: audit-live}
  minReplicas: 2
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
)");
}

TEST_F(AuditClusterTest, LiveAuditSeesTheInjectedSidecarAndNeverASecretValue) {
  auto& c = *cluster_;
  ASSERT_NO_FATAL_FAILURE(ensure_objects());

  // The library: Secret values are blanked as they arrive.
  auto objects = kgate::audit::load_live(c.client(), {kNs, "app=audit-live"});
  bool saw_secret = false;
  for (const auto& o : objects) {
    EXPECT_EQ(o.body.dump().find(kPlanted), std::string::npos) << o.ref();
    if (o.kind() == "Secret") {
      saw_secret = true;
      EXPECT_EQ(o.body["data"]["BETTER_AUTH_SECRET"], "");  // the key, not the value
    }
  }
  EXPECT_TRUE(saw_secret);

  // The command, as CI runs it (in the cluster's network, as the LocalCluster runs programs).
  char tmpl[] = "/tmp/kgate-audit-live-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto r = c.command(kgate_binary(),
                     {"audit", "--live", "--kubeconfig", c.kubeconfig(), "-n", kNs, "-l",
                      "app=audit-live", "--report-dir", dir, "--sarif", dir + "/audit.sarif", "-v"},
                     120s);
  std::cout << "kgate audit --live:\n" << r.output;
  EXPECT_EQ(r.status, 1) << r.output;
  auto results = json::parse(read_file(dir + "/results.json"), nullptr, false);
  ASSERT_TRUE(results.is_object()) << r.output;
  std::set<std::string> failed;
  json hpa;
  for (const auto& check : results["checks"]) {
    std::string id = check.value("classname", "") + "." + check.value("name", "");
    if (check.value("status", "") == "failed") failed.insert(id);
    if (id == "audit.CrossObject.hpa-requests") hpa = check;
  }
  EXPECT_EQ(failed, (std::set<std::string>{"audit.CrossObject.hpa-requests",
                                           "audit.Reliability.resource-requests"}))
      << r.output;
  EXPECT_NE(hpa.value("detail", "")
                .find("Pod/audit-live-injected: container 'mesh-proxy' of pod "
                      "'audit-live-injected' (not in ReplicaSet/audit-live's "
                      "template) has no cpu request"),
            std::string::npos)
      << hpa.dump(1);
  EXPECT_EQ(hpa.value("detail", "").find("container 'api'"), std::string::npos)
      << "the template's container has its request";
  for (const auto* name : {"results.json", "junit.xml", "report.html", "audit.sarif"}) {
    std::string content = read_file(dir + "/" + name);
    EXPECT_FALSE(content.empty()) << name;
    EXPECT_EQ(content.find(kPlanted), std::string::npos) << "the planted value in " << name;
  }
  EXPECT_EQ(r.output.find(kPlanted), std::string::npos) << "the planted value on the console";
  std::filesystem::remove_all(dir);
}

}  // namespace

namespace {

std::set<std::string> with_status(const json& results, const std::string& status) {
  std::set<std::string> out;
  for (const auto& check : results["checks"])
    if (check.value("status", "") == status) out.insert(check.value("id", ""));
  return out;
}

const json* check_of(const json& results, const std::string& id) {
  for (const auto& check : results["checks"])
    if (check.value("id", "") == id) return &check;
  return nullptr;
}

std::string property(const json& check, const std::string& name) {
  return check.value("properties", json::object()).value(name, "");
}

}  // namespace

// The same rules as checks of `kgate run --suites audit`: one check per rule, reading the live
// objects once (the suite's fixture), the findings as failures at or above suites.audit.fail_on,
// a suppression from kgate.yaml visible as such. No HTTP target: the run starts no app.
TEST_F(AuditClusterTest, TheAuditSuiteOfKgateRunGatesOnTheLiveObjects) {
  auto& c = *cluster_;
  ASSERT_NO_FATAL_FAILURE(ensure_objects());
  char tmpl[] = "/tmp/kgate-audit-suite-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  auto run = [&](const std::string& name, const std::string& audit_yaml) {
    const std::string config = dir + "/" + name + ".yaml";
    std::ofstream(config) << "kubernetes:\n  kubeconfig: " << c.kubeconfig()
                          << "\n  namespace: " << kNs
                          << "\n  deployments:\n    backend: audit-live\n"
                          << "suites:\n  audit:\n    selector: app=audit-live\n"
                          << audit_yaml;
    auto r = c.command(
        kgate_binary(),
        {"run", "--config", config, "--suites", "audit", "--report-dir", dir + "/" + name}, 120s);
    std::cout << "kgate run --suites audit (" << name << "):\n" << r.output;
    EXPECT_EQ(r.output.find(kPlanted), std::string::npos) << "the planted value on the console";
    for (const auto* f : {"results.json", "junit.xml", "report.html"})
      EXPECT_EQ(read_file(dir + "/" + name + "/" + f).find(kPlanted), std::string::npos) << f;
    return std::pair{r, json::parse(read_file(dir + "/" + name + "/results.json"), nullptr, false)};
  };

  // Every rule is a check; the two defects fail it, exactly.
  auto [plain, results] = run("plain", "");
  EXPECT_EQ(plain.status, 1) << plain.output;
  ASSERT_TRUE(results.is_object()) << plain.output;
  EXPECT_EQ(results["checks"].size(), kgate::audit::all_rules().size());
  EXPECT_EQ(plain.output.find("embedded reference todo-app"), std::string::npos)
      << "an audit-only run needs no HTTP target";
  EXPECT_EQ(with_status(results, "failed"),
            (std::set<std::string>{"audit.CrossObject.hpa-requests",
                                   "audit.Reliability.resource-requests"}));
  // Below the default floor (medium): a warning, not a failure.
  EXPECT_EQ(with_status(results, "warning"),
            (std::set<std::string>{"audit.Reliability.image-digest"}));
  const json* hpa = check_of(results, "audit.CrossObject.hpa-requests");
  ASSERT_NE(hpa, nullptr);
  EXPECT_NE(hpa->dump().find("container 'mesh-proxy'"), std::string::npos) << hpa->dump(1);
  EXPECT_EQ(hpa->value("severity", ""), "high") << hpa->dump(1);
  EXPECT_FALSE(hpa->value("reference", "").empty()) << hpa->dump(1);

  // A suppression with its reason: that rule passes, its finding still shown as suppressed.
  auto [quiet, suppressed] = run("suppressed", R"(    suppressions:
      - rule: resource-requests
        object: Pod/audit-live-injected
        reason: the mesh sidecar's requests come from its injector (ticket 42)
)");
  EXPECT_EQ(quiet.status, 1) << quiet.output;
  ASSERT_TRUE(suppressed.is_object()) << quiet.output;
  EXPECT_EQ(with_status(suppressed, "failed"),
            (std::set<std::string>{"audit.CrossObject.hpa-requests"}));
  const json* rr = check_of(suppressed, "audit.Reliability.resource-requests");
  ASSERT_NE(rr, nullptr);
  EXPECT_EQ(rr->value("status", ""), "passed") << rr->dump(1);
  EXPECT_NE(property(*rr, "suppressed findings").find("Pod/audit-live-injected"), std::string::npos)
      << rr->dump(1);
  EXPECT_NE(property(*rr, "suppressed findings").find("ticket 42"), std::string::npos)
      << rr->dump(1);

  // Below the floor: with fail_on critical the same findings are warnings and the gate passes.
  auto [lenient, warned] = run("lenient", "    fail_on: critical\n");
  EXPECT_EQ(lenient.status, 0) << lenient.output;
  ASSERT_TRUE(warned.is_object()) << lenient.output;
  EXPECT_TRUE(with_status(warned, "failed").empty());
  EXPECT_EQ(
      with_status(warned, "warning"),
      (std::set<std::string>{"audit.CrossObject.hpa-requests", "audit.Reliability.image-digest",
                             "audit.Reliability.resource-requests"}));
  std::filesystem::remove_all(dir);
}
