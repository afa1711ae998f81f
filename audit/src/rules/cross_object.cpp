// Cross-object rules: what one object promises about another (a Service's pods and ports, an
// Ingress's Services, an HPA's target and the requests its metrics need, PDBs, NetworkPolicies,
// the RBAC of the app's service accounts).
#include <map>
#include <set>

#include "../model.hpp"
#include "groups.hpp"

namespace kgate::audit {
namespace {

constexpr const char* kHpa =
    "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/";
constexpr const char* kPdb = "https://kubernetes.io/docs/tasks/run-application/configure-pdb/";
constexpr const char* kRbac = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/";

// The pod specs (workload templates and standalone pods, not injected views) a Service selects.
std::vector<const PodSpecRef*> selected(const std::vector<PodSpecRef>& specs, const Object& svc) {
  std::vector<const PodSpecRef*> out;
  const json* sel = svc.at("/spec/selector");
  if (!sel) return out;
  for (const auto& p : specs)
    if (!p.injected_only && p.ns == svc.ns() && map_selector_matches(*sel, p.labels))
      out.push_back(&p);
  return out;
}

bool selector_service(const Object& svc) {
  const json* sel = svc.at("/spec/selector");
  return sel && sel->is_object() && !sel->empty() &&
         get_string(svc.body, {"spec", "type"}) != "ExternalName";
}

void service_selects_pods(const Inputs& in, Findings& f) {
  auto specs = pod_specs(in.objects);
  for (const Object* svc : of_kind(in.objects, "Service")) {
    if (!selector_service(*svc)) continue;
    f.inspected();
    if (selected(specs, *svc).empty()) {
      std::string sel;
      for (const auto& [k, v] : svc->at("/spec/selector")->items())
        sel +=
            (sel.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
      f.add(*svc, "/spec/selector",
            "selects " + sel + ", but no workload in the input has pods with these labels");
    }
  }
}

// The rule, as data, beside its check.
const Rule kServiceSelectsPods{
    "service-selects-pods",
    "cross-object",
    "Every Service selects pods",
    Severity::High,
    "kube-score service-targets-pod",
    "https://kubernetes.io/docs/concepts/services-networking/service/",
    "A Service whose selector matches no workload's pod labels has no endpoints: every "
    "request to it fails.",
    "Make spec.selector match the workload's pod template labels.",
    &service_selects_pods};

void service_target_port(const Inputs& in, Findings& f) {
  auto specs = pod_specs(in.objects);
  for (const Object* svc : of_kind(in.objects, "Service")) {
    if (!selector_service(*svc)) continue;
    auto pods = selected(specs, *svc);
    if (pods.empty()) continue;  // service-selects-pods says so
    const json* ports = svc->at("/spec/ports");
    if (!ports || !ports->is_array()) continue;
    for (std::size_t i = 0; i < ports->size(); ++i) {
      f.inspected();
      const json& sp = (*ports)[i];
      json target = sp.contains("targetPort") ? sp["targetPort"] : sp.value("port", json());
      bool found = false;
      for (const PodSpecRef* p : pods)
        for (const auto& c : p->containers(false))
          if (const json* cps = get(*c.body, {"ports"}); cps && cps->is_array())
            for (const auto& cp : *cps)
              found = found || (target.is_string() && cp.value("name", "") == target) ||
                      (target.is_number_integer() && cp.contains("containerPort") &&
                       cp["containerPort"] == target);
      if (!found)
        f.add(*svc,
              "/spec/ports/" + std::to_string(i) + (sp.contains("targetPort") ? "/targetPort" : ""),
              "port " + sp.value("port", json()).dump() + " targets " +
                  (target.is_string() ? "'" + target.get<std::string>() + "'" : target.dump()) +
                  ", which no container of the selected pods (" + pods.front()->object->ref() +
                  ") declares");
    }
  }
}

const Rule kServiceTargetPort{
    "service-target-port",
    "cross-object",
    "Service targetPorts exist on the pods",
    Severity::High,
    "kgate (kube-score checks the selector only)",
    "https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service",
    "A targetPort (by number or name) that no container of the selected pods declares sends "
    "traffic nowhere.",
    "Point targetPort at a declared containerPort, preferably by its name.",
    &service_target_port};

void ingress_backends(const Inputs& in, Findings& f) {
  for (const Object* ing : of_kind(in.objects, "Ingress")) {
    std::vector<std::pair<std::string, const json*>> backends;
    if (const json* d = ing->at("/spec/defaultBackend"))
      backends.push_back({"/spec/defaultBackend", d});
    if (const json* rules = ing->at("/spec/rules"); rules && rules->is_array())
      for (std::size_t r = 0; r < rules->size(); ++r)
        if (const json* paths = get((*rules)[r], {"http", "paths"}); paths && paths->is_array())
          for (std::size_t p = 0; p < paths->size(); ++p)
            if (const json* b = get((*paths)[p], {"backend"}))
              backends.push_back({"/spec/rules/" + std::to_string(r) + "/http/paths/" +
                                      std::to_string(p) + "/backend",
                                  b});
    for (const auto& [ptr, b] : backends) {
      const json* svc_ref = get(*b, {"service"});
      if (!svc_ref) continue;  // a resource backend
      f.inspected();
      std::string name = svc_ref->value("name", "");
      const Object* svc = nullptr;
      for (const Object* s : of_kind(in.objects, "Service"))
        if (s->name() == name && same_namespace(*s, *ing)) svc = s;
      if (!svc) {
        f.add(*ing, ptr + "/service/name",
              "a backend names Service '" + name + "', which is not in the input");
        continue;
      }
      const json* port = get(*svc_ref, {"port"});
      const json* number = port ? get(*port, {"number"}) : nullptr;
      const json* pname = port ? get(*port, {"name"}) : nullptr;
      bool ok = !number && !pname;
      if (const json* sps = svc->at("/spec/ports"); sps && sps->is_array())
        for (const auto& sp : *sps)
          ok = ok || (number && sp.contains("port") && sp["port"] == *number) ||
               (pname && sp.contains("name") && sp["name"] == *pname);
      if (!ok)
        f.add(*ing, ptr + "/service/port",
              "a backend uses port " + (number ? number->dump() : pname->dump()) + " of Service '" +
                  name + "', which has no such port");
    }
  }
}

const Rule kIngressBackend{
    "ingress-backend",
    "cross-object",
    "Ingress backends name existing Services and ports",
    Severity::High,
    "kube-score ingress-targets-service",
    "https://kubernetes.io/docs/concepts/services-networking/ingress/",
    "An Ingress path to a missing Service, or to a port the Service does not have, answers "
    "503.",
    "Fix the backend's service name and port (number or name).",
    &ingress_backends};

const Object* hpa_target(const Objects& objects, const Object& hpa) {
  std::string kind = get_string(hpa.body, {"spec", "scaleTargetRef", "kind"});
  std::string name = get_string(hpa.body, {"spec", "scaleTargetRef", "name"});
  for (const auto& o : objects)
    if (o.kind() == kind && o.name() == name && same_namespace(o, hpa)) return &o;
  return nullptr;
}

void hpa_target_exists(const Inputs& in, Findings& f) {
  for (const Object* hpa : of_kind(in.objects, "HorizontalPodAutoscaler")) {
    f.inspected();
    if (!hpa_target(in.objects, *hpa))
      f.add(*hpa, "/spec/scaleTargetRef",
            "scales " + get_string(hpa->body, {"spec", "scaleTargetRef", "kind"}) + " '" +
                get_string(hpa->body, {"spec", "scaleTargetRef", "name"}) +
                "', which is not in the input");
  }
}

const Rule kHpaTarget{"hpa-target",
                      "cross-object",
                      "HPAs scale an existing workload",
                      Severity::High,
                      "kube-score horizontalpodautoscaler-has-target",
                      kHpa,
                      "An HPA whose scaleTargetRef names no workload scales nothing.",
                      "Fix spec.scaleTargetRef (kind and name).",
                      &hpa_target_exists};

// Resources the HPA measures as Utilization (a percentage of the request): resource -> the one
// container it is about ("" for the whole pod: every container).
std::vector<std::pair<std::string, std::string>> utilization_metrics(const Object& hpa) {
  std::vector<std::pair<std::string, std::string>> out;
  const json* metrics = hpa.at("/spec/metrics");
  if (!metrics || !metrics->is_array()) {
    // autoscaling/v1 style: targetCPUUtilizationPercentage, and v2's default of 80 % CPU.
    out.push_back({"cpu", ""});
    return out;
  }
  for (const auto& m : *metrics) {
    std::string type = m.value("type", "");
    if (type == "Resource" && get_string(m, {"resource", "target", "type"}) == "Utilization")
      out.push_back({get_string(m, {"resource", "name"}), ""});
    if (type == "ContainerResource" &&
        get_string(m, {"containerResource", "target", "type"}) == "Utilization")
      out.push_back({get_string(m, {"containerResource", "name"}),
                     get_string(m, {"containerResource", "container"})});
  }
  return out;
}

void hpa_requests(const Inputs& in, Findings& f) {
  auto specs = pod_specs(in.objects);
  for (const Object* hpa : of_kind(in.objects, "HorizontalPodAutoscaler")) {
    const Object* target = hpa_target(in.objects, *hpa);
    if (!target) continue;
    auto metrics = utilization_metrics(*hpa);
    if (metrics.empty()) continue;
    const json* selector = target->at("/spec/selector");
    // The target's template, and (live) its pods with what admission added to them.
    for (const auto& p : specs) {
      bool mine = p.object == target || (p.injected_only && p.owner == target) ||
                  (p.object->live && p.object->kind() == "Pod" && !p.injected_only && selector &&
                   p.ns == target->ns() && selector_matches(*selector, p.labels));
      if (!mine) continue;
      for (const auto& c : p.containers(false)) {
        f.inspected();
        for (const auto& [resource, only] : metrics) {
          if (!only.empty() && only != c.name) continue;
          if (get(*c.body, {"resources", "requests", resource.c_str()})) continue;
          f.add(*p.object, get(*c.body, {"resources"}) ? c.pointer + "/resources" : c.pointer,
                p.describe(c) + " has no " + resource + " request, but " + hpa->ref() +
                    " scales on " + resource +
                    " Utilization (a percentage of the requests of every container): the HPA "
                    "cannot compute it and does not scale");
        }
      }
    }
  }
}

const Rule kHpaRequests{
    "hpa-requests",
    "cross-object",
    "Every container an HPA measures requests each Utilization resource",
    Severity::High,
    "kgate (no peer check)",
    kHpa,
    "A Utilization target is a percentage of the pods' requests; if any container of the "
    "pod lacks the request (an injected sidecar, too), the HPA reports the metric as "
    "unavailable and does not scale. Offline the template is checked, live the running pods.",
    "Give every container (including sidecars, through the injector's settings) a request "
    "for each resource the HPA measures.",
    &hpa_requests};

void hpa_min_replicas(const Inputs& in, Findings& f) {
  for (const Object* hpa : of_kind(in.objects, "HorizontalPodAutoscaler")) {
    f.inspected();
    const json* m = hpa->at("/spec/minReplicas");
    int min = m && m->is_number_integer() ? m->get<int>() : 1;
    if (min < 2)
      f.add(*hpa, m ? "/spec/minReplicas" : "/spec",
            "minReplicas is " + std::to_string(min) +
                ": at the floor one pod serves everything, and its restart or eviction is an "
                "outage");
  }
}

const Rule kHpaMinReplicas{"hpa-min-replicas",
                           "cross-object",
                           "HPAs keep at least two replicas",
                           Severity::Medium,
                           "kube-score horizontalpodautoscaler-replicas",
                           kHpa,
                           "With minReplicas 1 the app runs on one pod whenever load is low.",
                           "Set spec.minReplicas: 2 or more.",
                           &hpa_min_replicas};

std::vector<const Object*> pdbs_selecting(const Objects& objects, const PodSpecRef& p) {
  std::vector<const Object*> out;
  for (const Object* pdb : of_kind(objects, "PodDisruptionBudget")) {
    const json* sel = pdb->at("/spec/selector");
    if (pdb->ns() == p.ns && sel && selector_matches(*sel, p.labels)) out.push_back(pdb);
  }
  return out;
}

void pdb_present(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects)) {
    std::string kind = p.object->kind();
    if (p.injected_only || (kind != "Deployment" && kind != "StatefulSet")) continue;
    int replicas = min_replicas(in.objects, *p.object);
    if (replicas < 2) continue;
    f.inspected();
    if (pdbs_selecting(in.objects, p).empty())
      f.add(*p.object, "/metadata",
            "runs " + std::to_string(replicas) +
                " replicas but no PodDisruptionBudget selects its pods: a node drain may evict "
                "them all at once");
  }
}

const Rule kPdbPresent{
    "pdb-present",
    "cross-object",
    "Multi-replica workloads have a PodDisruptionBudget",
    Severity::Medium,
    "kube-score deployment-has-poddisruptionbudget, "
    "statefulset-has-poddisruptionbudget",
    kPdb,
    "Without a PDB a node drain may evict every replica at once.",
    "Add a PodDisruptionBudget selecting the pods (minAvailable below the replica count).",
    &pdb_present};

void pdb_allows_disruption(const Inputs& in, Findings& f) {
  auto specs = pod_specs(in.objects);
  for (const Object* pdb : of_kind(in.objects, "PodDisruptionBudget")) {
    const json* sel = pdb->at("/spec/selector");
    if (!sel) continue;
    for (const auto& p : specs) {
      if (p.injected_only || p.ns != pdb->ns() || !selector_matches(*sel, p.labels)) continue;
      std::string kind = p.object->kind();
      if (kind != "Deployment" && kind != "StatefulSet" && kind != "ReplicaSet") continue;
      f.inspected();
      int replicas = min_replicas(in.objects, *p.object);
      bool hpa = hpa_for(in.objects, *p.object) != nullptr;
      std::string count = std::to_string(replicas) + " replica(s)" +
                          (hpa ? " (the HPA's minReplicas)" : "") + " of " + p.object->ref();
      if (const json* min = pdb->at("/spec/minAvailable")) {
        int need = int_or_percent(*min, replicas, true, 0);
        if (need >= replicas)
          f.add(*pdb, "/spec/minAvailable",
                "minAvailable " + min->dump() + " with " + count +
                    " allows no voluntary eviction: node drains and upgrades block");
      } else if (const json* max = pdb->at("/spec/maxUnavailable")) {
        if (int_or_percent(*max, replicas, false, 1) <= 0)
          f.add(*pdb, "/spec/maxUnavailable",
                "maxUnavailable " + max->dump() + " with " + count +
                    " allows no voluntary eviction: node drains and upgrades block");
      }
    }
  }
}

const Rule kPdbAllowsDisruption{
    "pdb-allows-disruption",
    "cross-object",
    "PDBs leave room for evictions",
    Severity::Medium,
    "kube-linter pdb-min-available (similar)",
    kPdb,
    "A PDB whose minAvailable is at or above the replicas (the HPA's minReplicas), or whose "
    "maxUnavailable is 0, blocks every voluntary eviction: node drains and cluster upgrades "
    "hang.",
    "Keep minAvailable below the minimum replica count (or use maxUnavailable: 1).",
    &pdb_allows_disruption};

void network_policy(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects)) {
    if (p.injected_only || !p.long_running) continue;
    f.inspected();
    bool covered = false;
    for (const Object* np : of_kind(in.objects, "NetworkPolicy")) {
      if (np->ns() != p.ns) continue;
      const json* sel = np->at("/spec/podSelector");
      if (!sel || !selector_matches(*sel, p.labels)) continue;
      // policyTypes defaults to Ingress (plus Egress when egress rules are given).
      const json* types = np->at("/spec/policyTypes");
      bool ingress = !types || !types->is_array();
      if (types && types->is_array())
        for (const auto& t : *types) ingress = ingress || t == "Ingress";
      covered = covered || ingress;
    }
    if (!covered)
      f.add(*p.object,
            p.object->kind() == "Pod" ? "/metadata/labels" : "/spec/template/metadata/labels",
            "no NetworkPolicy selects these pods: anything in the cluster can connect to them");
  }
}

const Rule kNetworkPolicy{
    "network-policy",
    "cross-object",
    "A NetworkPolicy selects the app's pods",
    Severity::Medium,
    "CIS 5.3.2; kube-score pod-networkpolicy",
    "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
    "Pods no NetworkPolicy selects accept connections from every pod in the cluster.",
    "Add a NetworkPolicy selecting the pods that allows only the expected sources.",
    &network_policy};

// The app's service accounts: those its pod specs run as.
std::set<std::pair<std::string, std::string>> app_service_accounts(const Objects& objects) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& p : pod_specs(objects)) {
    if (p.injected_only) continue;
    std::string sa = get_string(*p.spec, {"serviceAccountName"});
    out.insert({p.ns, sa.empty() ? "default" : sa});
  }
  return out;
}

// The bindings that bind one of the app's service accounts, with the account.
std::vector<std::pair<const Object*, std::string>> app_bindings(const Objects& objects) {
  auto accounts = app_service_accounts(objects);
  std::vector<std::pair<const Object*, std::string>> out;
  for (const char* kind : {"RoleBinding", "ClusterRoleBinding"})
    for (const Object* b : of_kind(objects, kind)) {
      const json* subjects = b->at("/subjects");
      if (!subjects || !subjects->is_array()) continue;
      for (const auto& s : *subjects) {
        if (s.value("kind", "") != "ServiceAccount") continue;
        std::string ns = s.value("namespace", std::string(kind) == "RoleBinding" ? b->ns() : "");
        // A rendered chart's pods carry no namespace (it comes with the install): by name.
        if (accounts.count({ns, s.value("name", "")}) ||
            accounts.count({"", s.value("name", "")})) {
          out.push_back({b, s.value("name", "")});
          break;
        }
      }
    }
  return out;
}

void rbac_wildcards(const Inputs& in, Findings& f) {
  for (const auto& [b, sa] : app_bindings(in.objects)) {
    f.inspected();
    std::string rkind = get_string(b->body, {"roleRef", "kind"});
    std::string rname = get_string(b->body, {"roleRef", "name"});
    for (const Object* role : of_kind(in.objects, rkind)) {
      if (role->name() != rname || (rkind == "Role" && role->ns() != b->ns())) continue;
      const json* rules = role->at("/rules");
      if (!rules || !rules->is_array()) continue;
      for (std::size_t i = 0; i < rules->size(); ++i)
        for (const char* field : {"verbs", "resources", "apiGroups"}) {
          const json* list = get((*rules)[i], {field});
          if (!list || !list->is_array()) continue;
          for (const auto& v : *list)
            if (v == "*")
              f.add(*role, "/rules/" + std::to_string(i) + "/" + field,
                    "grants '*' " + std::string(field) + " to service account '" + sa +
                        "' (through " + b->ref() + "): list what the app needs");
        }
    }
  }
}

const Rule kRbacNoWildcards{
    "rbac-no-wildcards",
    "cross-object",
    "The app's roles grant no wildcards",
    Severity::High,
    "CIS 5.1.3",
    kRbac,
    "A '*' in verbs, resources or apiGroups grants everything, including what future API "
    "versions add.",
    "List the verbs, resources and API groups the app uses.",
    &rbac_wildcards};

void rbac_cluster_admin(const Inputs& in, Findings& f) {
  for (const auto& [b, sa] : app_bindings(in.objects)) {
    f.inspected();
    if (get_string(b->body, {"roleRef", "kind"}) == "ClusterRole" &&
        get_string(b->body, {"roleRef", "name"}) == "cluster-admin")
      f.add(*b, "/roleRef",
            "binds the app's service account '" + sa +
                "' to cluster-admin: full control of the "
                "cluster to anyone who takes the pod");
  }
}

const Rule kRbacNoClusterAdmin{
    "rbac-no-cluster-admin",
    "cross-object",
    "The app's service account is not cluster-admin",
    Severity::Critical,
    "CIS 5.1.1",
    kRbac,
    "A pod bound to cluster-admin controls the whole cluster once compromised.",
    "Bind a Role with the permissions the app needs instead.",
    &rbac_cluster_admin};

}  // namespace

std::vector<Rule> cross_object_rules() {
  return {kServiceSelectsPods, kServiceTargetPort, kIngressBackend,    kHpaTarget,
          kHpaRequests,        kHpaMinReplicas,    kPdbPresent,        kPdbAllowsDisruption,
          kNetworkPolicy,      kRbacNoWildcards,   kRbacNoClusterAdmin};
}

}  // namespace kgate::audit
