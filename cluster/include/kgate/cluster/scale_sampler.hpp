#pragma once
// One look at a Deployment under load and the HorizontalPodAutoscaler that scales it: the HPA's
// status (replicas, CPU utilization), the Deployment's replicas, its live and Ready pods and
// each pod's CPU as a percentage of its request from metrics.k8s.io. The HPA suite samples it
// once a second during its experiment, and `kgate load --watch deployment/NAME` during an ad-hoc
// run: one sampler, so both read the cluster the same way.
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kgate::kube {
class Client;
}

namespace kgate::cluster {

// "100m" -> 0.1, "2" -> 2, "250000n" -> 0.00025 (cores); nullopt when not a quantity.
std::optional<double> parse_cpu(const std::string& text);
// The controller's rule for one Utilization metric: ceil(current * ratio) when the ratio is
// outside the tolerance, else current (kube's replica_calculator, without the unready-pod cases).
int wanted_replicas(int current, double utilization, double target, double tolerance);
// The containers the HPA's resource metrics count: the regular ones and sidecars (init
// containers that keep running, restartPolicy Always).
std::vector<nlohmann::json> counted_containers(const nlohmann::json& pod);
// A container's CPU request in cores, nullopt without one.
std::optional<double> cpu_request(const nlohmann::json& container);
// Neither terminating nor finished.
bool pod_live(const nlohmann::json& pod);
// The condition `type` of an object's status: {status, reason, message}, or null.
nlohmann::json status_condition(const nlohmann::json& object, const std::string& type);
// An HPA spec's cpu Utilization target (%), 0 without one.
double hpa_cpu_target(const nlohmann::json& hpa_spec);

// One tick (on the caller's clock). -1 / nullopt: not read.
struct ScaleSample {
  double t = 0;
  int hpa_current = -1, hpa_desired = -1;  // status.currentReplicas / desiredReplicas
  std::optional<double> hpa_cpu;           // status.currentMetrics: cpu averageUtilization
  int wanted = -1;                         // what the HPA's own metric asks for, unclamped
  int spec_replicas = -1, live = 0, ready = 0;
  std::map<std::string, double> pod_cpu;  // pod -> CPU % of its request (metrics.k8s.io)
  std::vector<std::string> no_metrics;    // live pods the metrics API had nothing for
  std::optional<double> avg_cpu;          // sum usage / sum requests, as the controller does
  std::string limited;                    // ScalingLimited=True (TooManyReplicas): reason, message
  bool pods_read = false;                 // the pod list answered (live/ready mean something)
  std::string error;                      // what could not be read this tick, or ""
};

// What a sampler looks at.
struct ScaleTarget {
  std::string ns, deployment;
  nlohmann::json selector;                 // the Deployment's spec.selector
  std::string hpa;                         // the HPA whose scaleTargetRef is the Deployment, or ""
  double target_cpu = 0;                   // its cpu Utilization target (%), 0 without one
  int min_replicas = 1, max_replicas = 1;  // the HPA's (the Deployment's replicas without one)
  double tolerance = 0.1;  // the controller's (--horizontal-pod-autoscaler-tolerance)
};

// Reads Deployment `name` in `ns` and the HPA (autoscaling/v2) that targets it. Throws what the
// client throws (kube::ApiError with the HTTP status, or a transport error): the caller names
// the object for the user.
ScaleTarget find_scale_target(kube::Client& client, const std::string& ns, const std::string& name);

class ScaleSampler {
 public:
  // Every call goes through `client`, so each is bounded by its request timeout.
  ScaleSampler(kube::Client& client, ScaleTarget target);
  const ScaleTarget& target() const { return target_; }
  // One tick at time `t`. `deployment`: the Deployment as a watch already holds it, or null to
  // GET it. Never throws: what could not be read stays unset and is named in `error`. `cancel`
  // set: no further call is made (a stop waits for one call at most); the sample is partial.
  ScaleSample sample(double t, const nlohmann::json* deployment = nullptr,
                     const std::atomic<bool>* cancel = nullptr) const;

 private:
  kube::Client& client_;
  ScaleTarget target_;
};

}  // namespace kgate::cluster
