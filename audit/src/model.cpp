#include "model.hpp"

#include <cmath>
#include <map>

namespace kgate::audit {

const json* get(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string get_string(const json& j, std::initializer_list<const char*> path) {
  const json* v = get(j, path);
  return v && v->is_string() ? v->get<std::string>() : "";
}

std::vector<ContainerRef> PodSpecRef::containers(bool include_init) const {
  std::vector<ContainerRef> out;
  for (const char* list : {"initContainers", "containers"}) {
    bool init = std::string(list) == "initContainers";
    if (init && !include_init) continue;
    const json* cs = get(*spec, {list});
    if (!cs || !cs->is_array()) continue;
    for (std::size_t i = 0; i < cs->size(); ++i) {
      const json& c = (*cs)[i];
      std::string name = get_string(c, {"name"});
      if (injected_only && template_containers.count(name)) continue;
      out.push_back({&c, pointer + "/" + list + "/" + std::to_string(i), name, init});
    }
  }
  return out;
}

std::string PodSpecRef::describe(const ContainerRef& c) const {
  std::string s = std::string(c.init ? "init container '" : "container '") + c.name + "'";
  if (injected_only)
    s += " of pod '" + object->name() + "' (not in " + owner->ref() + "'s template)";
  return s;
}

namespace {

const std::set<std::string> kTemplated = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                          "Job"};
const std::set<std::string> kLongRunning = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"};

// The controller ownerReference of o, if any.
const json* controller_ref(const Object& o) {
  const json* refs = o.at("/metadata/ownerReferences");
  if (!refs || !refs->is_array()) return nullptr;
  for (const auto& r : *refs)
    if (r.value("controller", false)) return &r;
  return nullptr;
}

const Object* find_object(const Objects& objects, const std::string& kind, const std::string& name,
                          const std::string& ns) {
  for (const auto& o : objects)
    if (o.kind() == kind && o.name() == name && o.ns() == ns) return &o;
  return nullptr;
}

// The top workload in the set that owns o (a ReplicaSet's Deployment), or nullptr.
const Object* owner_in_set(const Objects& objects, const Object& o) {
  const json* ref = controller_ref(o);
  if (!ref) return nullptr;
  const Object* owner =
      find_object(objects, ref->value("kind", ""), ref->value("name", ""), o.ns());
  if (!owner) return nullptr;
  if (const Object* up = owner_in_set(objects, *owner)) return up;
  return owner;
}

}  // namespace

std::vector<const Object*> of_kind(const Objects& objects, const std::string& kind) {
  std::vector<const Object*> out;
  for (const auto& o : objects)
    if (o.kind() == kind) out.push_back(&o);
  return out;
}

std::vector<PodSpecRef> pod_specs(const Objects& objects) {
  std::vector<PodSpecRef> out;
  for (const auto& o : objects) {
    std::string kind = o.kind();
    PodSpecRef p;
    p.object = &o;
    p.ns = o.ns();
    if (kTemplated.count(kind)) {
      // A ReplicaSet (or Job) owned by a workload in the set is audited through that workload.
      if (owner_in_set(objects, o)) continue;
      p.pointer = "/spec/template/spec";
      p.long_running = kLongRunning.count(kind) > 0;
      if (const json* l = o.at("/spec/template/metadata/labels")) p.labels = *l;
    } else if (kind == "CronJob") {
      p.pointer = "/spec/jobTemplate/spec/template/spec";
      if (const json* l = o.at("/spec/jobTemplate/spec/template/metadata/labels")) p.labels = *l;
    } else if (kind == "Pod") {
      p.pointer = "/spec";
      p.long_running = get_string(o.body, {"spec", "restartPolicy"}) != "Never" &&
                       get_string(o.body, {"spec", "restartPolicy"}) != "OnFailure";
      if (const json* l = o.at("/metadata/labels")) p.labels = *l;
      if (const Object* owner = owner_in_set(objects, o)) {
        p.injected_only = true;
        p.owner = owner;
        const char* tmpl = owner->kind() == "CronJob" ? "/spec/jobTemplate/spec/template/spec"
                                                      : "/spec/template/spec";
        for (const char* list : {"/containers", "/initContainers"})
          if (const json* cs = owner->at(std::string(tmpl) + list); cs && cs->is_array())
            for (const auto& c : *cs) p.template_containers.insert(c.value("name", ""));
      }
    } else {
      continue;
    }
    p.spec = o.at(p.pointer);
    if (!p.spec || !p.spec->is_object()) continue;
    if (p.injected_only && p.containers(true).empty()) continue;
    out.push_back(std::move(p));
  }
  return out;
}

bool selector_matches(const json& selector, const json& labels) {
  auto label = [&](const std::string& k) -> const json* {
    return labels.is_object() && labels.contains(k) ? &labels[k] : nullptr;
  };
  if (const json* ml = get(selector, {"matchLabels"}); ml && ml->is_object())
    for (const auto& [k, v] : ml->items()) {
      const json* l = label(k);
      if (!l || *l != v) return false;
    }
  if (const json* exprs = get(selector, {"matchExpressions"}); exprs && exprs->is_array())
    for (const auto& e : *exprs) {
      std::string op = e.value("operator", "");
      const json* l = label(e.value("key", ""));
      const json values = e.value("values", json::array());
      bool in = false;
      for (const auto& v : values) in = in || (l && *l == v);
      if ((op == "In" && !in) || (op == "NotIn" && in) || (op == "Exists" && !l) ||
          (op == "DoesNotExist" && l))
        return false;
    }
  return true;
}

bool map_selector_matches(const json& selector, const json& labels) {
  if (!selector.is_object() || selector.empty()) return false;
  for (const auto& [k, v] : selector.items())
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  return true;
}

bool same_namespace(const Object& a, const Object& b) {
  return a.ns() == b.ns();
}

const Object* hpa_for(const Objects& objects, const Object& workload) {
  for (const auto& o : objects) {
    if (o.kind() != "HorizontalPodAutoscaler" || !same_namespace(o, workload)) continue;
    if (get_string(o.body, {"spec", "scaleTargetRef", "kind"}) == workload.kind() &&
        get_string(o.body, {"spec", "scaleTargetRef", "name"}) == workload.name())
      return &o;
  }
  return nullptr;
}

int min_replicas(const Objects& objects, const Object& workload) {
  if (workload.kind() == "DaemonSet") return -1;
  if (const Object* hpa = hpa_for(objects, workload)) {
    const json* m = hpa->at("/spec/minReplicas");
    return m && m->is_number_integer() ? m->get<int>() : 1;
  }
  const json* r = workload.at("/spec/replicas");
  return r && r->is_number_integer() ? r->get<int>() : 1;
}

int int_or_percent(const json& v, int total, bool round_up, int fallback) {
  if (v.is_number_integer()) return v.get<int>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (!s.empty() && s.back() == '%') {
      try {
        double pct = std::stod(s.substr(0, s.size() - 1));
        double x = pct * total / 100.0;
        return static_cast<int>(round_up ? std::ceil(x) : std::floor(x));
      } catch (const std::exception&) {
        return fallback;
      }
    }
    try {
      return std::stoi(s);
    } catch (const std::exception&) {
      return fallback;
    }
  }
  return fallback;
}

}  // namespace kgate::audit
