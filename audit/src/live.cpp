#include "kgate/audit/live.hpp"

#include <set>

#include "kgate/kube/client.hpp"

namespace kgate::audit {
namespace {

struct Kind {
  kube::ResourceType type;
  const char* kind;
  bool selected;  // listed with the app's label selector (else: every object of the namespace)
  // The rules that cannot decide when this kind cannot be read (besides those that only look
  // at what is there: a missing Deployment list simply leaves nothing to inspect).
  std::vector<std::string> rules;
};

const std::vector<std::string> kRbacRules = {"rbac-no-wildcards", "rbac-no-cluster-admin",
                                             "automount-service-account-token"};

// Drops what must never be kept or is only noise: a Secret's values, and the last-applied
// annotation (which holds a Secret's data in clear when it was applied with kubectl).
void scrub(json& o, const std::string& kind) {
  if (o.contains("metadata") && o["metadata"].is_object()) {
    o["metadata"].erase("managedFields");
    if (o["metadata"].contains("annotations") && o["metadata"]["annotations"].is_object())
      o["metadata"]["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
  }
  if (kind == "Secret")
    for (const char* field : {"data", "stringData"})
      if (o.contains(field) && o[field].is_object())
        for (auto& [k, v] : o[field].items()) v = "";
}

}  // namespace

Objects load_live(kube::Client& client, const LiveOptions& opt) {
  using kube::ResourceType;
  namespace r = kube::resources;
  // ConfigMaps and Secrets are listed whole: pods reference them by name, not by label.
  const std::vector<Kind> kinds = {
      {r::deployments, "Deployment", true, {"hpa-target"}},
      {ResourceType{"apps", "v1", "statefulsets", true}, "StatefulSet", true, {"hpa-target"}},
      {ResourceType{"apps", "v1", "daemonsets", true}, "DaemonSet", true, {}},
      {r::replica_sets, "ReplicaSet", true, {"hpa-target"}},
      {r::pods, "Pod", true, {"hpa-requests"}},
      {r::services, "Service", true, {"ingress-backend"}},
      {ResourceType{"networking.k8s.io", "v1", "ingresses", true}, "Ingress", true, {}},
      {r::horizontal_pod_autoscalers,
       "HorizontalPodAutoscaler",
       true,
       {"hpa-min-replicas", "pdb-allows-disruption"}},
      {ResourceType{"policy", "v1", "poddisruptionbudgets", true},
       "PodDisruptionBudget",
       true,
       {"pdb-present"}},
      {ResourceType{"networking.k8s.io", "v1", "networkpolicies", true},
       "NetworkPolicy",
       false,
       {"network-policy"}},
      {r::service_accounts, "ServiceAccount", false, {"automount-service-account-token"}},
      {r::config_maps, "ConfigMap", false, {"secret-in-configmap", "config-references-resolve"}},
      {r::secrets, "Secret", false, {"config-references-resolve"}},
      {ResourceType{"rbac.authorization.k8s.io", "v1", "roles", true}, "Role", false, kRbacRules},
      {ResourceType{"rbac.authorization.k8s.io", "v1", "rolebindings", true}, "RoleBinding", false,
       kRbacRules},
  };
  Objects out;
  auto add = [&](json item, const ResourceType& type, const std::string& kind) {
    item["apiVersion"] = type.group_version();
    item["kind"] = kind;
    scrub(item, kind);
    Object o;
    o.body = std::move(item);
    o.live = true;
    out.push_back(std::move(o));
  };
  // A 403 is recorded (when the caller asked) rather than fatal: a namespace-scoped Role, as a
  // helm test pod has, cannot read cluster-wide objects; the rules that need them say so.
  auto readable = [&](const char* kind, const std::vector<std::string>& rules, auto&& read) {
    try {
      read();
      return true;
    } catch (const kube::ApiError& e) {
      if (e.http_status() != 403 || !opt.unreadable) throw;
      opt.unreadable->push_back({kind, e.what(), rules});
      return false;
    }
  };
  for (const auto& k : kinds) {
    kube::ListOptions lo;
    if (k.selected) lo.label_selector = opt.selector;
    readable(k.kind, k.rules, [&] {
      json list = client.list(k.type, opt.ns, lo);
      for (auto& item : list.value("items", json::array())) add(std::move(item), k.type, k.kind);
    });
  }
  // Cluster-wide: only the ClusterRoleBindings that bind a service account the app's pods use,
  // and the ClusterRoles those bindings (and the namespace's RoleBindings) reference.
  std::set<std::string> accounts;
  for (const auto& o : out)
    if (o.kind() == "Pod" || o.kind() == "Deployment" || o.kind() == "StatefulSet" ||
        o.kind() == "DaemonSet") {
      const char* p =
          o.kind() == "Pod" ? "/spec/serviceAccountName" : "/spec/template/spec/serviceAccountName";
      const json* sa = o.at(p);
      accounts.insert(sa && sa->is_string() ? sa->get<std::string>() : "default");
    }
  const ResourceType crb{"rbac.authorization.k8s.io", "v1", "clusterrolebindings", false};
  const ResourceType cr{"rbac.authorization.k8s.io", "v1", "clusterroles", false};
  std::set<std::string> cluster_roles;
  auto role_ref = [](const json& binding, const char* field) {
    auto r = binding.find("roleRef");
    return r != binding.end() && r->is_object() ? r->value(field, "") : std::string();
  };
  for (const auto& o : out)
    if (o.kind() == "RoleBinding" && role_ref(o.body, "kind") == "ClusterRole")
      cluster_roles.insert(role_ref(o.body, "name"));
  readable("ClusterRoleBinding", kRbacRules, [&] {
    for (auto& b : client.list(crb, "").value("items", json::array())) {
      bool ours = false;
      for (const auto& s : b.value("subjects", json::array()))
        ours = ours || (s.value("kind", "") == "ServiceAccount" &&
                        s.value("namespace", "") == opt.ns && accounts.count(s.value("name", "")));
      if (!ours) continue;
      cluster_roles.insert(role_ref(b, "name"));
      add(std::move(b), crb, "ClusterRoleBinding");
    }
  });
  if (!cluster_roles.empty())
    readable("ClusterRole", {"rbac-no-wildcards"}, [&] {
      for (const auto& name : cluster_roles)
        if (auto role = client.find(cr, "", name)) add(std::move(*role), cr, "ClusterRole");
    });
  return out;
}

}  // namespace kgate::audit
