#pragma once
// What the rules share: the pod specs of an object set (workload templates, standalone pods, and
// the containers that live pods carry beyond their template), containers, selectors, replicas.
#include <set>
#include <string>
#include <vector>

#include "kgate/audit/object.hpp"

namespace kgate::audit {

// j at a path of keys, or nullptr.
const json* get(const json& j, std::initializer_list<const char*> path);
std::string get_string(const json& j, std::initializer_list<const char*> path);

struct ContainerRef {
  const json* body = nullptr;
  std::string pointer;  // JSON pointer of the container in its object
  std::string name;
  bool init = false;
};

struct PodSpecRef {
  const Object* object = nullptr;
  std::string pointer;  // JSON pointer of the pod spec: "/spec/template/spec", "/spec"
  const json* spec = nullptr;
  json labels = json::object();  // the pods' labels
  std::string ns;
  bool long_running = false;  // Deployment, StatefulSet, DaemonSet, ReplicaSet, restartable Pod
  // A live pod whose owner (a workload in the set) is audited through its template: only the
  // containers the template lacks (injected at admission, e.g. a sidecar) are audited here.
  bool injected_only = false;
  const Object* owner = nullptr;
  std::set<std::string> template_containers;

  std::vector<ContainerRef> containers(bool include_init) const;
  // "container 'app'" or, for a live pod, "container 'istio-proxy' of pod 'x'".
  std::string describe(const ContainerRef& c) const;
};

std::vector<PodSpecRef> pod_specs(const Objects& objects);
std::vector<const Object*> of_kind(const Objects& objects, const std::string& kind);

// A LabelSelector (matchLabels, matchExpressions) against labels. An empty selector matches all.
bool selector_matches(const json& selector, const json& labels);
// A Service's selector (a plain map) against labels; an empty one matches nothing.
bool map_selector_matches(const json& selector, const json& labels);
bool same_namespace(const Object& a, const Object& b);

// The HorizontalPodAutoscaler that scales this workload, or nullptr.
const Object* hpa_for(const Objects& objects, const Object& workload);
// The replicas a workload keeps at least: the HPA's minReplicas (default 1), else spec.replicas
// (default 1). DaemonSets: -1 (one per node).
int min_replicas(const Objects& objects, const Object& workload);
// An int-or-percent (maxUnavailable, minAvailable) resolved against a count: percentages round
// down (round_up: up, as maxSurge and minAvailable do).
int int_or_percent(const json& v, int total, bool round_up, int fallback);

}  // namespace kgate::audit
