#include "kgate/cluster/discovery.hpp"

#include <algorithm>
#include <stdexcept>

#include "kgate/cluster/objects.hpp"

namespace kgate::cluster {
namespace {

namespace res = kube::resources;
constexpr const char* kInstanceLabel = "app.kubernetes.io/instance";

std::vector<json> items_of(const json& list) {
  std::vector<json> out;
  for (const auto& i : list.value("items", json::array())) out.push_back(i);
  return out;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// The tier a Deployment plays, from the chart's component label, else its name; "" if unclear.
std::string role_of(const json& deployment) {
  const auto labels = deployment.value("metadata", json::object()).value("labels", json::object());
  const std::string component = labels.value("app.kubernetes.io/component", "");
  if (component == "backend" || component == "api") return "backend";
  if (component == "frontend" || component == "web") return "frontend";
  const std::string name = name_of(deployment);
  if (contains(name, "backend") || contains(name, "-api")) return "backend";
  if (contains(name, "frontend") || contains(name, "-web") || contains(name, "-ui"))
    return "frontend";
  return "";
}

// A Service selects a Deployment's pods when every key of its selector is in their labels.
bool service_selects(const json& service, const json& template_labels) {
  const auto selector = service.value("spec", json::object()).value("selector", json::object());
  if (selector.empty()) return false;
  for (const auto& [k, v] : selector.items())
    if (!template_labels.contains(k) || template_labels[k] != v) return false;
  return true;
}

std::vector<std::string> ingress_services(const json& ingress) {
  std::vector<std::string> out;
  const auto spec = ingress.value("spec", json::object());
  auto add = [&out](const json& backend) {
    const auto svc = backend.value("service", json::object());
    if (svc.contains("name")) out.push_back(svc.value("name", ""));
  };
  if (spec.contains("defaultBackend")) add(spec["defaultBackend"]);
  for (const auto& rule : spec.value("rules", json::array()))
    for (const auto& p : rule.value("http", json::object()).value("paths", json::array()))
      add(p.value("backend", json::object()));
  return out;
}

Workload make_workload(const json& deployment, std::string role) {
  Workload w;
  w.role = std::move(role);
  w.name = name_of(deployment);
  w.deployment = deployment;
  const auto spec = deployment.value("spec", json::object());
  w.selector = spec.value("selector", json::object());
  w.template_labels = spec.value("template", json::object())
                          .value("metadata", json::object())
                          .value("labels", json::object());
  return w;
}

void attach(Workload& w, const Discovery& d) {
  for (const auto& s : d.services)
    if (service_selects(s, w.template_labels)) w.services.push_back(name_of(s));
  for (const auto& h : d.hpas) {
    const auto ref = h.value("spec", json::object()).value("scaleTargetRef", json::object());
    if (ref.value("kind", "") == "Deployment" && ref.value("name", "") == w.name)
      w.hpas.push_back(name_of(h));
  }
  for (const auto& p : d.pdbs)
    if (selector_matches(p.value("spec", json::object()).value("selector", json::object()),
                         w.template_labels))
      w.pdbs.push_back(name_of(p));
  for (const auto& i : d.ingresses)
    for (const auto& s : ingress_services(i))
      if (std::find(w.services.begin(), w.services.end(), s) != w.services.end() &&
          std::find(w.ingresses.begin(), w.ingresses.end(), name_of(i)) == w.ingresses.end())
        w.ingresses.push_back(name_of(i));
}

}  // namespace

int Workload::replicas() const {
  return desired_replicas(deployment);
}

const Workload* Discovery::workload(std::string_view role) const {
  if (role == "backend" && backend) return &*backend;
  if (role == "frontend" && frontend) return &*frontend;
  return nullptr;
}

void classify(Discovery& d, const DiscoverOptions& o) {
  d.backend.reset();
  d.frontend.reset();
  auto by_name = [&d](const std::string& name) -> const json* {
    for (const auto& dep : d.deployments)
      if (name_of(dep) == name) return &dep;
    return nullptr;
  };
  for (const auto& [role, explicit_name] :
       {std::pair<std::string, std::string>{"backend", o.backend_deployment},
        {"frontend", o.frontend_deployment}}) {
    const json* found = nullptr;
    if (!explicit_name.empty()) {
      found = by_name(explicit_name);
    } else if (!o.release.empty()) {  // without a release, only the names given count
      for (const auto& dep : d.deployments) {
        const bool named_elsewhere =
            name_of(dep) == o.backend_deployment || name_of(dep) == o.frontend_deployment;
        if (!named_elsewhere && role_of(dep) == role) {
          found = &dep;
          break;
        }
      }
      // A release of one unnamed Deployment: that is the backend.
      if (!found && role == "backend" && o.backend_deployment.empty() &&
          d.deployments.size() == 1 && role_of(d.deployments[0]).empty())
        found = &d.deployments[0];
    }
    if (!found) continue;
    Workload w = make_workload(*found, role);
    attach(w, d);
    (role == "backend" ? d.backend : d.frontend) = std::move(w);
  }
  // Keep only the pods and ReplicaSets of the workloads found.
  std::vector<json> pods;
  for (const auto& p : d.pods) {
    const auto labels = p.value("metadata", json::object()).value("labels", json::object());
    if ((d.backend && selector_matches(d.backend->selector, labels)) ||
        (d.frontend && selector_matches(d.frontend->selector, labels)))
      pods.push_back(p);
  }
  d.pods = std::move(pods);
  std::vector<json> sets;
  for (const auto& rs : d.replica_sets) {
    const std::string owner = owner_of(rs, "Deployment");
    if ((d.backend && owner == d.backend->name) || (d.frontend && owner == d.frontend->name))
      sets.push_back(rs);
  }
  d.replica_sets = std::move(sets);
  std::vector<std::string> services;
  for (const auto* w : {d.workload("backend"), d.workload("frontend")})
    if (w) services.insert(services.end(), w->services.begin(), w->services.end());
  std::vector<json> slices;
  for (const auto& s : d.endpoint_slices) {
    const std::string svc = s.value("metadata", json::object())
                                .value("labels", json::object())
                                .value("kubernetes.io/service-name", "");
    if (std::find(services.begin(), services.end(), svc) != services.end()) slices.push_back(s);
  }
  d.endpoint_slices = std::move(slices);
}

Discovery discover(kube::Client& client, const DiscoverOptions& o) {
  Discovery d;
  d.ns = o.ns;
  kube::ListOptions by_release;
  if (!o.release.empty()) by_release.label_selector = std::string(kInstanceLabel) + "=" + o.release;
  d.how = !o.release.empty() ? "release " + o.release + " (label " + by_release.label_selector + ")"
                             : "Deployments named in kubernetes.deployments";
  // Named Deployments are read by name, whatever their labels; the release's by its label.
  d.deployments = items_of(client.list(res::deployments, o.ns, by_release));
  for (const auto& name : {o.backend_deployment, o.frontend_deployment}) {
    if (name.empty()) continue;
    const bool listed = std::any_of(d.deployments.begin(), d.deployments.end(),
                                    [&](const json& dep) { return name_of(dep) == name; });
    if (listed) continue;
    auto dep = client.find(res::deployments, o.ns, name);
    if (!dep)
      throw std::runtime_error("no Deployment \"" + name + "\" in namespace \"" + o.ns +
                               "\" (kubernetes.deployments)");
    d.deployments.push_back(*dep);
  }
  d.pods = items_of(client.list(res::pods, o.ns));
  auto optional_list = [&](const kube::ResourceType& type, std::vector<json>& out) {
    try {
      out = items_of(client.list(type, o.ns));
    } catch (const kube::ApiError& e) {
      if (e.http_status() != 403 && e.http_status() != 404) throw;
      d.unreadable.push_back(e.what());
    }
  };
  optional_list(res::replica_sets, d.replica_sets);
  optional_list(res::services, d.services);
  optional_list(res::endpoint_slices, d.endpoint_slices);
  optional_list(resources::ingresses, d.ingresses);
  optional_list(res::horizontal_pod_autoscalers, d.hpas);
  optional_list(resources::pod_disruption_budgets, d.pdbs);
  classify(d, o);
  if (!d.backend) {
    std::string seen;
    for (const auto& dep : d.deployments) seen += (seen.empty() ? "" : ", ") + name_of(dep);
    throw std::runtime_error(
        "no backend Deployment found in namespace \"" + o.ns + "\" by " + d.how +
        (seen.empty() ? ": no Deployment matched"
                      : ": found " + seen +
                            ", none labelled app.kubernetes.io/component=backend or named "
                            "*backend*; set kubernetes.deployments.backend"));
  }
  return d;
}

std::vector<std::string> Discovery::describe() const {
  std::vector<std::string> out;
  out.push_back("namespace " + ns + ", found by " + how);
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s.empty() ? std::string("none") : s;
  };
  for (const auto* w : {workload("backend"), workload("frontend")}) {
    if (!w) continue;
    int pods_of = 0;
    for (const auto& p : pods)
      if (selector_matches(w->selector,
                           p.value("metadata", json::object()).value("labels", json::object())))
        ++pods_of;
    out.push_back(w->role + ": deployment/" + w->name + " (" + std::to_string(w->replicas()) +
                  " replicas, " + std::to_string(pods_of) + " pods, selector " +
                  selector_text(w->selector) + ")");
    out.push_back("  services " + list(w->services) + "; ingresses " + list(w->ingresses) +
                  "; hpa " + list(w->hpas) + "; pdb " + list(w->pdbs));
  }
  if (!frontend) out.push_back("frontend: no Deployment found (frontend checks will skip)");
  out.push_back(std::to_string(replica_sets.size()) + " replica sets, " +
                std::to_string(endpoint_slices.size()) + " endpoint slices");
  for (const auto& u : unreadable) out.push_back("not readable: " + u);
  return out;
}

}  // namespace kgate::cluster
