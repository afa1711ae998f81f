// How the node agent reads a pod spec: security contexts, the downward API, resource fields,
// quantities and service environment variables, each checked against what kubelet does.
#include "pod_spec.hpp"

#include <gtest/gtest.h>

namespace kgate::nodeagent {
namespace {

using nlohmann::json;

json pod_with(json pod_security, json container_security) {
  json pod = {{"metadata", {{"name", "web-0"}, {"namespace", "shop"}}},
              {"spec", {{"containers", {{{"name", "app"}}}}}}};
  if (!pod_security.is_null()) pod["spec"]["securityContext"] = pod_security;
  if (!container_security.is_null()) {
    pod["spec"]["containers"][0]["securityContext"] = container_security;
  }
  return pod;
}

TEST(ResolveSecurity, ContainerSettingsOverrideThePods) {
  json pod = pod_with({{"runAsUser", 1000},
                       {"runAsGroup", 1000},
                       {"fsGroup", 2000},
                       {"supplementalGroups", {3000}},
                       {"runAsNonRoot", true}},
                      {{"runAsUser", 1001},
                       {"readOnlyRootFilesystem", true},
                       {"allowPrivilegeEscalation", false},
                       {"capabilities", {{"drop", {"ALL"}}}}});
  auto s = resolve_security(pod, pod["spec"]["containers"][0], 0);
  EXPECT_TRUE(s.error.empty()) << s.error;
  EXPECT_EQ(s.uid, 1001u);
  EXPECT_EQ(s.gid, 1000u);
  EXPECT_EQ(s.groups, (std::vector<unsigned>{3000, 2000}));
  EXPECT_TRUE(s.read_only_root);
  EXPECT_TRUE(s.no_new_privs);
  EXPECT_TRUE(s.drop_all_caps);
}

TEST(ResolveSecurity, NothingSetRunsAsTheImageUser) {
  json pod = pod_with(nullptr, nullptr);
  auto s = resolve_security(pod, pod["spec"]["containers"][0], 0);
  EXPECT_TRUE(s.error.empty());
  EXPECT_FALSE(s.uid);
  EXPECT_FALSE(s.gid);
  EXPECT_FALSE(s.read_only_root);
  EXPECT_FALSE(s.no_new_privs);
}

TEST(ResolveSecurity, AUserWithoutAGroupGetsGroupZero) {
  json pod = pod_with(nullptr, {{"runAsUser", 1000}});
  auto s = resolve_security(pod, pod["spec"]["containers"][0], 0);
  EXPECT_EQ(s.uid, 1000u);
  EXPECT_EQ(s.gid, 0u);
}

TEST(ResolveSecurity, RunAsNonRootRefusesRootWithKubeletsWords) {
  // An explicit uid 0.
  json pod = pod_with({{"runAsNonRoot", true}}, {{"runAsUser", 0}});
  auto s = resolve_security(pod, pod["spec"]["containers"][0], 0);
  EXPECT_EQ(s.error,
            "container's runAsUser breaks non-root policy (pod: \"shop/web-0\", container: app)");
  // No uid: the image's user, which is root here because the agent runs as root.
  pod = pod_with({{"runAsNonRoot", true}}, nullptr);
  s = resolve_security(pod, pod["spec"]["containers"][0], 0);
  EXPECT_EQ(s.error,
            "container has runAsNonRoot and image will run as root (pod: \"shop/web-0\", "
            "container: app)");
  // The container may lift the pod's demand.
  pod = pod_with({{"runAsNonRoot", true}}, {{"runAsNonRoot", false}});
  EXPECT_TRUE(resolve_security(pod, pod["spec"]["containers"][0], 0).error.empty());
  // An agent that is not root runs the image as its own, non-root, user.
  pod = pod_with({{"runAsNonRoot", true}}, nullptr);
  EXPECT_TRUE(resolve_security(pod, pod["spec"]["containers"][0], 1000).error.empty());
}

TEST(ResolveSecurity, AnAgentThatIsNotRootCannotSwitchUsers) {
  json pod = pod_with(nullptr, {{"runAsUser", 1234}});
  auto s = resolve_security(pod, pod["spec"]["containers"][0], 1000);
  EXPECT_NE(s.error.find("need the node agent to run as root"), std::string::npos) << s.error;
}

json labelled_pod() {
  return {{"metadata",
           {{"name", "load-2-abcde"},
            {"namespace", "perf"},
            {"uid", "u-1"},
            {"labels", {{"app", "kgate-load"}, {"batch.kubernetes.io/job-completion-index", "2"}}},
            {"annotations",
             {{"batch.kubernetes.io/job-completion-index", "2"}, {"note", "say \"hi\""}}}}},
          {"spec", {{"serviceAccountName", "loader"}}}};
}

TEST(FieldRef, ReadsWhatTheDownwardApiOffers) {
  NodeFacts node{"node-a", "10.244.7.1", "10.244.7.9"};
  const json pod = labelled_pod();
  EXPECT_EQ(field_ref_value(pod, "metadata.name", node), "load-2-abcde");
  EXPECT_EQ(field_ref_value(pod, "metadata.namespace", node), "perf");
  EXPECT_EQ(field_ref_value(pod, "metadata.uid", node), "u-1");
  EXPECT_EQ(field_ref_value(pod, "spec.nodeName", node), "node-a");
  EXPECT_EQ(field_ref_value(pod, "spec.serviceAccountName", node), "loader");
  EXPECT_EQ(field_ref_value(pod, "status.podIP", node), "10.244.7.9");
  EXPECT_EQ(field_ref_value(pod, "status.hostIP", node), "10.244.7.1");
  // How the Job controller hands an Indexed Job's pod its index (JOB_COMPLETION_INDEX).
  EXPECT_EQ(field_ref_value(pod, "metadata.annotations['batch.kubernetes.io/job-completion-index']",
                            node),
            "2");
  EXPECT_EQ(field_ref_value(pod, "metadata.labels['app']", node), "kgate-load");
  EXPECT_EQ(field_ref_value(pod, "metadata.labels['absent']", node), "");
  EXPECT_FALSE(field_ref_value(pod, "spec.containers", node));
  EXPECT_FALSE(field_ref_value(pod, "metadata.labels['unterminated", node));
}

TEST(FieldRef, WholeMapsAreSortedQuotedLines) {
  const json pod = labelled_pod();
  EXPECT_EQ(field_ref_value(pod, "metadata.annotations", {}),
            "batch.kubernetes.io/job-completion-index=\"2\"\nnote=\"say \\\"hi\\\"\"");
}

TEST(ParseQuantity, DecimalBinaryAndExponentSuffixes) {
  EXPECT_DOUBLE_EQ(parse_quantity("500m"), 0.5);
  EXPECT_DOUBLE_EQ(parse_quantity("2"), 2);
  EXPECT_DOUBLE_EQ(parse_quantity("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(parse_quantity("64Mi"), 64.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(parse_quantity("1Gi"), 1024.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(parse_quantity("128M"), 128e6);
  EXPECT_DOUBLE_EQ(parse_quantity("2k"), 2000);
  EXPECT_DOUBLE_EQ(parse_quantity("3e3"), 3000);
  EXPECT_DOUBLE_EQ(parse_quantity("1E"), 1e18);
  for (const char* bad : {"", "m", "1x", "1.2.3", "Mi", ".", "1e"}) {
    EXPECT_THROW(parse_quantity(bad), std::invalid_argument) << bad;
  }
  try {
    parse_quantity("12q");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "\"12q\" is not a quantity");
  }
}

TEST(ResourceFieldRef, RoundsUpToWholeDivisorsAndDefaultsLimitsToTheNode) {
  const json container = {
      {"name", "app"},
      {"resources",
       {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}}, {"limits", {{"cpu", "500m"}}}}}};
  const json pod = {{"spec", {{"containers", {container}}}}};
  NodeFacts node;
  node.cpu_cores = 2;
  node.memory_bytes = 8.0 * 1024 * 1024 * 1024;
  auto value = [&](const std::string& resource, const std::string& divisor = "") {
    json ref = {{"resource", resource}};
    if (!divisor.empty()) ref["divisor"] = divisor;
    return resource_field_value(pod, container, ref, node);
  };
  EXPECT_EQ(value("limits.cpu"), "1");  // 0.5 cores rounded up to whole cores
  EXPECT_EQ(value("limits.cpu", "1m"), "500");
  EXPECT_EQ(value("requests.cpu", "1m"), "100");
  EXPECT_EQ(value("requests.memory", "1Mi"), "64");
  EXPECT_EQ(value("limits.memory", "1Gi"), "8");  // unset: the node's allocatable
  EXPECT_EQ(value("requests.ephemeral-storage"), "0");
  EXPECT_THROW(value("limits.gpu"), std::invalid_argument);
  json other = {{"resource", "limits.cpu"}, {"containerName", "missing"}};
  EXPECT_THROW(resource_field_value(pod, container, other, node), std::invalid_argument);
}

json svc(const std::string& ns, const std::string& name, const std::string& ip, json ports) {
  return {{"metadata", {{"namespace", ns}, {"name", name}}},
          {"spec", {{"clusterIP", ip}, {"ports", ports}}}};
}

TEST(ServiceEnvironment, DockerLinkVariablesAndAlwaysTheApiServer) {
  std::vector<json> services = {
      svc("default", "kubernetes", "10.96.0.1", {{{"name", "https"}, {"port", 443}}}),
      svc("shop", "todo-backend", "10.96.0.20",
          {{{"name", "http"}, {"port", 7860}}, {{"name", "metrics"}, {"port", 9090}}}),
      svc("shop", "headless", "None", {{{"port", 80}}}),
      svc("other", "elsewhere", "10.96.0.30", {{{"port", 80}}})};
  auto env = service_environment("shop", true, services);
  EXPECT_EQ(env["KUBERNETES_SERVICE_HOST"], "10.96.0.1");
  EXPECT_EQ(env["KUBERNETES_SERVICE_PORT"], "443");
  EXPECT_EQ(env["KUBERNETES_SERVICE_PORT_HTTPS"], "443");
  EXPECT_EQ(env["KUBERNETES_PORT"], "tcp://10.96.0.1:443");
  EXPECT_EQ(env["TODO_BACKEND_SERVICE_HOST"], "10.96.0.20");
  EXPECT_EQ(env["TODO_BACKEND_SERVICE_PORT"], "7860");
  EXPECT_EQ(env["TODO_BACKEND_SERVICE_PORT_METRICS"], "9090");
  EXPECT_EQ(env["TODO_BACKEND_PORT"], "tcp://10.96.0.20:7860");
  EXPECT_EQ(env["TODO_BACKEND_PORT_9090_TCP"], "tcp://10.96.0.20:9090");
  EXPECT_EQ(env["TODO_BACKEND_PORT_9090_TCP_PROTO"], "tcp");
  EXPECT_EQ(env["TODO_BACKEND_PORT_9090_TCP_PORT"], "9090");
  EXPECT_EQ(env["TODO_BACKEND_PORT_9090_TCP_ADDR"], "10.96.0.20");
  EXPECT_EQ(env.count("HEADLESS_SERVICE_HOST"), 0u);
  EXPECT_EQ(env.count("ELSEWHERE_SERVICE_HOST"), 0u);

  // enableServiceLinks: false keeps only the API server's, as kubelet does.
  env = service_environment("shop", false, services);
  EXPECT_EQ(env.count("TODO_BACKEND_SERVICE_HOST"), 0u);
  EXPECT_EQ(env["KUBERNETES_SERVICE_HOST"], "10.96.0.1");
}

TEST(HostsFile, PodEntriesAliasesAndEveryServiceByItsDnsNames) {
  json pod = {
      {"metadata", {{"name", "web-0"}, {"namespace", "shop"}}},
      {"spec", {{"hostAliases", {{{"ip", "10.1.2.3"}, {"hostnames", {"db", "db.local"}}}}}}}};
  std::vector<json> services = {svc("shop", "todo-backend", "10.96.0.20", {{{"port", 7860}}}),
                                svc("default", "kubernetes", "10.96.0.1", {{{"port", 443}}}),
                                svc("shop", "headless", "None", {{{"port", 80}}})};
  EXPECT_EQ(hosts_file(pod, "10.244.1.7", services),
            "# Kubernetes-managed hosts file (kgate-node-agent: with every Service, as cluster DNS "
            "would answer).\n"
            "127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            "10.244.1.7\tweb-0\n"
            "\n# Entries added by HostAliases.\n"
            "10.1.2.3\tdb\tdb.local\n"
            "\n# Services (no cluster DNS on this node).\n"
            "10.96.0.20\ttodo-backend.shop.svc.cluster.local\ttodo-backend.shop.svc\t"
            "todo-backend.shop\ttodo-backend\n"
            "10.96.0.1\tkubernetes.default.svc.cluster.local\tkubernetes.default.svc\t"
            "kubernetes.default\n");
}

TEST(ExpandVars, ReferencesEscapesAndUnknowns) {
  std::map<std::string, std::string> env = {{"A", "1"}, {"B", "two"}};
  EXPECT_EQ(expand_vars("$(A)-$(B)", env), "1-two");
  EXPECT_EQ(expand_vars("$$(A) $(C) $(A", env), "$(A) $(C) $(A");
}

TEST(RewriteServiceHosts, ServiceNamesInHostPositionsBecomeClusterIps) {
  std::vector<json> services = {svc("shop", "todo-backend", "10.96.0.20", {{{"port", 7860}}})};
  EXPECT_EQ(rewrite_service_hosts("http://todo-backend:7860/api", "shop", services),
            "http://10.96.0.20:7860/api");
  EXPECT_EQ(
      rewrite_service_hosts("http://todo-backend.shop.svc.cluster.local:7860", "other", services),
      "http://10.96.0.20:7860");
  // Another namespace's short name, or the name as a word, stays.
  EXPECT_EQ(rewrite_service_hosts("http://todo-backend:7860", "other", services),
            "http://todo-backend:7860");
  EXPECT_EQ(rewrite_service_hosts("the todo-backend is down", "shop", services),
            "the todo-backend is down");
}

TEST(ImageKey, LastPathComponentWithoutTagOrDigest) {
  EXPECT_EQ(image_key("ghcr.io/kgate/todo-app:1.2"), "todo-app");
  EXPECT_EQ(image_key("kgate/kgate@sha256:abc"), "kgate");
  EXPECT_EQ(image_key("localhost:5000/x/y:z"), "y");
}

}  // namespace
}  // namespace kgate::nodeagent
