#pragma once
// Small, pure helpers over Kubernetes objects as the API serves them (nlohmann::json): label
// selectors, pod conditions, owner references. The Kubernetes suites (resilience, hpa) read
// objects through these rather than repeating JSON paths.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kgate/kube/client.hpp"

namespace kgate::cluster {

using nlohmann::json;

namespace resources {
// Kinds kube/ does not list (it names the ones its own callers need).
extern const kube::ResourceType pod_disruption_budgets, ingresses;
}  // namespace resources

// Does a LabelSelector ({matchLabels, matchExpressions}) select these labels? An empty or
// absent selector selects nothing, as for a PodDisruptionBudget in policy/v1 (a Deployment's
// selector is never empty).
bool selector_matches(const json& selector, const json& labels);
// The selector as a query's labelSelector ("a=b,c in (d,e)"); "" for an empty one.
std::string selector_text(const json& selector);

std::string name_of(const json& object);
std::string uid_of(const json& object);
// "pod/todo-backend-7c9f-x2": kind in lower case, as kubectl prints it.
std::string ref_of(std::string_view kind, const json& object);

// A pod condition's status ("True", "False"), or "" when the pod does not have it.
std::string pod_condition(const json& pod, std::string_view type);
bool pod_ready(const json& pod);
bool pod_terminating(const json& pod);  // deletionTimestamp set
// The name of the owner of `kind` (ReplicaSet, Deployment), or "".
std::string owner_of(const json& object, std::string_view kind);

// A Deployment is settled when its controller has seen its latest spec, every replica runs the
// current template, all are ready and available, and no old replica remains.
bool deployment_settled(const json& deployment);
// "2/2 ready, 2 updated, 2 available (generation 3 observed 3)"
std::string deployment_status_text(const json& deployment);
int desired_replicas(const json& deployment);  // spec.replicas (1 when unset, as the API does)

}  // namespace kgate::cluster
