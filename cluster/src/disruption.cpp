#include "kgate/cluster/disruption.hpp"

#include <chrono>
#include <ctime>
#include <stdexcept>

#include "kgate/cluster/objects.hpp"
#include "kgate/http.hpp"

namespace kgate::cluster {
namespace {

namespace res = kube::resources;
const char* kRestartedAt = "kubectl.kubernetes.io/restartedAt";

std::string rfc3339_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string disruption_refusal(kube::Client& client, const std::string& ns,
                               const std::string& label) {
  json namespace_object;
  try {
    namespace_object = client.get(res::namespaces, "", ns);
  } catch (const kube::ApiError& e) {
    return "cannot read namespace " + ns + " to see whether it allows disruption: " + e.what();
  }
  const auto labels =
      namespace_object.value("metadata", json::object()).value("labels", json::object());
  const std::string value = labels.contains(label) && labels[label].is_string()
                                ? labels[label].get<std::string>()
                                : std::string();
  if (value == "allowed") return "";
  return "namespace " + ns + " is not open to disruption: it needs the label " + label +
         "=allowed (kubectl label namespace " + ns + " " + label + "=allowed)" +
         (value.empty() ? "" : "; it has " + label + "=" + value);
}

Disruptor::Disruptor(kube::Client& client, DisruptorOptions options)
    : client_(client), options_(std::move(options)) {
  if (auto why = disruption_refusal(client_, options_.ns, options_.label); !why.empty())
    throw std::runtime_error(why);
}

Disruptor::~Disruptor() {
  restore();
}

void Disruptor::record(const std::string& kind, const std::string& object,
                       const std::string& what) {
  plan_.push_back((options_.dry_run ? "would " : "") + what);
  if (options_.timeline && !options_.dry_run) options_.timeline->add(kind, object, what);
}

void Disruptor::delete_pod(const std::string& pod, std::optional<int> grace_seconds) {
  record("delete", "pod/" + pod,
         "delete pod/" + pod + " in namespace " + options_.ns +
             (grace_seconds ? " (grace " + std::to_string(*grace_seconds) + " s)" : ""));
  if (options_.dry_run) return;
  kube::DeleteOptions o;
  if (grace_seconds) o.grace_period_seconds = *grace_seconds;
  client_.remove(res::pods, options_.ns, pod, o);
}

bool Disruptor::evict_pod(const std::string& pod, std::string* refusal) {
  record("evict", "pod/" + pod, "evict pod/" + pod + " in namespace " + options_.ns);
  if (options_.dry_run) return true;
  // A client that does not retry: the shared one retries 429 with backoff, which would turn
  // the budget's refusal into an eviction once the budget allows it again.
  if (!eviction_client_) {
    kube::ClientOptions o;
    o.max_retries = 0;
    eviction_client_ = std::make_unique<kube::Client>(client_.config(), o);
  }
  try {
    eviction_client_->evict(options_.ns, pod);
    return true;
  } catch (const kube::ApiError& e) {
    if (e.http_status() != 429) throw;
    if (refusal) *refusal = e.what();
    if (options_.timeline) options_.timeline->add("EvictionRefused", "pod/" + pod, e.what());
    return false;
  }
}

void Disruptor::restart(const std::string& deployment) {
  record("restart", "deployment/" + deployment,
         "restart deployment/" + deployment + " in namespace " + options_.ns + " (" + kRestartedAt +
             ")");
  if (options_.dry_run) return;
  const json d = client_.get(res::deployments, options_.ns, deployment);
  const json annotations = d.value("spec", json::object())
                               .value("template", json::object())
                               .value("metadata", json::object())
                               .value("annotations", json::object());
  // Null in a merge patch removes the key: the annotation as it was before.
  const json before = annotations.contains(kRestartedAt) ? annotations[kRestartedAt] : json();
  undos_.push_back({"put back " + std::string(kRestartedAt) + " on deployment/" + deployment,
                    [this, deployment, before] {
                      json p;
                      p["spec"]["template"]["metadata"]["annotations"][kRestartedAt] = before;
                      client_.patch(res::deployments, options_.ns, deployment, p);
                    }});
  json p;
  p["spec"]["template"]["metadata"]["annotations"][kRestartedAt] = rfc3339_now();
  client_.patch(res::deployments, options_.ns, deployment, p);
}

void Disruptor::scale(const std::string& deployment, int replicas) {
  record("scale", "deployment/" + deployment,
         "scale deployment/" + deployment + " in namespace " + options_.ns + " to " +
             std::to_string(replicas));
  if (options_.dry_run) return;
  const json s = client_.get(res::deployments, options_.ns, deployment, "scale");
  const int before = s.value("spec", json::object()).value("replicas", 1);
  undos_.push_back({"scale deployment/" + deployment + " back to " + std::to_string(before),
                    [this, deployment, before] {
                      client_.patch(res::deployments, options_.ns, deployment,
                                    {{"spec", {{"replicas", before}}}}, kube::PatchType::Merge,
                                    "scale");
                      if (options_.timeline)
                        options_.timeline->add("scale", "deployment/" + deployment,
                                               "scaled back to " + std::to_string(before));
                    }});
  client_.patch(res::deployments, options_.ns, deployment, {{"spec", {{"replicas", replicas}}}},
                kube::PatchType::Merge, "scale");
}

void Disruptor::pin_hpa(const std::string& hpa, int replicas) {
  record("pin", "hpa/" + hpa,
         "pin hpa/" + hpa + " in namespace " + options_.ns + " to " + std::to_string(replicas) +
             " replicas (minReplicas = maxReplicas)");
  if (options_.dry_run) return;
  const json h = client_.get(res::horizontal_pod_autoscalers, options_.ns, hpa);
  const json spec = h.value("spec", json::object());
  const json min = spec.contains("minReplicas") ? spec["minReplicas"] : json();
  const json max = spec.value("maxReplicas", json(replicas));
  undos_.push_back({"restore hpa/" + hpa + " bounds", [this, hpa, min, max] {
                      client_.patch(res::horizontal_pod_autoscalers, options_.ns, hpa,
                                    {{"spec", {{"minReplicas", min}, {"maxReplicas", max}}}});
                    }});
  client_.patch(res::horizontal_pod_autoscalers, options_.ns, hpa,
                {{"spec", {{"minReplicas", replicas}, {"maxReplicas", replicas}}}});
}

std::vector<std::string> Disruptor::restore() noexcept {
  std::vector<std::string> failed;
  const http::InterruptShield shield;  // after Ctrl-C too: the cluster must be put back
  while (!undos_.empty()) {
    Undo u = std::move(undos_.back());
    undos_.pop_back();
    try {
      u.run();
    } catch (const std::exception& e) {
      failed.push_back(u.what + ": " + e.what());
    } catch (...) {
      failed.push_back(u.what + ": unknown error");
    }
  }
  return failed;
}

}  // namespace kgate::cluster
