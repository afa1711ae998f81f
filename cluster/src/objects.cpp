#include "kgate/cluster/objects.hpp"

#include <algorithm>
#include <cctype>

namespace kgate::cluster {

namespace resources {
const kube::ResourceType pod_disruption_budgets{"policy", "v1", "poddisruptionbudgets", true};
const kube::ResourceType ingresses{"networking.k8s.io", "v1", "ingresses", true};
}  // namespace resources

namespace {

std::string label_value(const json& labels, const std::string& key, bool* present) {
  *present = labels.is_object() && labels.contains(key) && labels[key].is_string();
  return *present ? labels[key].get<std::string>() : "";
}

bool expression_matches(const json& e, const json& labels) {
  const std::string key = e.value("key", "");
  const std::string op = e.value("operator", "");
  bool present = false;
  const std::string value = label_value(labels, key, &present);
  auto values = e.value("values", json::array());
  const bool listed = present && std::any_of(values.begin(), values.end(), [&](const json& v) {
                        return v.is_string() && v.get<std::string>() == value;
                      });
  if (op == "In") return listed;
  if (op == "NotIn") return !listed;
  if (op == "Exists") return present;
  if (op == "DoesNotExist") return !present;
  return false;  // an operator we do not know selects nothing rather than everything
}

}  // namespace

bool selector_matches(const json& selector, const json& labels) {
  if (!selector.is_object()) return false;
  const auto match_labels = selector.value("matchLabels", json::object());
  const auto expressions = selector.value("matchExpressions", json::array());
  if (match_labels.empty() && expressions.empty()) return false;
  for (const auto& [k, v] : match_labels.items()) {
    bool present = false;
    if (!v.is_string() || label_value(labels, k, &present) != v.get<std::string>() || !present)
      return false;
  }
  return std::all_of(expressions.begin(), expressions.end(),
                     [&](const json& e) { return expression_matches(e, labels); });
}

std::string selector_text(const json& selector) {
  if (!selector.is_object()) return "";
  std::string out;
  auto add = [&out](const std::string& term) { out += (out.empty() ? "" : ",") + term; };
  const json match = selector.value("matchLabels", json::object());  // items() must not dangle
  for (const auto& [k, v] : match.items())
    add(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  for (const auto& e : selector.value("matchExpressions", json::array())) {
    const std::string key = e.value("key", ""), op = e.value("operator", "");
    std::string values;
    for (const auto& v : e.value("values", json::array()))
      values += (values.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
    if (op == "In") add(key + " in (" + values + ")");
    if (op == "NotIn") add(key + " notin (" + values + ")");
    if (op == "Exists") add(key);
    if (op == "DoesNotExist") add("!" + key);
  }
  return out;
}

std::string name_of(const json& object) {
  return object.is_object() ? object.value("metadata", json::object()).value("name", "") : "";
}

std::string uid_of(const json& object) {
  return object.is_object() ? object.value("metadata", json::object()).value("uid", "") : "";
}

std::string ref_of(std::string_view kind, const json& object) {
  std::string k(kind);
  std::transform(k.begin(), k.end(), k.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return k + "/" + name_of(object);
}

std::string pod_condition(const json& pod, std::string_view type) {
  if (!pod.is_object()) return "";
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == type) return c.value("status", "");
  return "";
}

bool pod_ready(const json& pod) {
  return pod_condition(pod, "Ready") == "True";
}

bool pod_terminating(const json& pod) {
  return pod.is_object() && pod.value("metadata", json::object()).contains("deletionTimestamp") &&
         !pod["metadata"]["deletionTimestamp"].is_null();
}

std::string owner_of(const json& object, std::string_view kind) {
  if (!object.is_object()) return "";
  for (const auto& o :
       object.value("metadata", json::object()).value("ownerReferences", json::array()))
    if (o.value("kind", "") == kind) return o.value("name", "");
  return "";
}

int desired_replicas(const json& deployment) {
  const auto spec = deployment.value("spec", json::object());
  return spec.contains("replicas") && spec["replicas"].is_number_integer()
             ? spec["replicas"].get<int>()
             : 1;
}

bool deployment_settled(const json& d) {
  if (!d.is_object()) return false;
  const auto status = d.value("status", json::object());
  const auto generation = d.value("metadata", json::object()).value("generation", 0);
  const int want = desired_replicas(d);
  return status.value("observedGeneration", 0) >= generation &&
         status.value("replicas", 0) == want && status.value("updatedReplicas", 0) == want &&
         status.value("readyReplicas", 0) == want && status.value("availableReplicas", 0) == want;
}

std::string deployment_status_text(const json& d) {
  const auto status = d.value("status", json::object());
  return std::to_string(status.value("readyReplicas", 0)) + "/" +
         std::to_string(desired_replicas(d)) + " ready, " +
         std::to_string(status.value("updatedReplicas", 0)) + " updated, " +
         std::to_string(status.value("availableReplicas", 0)) + " available, " +
         std::to_string(status.value("replicas", 0)) + " in all (generation " +
         std::to_string(d.value("metadata", json::object()).value("generation", 0)) +
         ", observed " + std::to_string(status.value("observedGeneration", 0)) + ")";
}

}  // namespace kgate::cluster
