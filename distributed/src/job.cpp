#include "kgate/distributed/job.hpp"

#include <regex>

#include "kgate/base64.hpp"

namespace kgate::dist {

using nlohmann::json;

std::string job_name(const std::string& run_id) {
  return "kgate-load-" + run_id;
}

std::string pod_selector(const std::string& run_id) {
  return std::string(kRunLabel) + "=" + run_id;
}

std::string secret_name(const std::string& run_id) {
  return job_name(run_id);
}

bool is_quantity(const std::string& text) {
  // sign? digits with an optional fraction, then a binary or decimal suffix or an exponent.
  static const std::regex q(
      R"(^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$)");
  return std::regex_match(text, q);
}

namespace {

json run_labels(const WorkerPlan& plan) {
  return {{kRunLabel, plan.run_id},
          {"app.kubernetes.io/name", "kgate-load-worker"},
          {"app.kubernetes.io/managed-by", "kgate"}};
}

}  // namespace

json secret_manifest(const DistOptions& o, const WorkerPlan& plan) {
  json data = json::object();
  for (const auto& [k, v] : o.run_secret) data[k] = base64_encode(v);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", secret_name(plan.run_id)}, {"labels", run_labels(plan)}}},
          {"type", "Opaque"},
          {"immutable", true},
          {"data", data}};
}

json owner_reference(const json& job) {
  const json& md = job.at("metadata");
  return {{"apiVersion", job.value("apiVersion", "batch/v1")},
          {"kind", job.value("kind", "Job")},
          {"name", md.at("name")},
          {"uid", md.at("uid")},
          {"blockOwnerDeletion", false}};
}

json job_manifest(const DistOptions& o, const WorkerPlan& plan, std::chrono::seconds deadline) {
  const json labels = run_labels(plan);
  json resources = json::object();
  for (const auto& [k, v] : o.requests)
    if (!v.empty()) resources["requests"][k] = v;
  for (const auto& [k, v] : o.limits)
    if (!v.empty()) resources["limits"][k] = v;
  json env = json::array({{{"name", "KGATE_LOAD_PLAN"}, {"value", to_json(plan).dump()}}});
  for (const auto& [key, value] : o.run_secret)
    env.push_back(
        {{"name", key},
         {"valueFrom", {{"secretKeyRef", {{"name", secret_name(plan.run_id)}, {"key", key}}}}}});
  json container = {
      {"name", "worker"},
      {"image", o.image},
      {"args", {"load-worker"}},
      {"env", env},
      {"ports", {{{"name", "barrier"}, {"containerPort", plan.barrier_port}}}},
      // Ready = listening for the start signal: the coordinator starts the run only then.
      {"readinessProbe",
       {{"httpGet", {{"path", "/ready"}, {"port", "barrier"}}},
        {"periodSeconds", 1},
        {"failureThreshold", 1}}},
      {"resources", resources},
      {"volumeMounts", {{{"name", "tmp"}, {"mountPath", "/tmp"}}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", {"ALL"}}}}}}};
  if (!o.image_pull_policy.empty()) container["imagePullPolicy"] = o.image_pull_policy;
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata", {{"name", job_name(plan.run_id)}, {"labels", labels}}},
          {"spec",
           {{"completionMode", "Indexed"},
            {"completions", plan.workers},
            {"parallelism", plan.workers},
            // A failed worker is not retried: its replacement would send its share again, late.
            {"backoffLimitPerIndex", 0},
            {"podReplacementPolicy", "Failed"},
            {"activeDeadlineSeconds", deadline.count()},
            {"ttlSecondsAfterFinished", 300},
            {"template",
             {{"metadata", {{"labels", labels}}},
              {"spec",
               {{"restartPolicy", "Never"},
                {"automountServiceAccountToken", false},
                {"enableServiceLinks", false},
                {"terminationGracePeriodSeconds", 10},
                {"securityContext",
                 {{"runAsNonRoot", true},
                  {"runAsUser", 1000},
                  {"runAsGroup", 1000},
                  {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                {"volumes", {{{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "16Mi"}}}}}},
                {"containers", {container}}}}}}}}};
}

}  // namespace kgate::dist
