#pragma once
// Disruptions that know how to undo themselves: delete a pod, evict one through the Eviction
// API, restart a Deployment (the kubectl.kubernetes.io/restartedAt annotation, as `kubectl
// rollout restart` sets it), scale a Deployment or pin an HPA. Each action registers its undo
// BEFORE it acts, so whatever ends the check (a finding, an exception, its timeout, Ctrl-C)
// restores the cluster when the Disruptor is restored or destroyed: a scaled Deployment is
// scaled back, a restart annotation is put back as it was, an HPA gets its bounds back.
// Deleted and evicted pods need no undo: their Deployment replaces them.
//
// The opt-in guard: a Disruptor refuses to act in a namespace that does not carry
// `<label>=allowed`. In dry-run mode it records what it would do (plan()) and changes nothing.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kgate/cluster/timeline.hpp"
#include "kgate/kube/client.hpp"

namespace kgate::cluster {

using nlohmann::json;

// Why a namespace is not open to disruption ("" when it is): reads the Namespace and its
// labels. A 403 on reading it is reported as such (verb, resource, namespace).
std::string disruption_refusal(kube::Client& client, const std::string& ns,
                               const std::string& label);

struct DisruptorOptions {
  std::string ns;
  std::string label = "kgate.io/disruption";  // kubernetes.disruption_label
  bool dry_run = false;
  Timeline* timeline = nullptr;  // actions are put on it ("delete", "evict", "restart", ...)
};

class Disruptor {
 public:
  // Throws std::runtime_error with the refusal when the namespace is not opted in (also in
  // dry-run mode: a plan for a namespace kgate may not touch is of no use).
  Disruptor(kube::Client& client, DisruptorOptions options);
  ~Disruptor();  // restore(), errors only logged to the returned list being lost
  Disruptor(const Disruptor&) = delete;
  Disruptor& operator=(const Disruptor&) = delete;

  // Deletes a pod (its Deployment replaces it). nullopt grace: the pod's own.
  void delete_pod(const std::string& pod, std::optional<int> grace_seconds = {});
  // Evicts a pod. True when evicted; false when the API refused with 429 (a disruption budget
  // would be broken): `refusal` gets the API's words. Other errors throw.
  bool evict_pod(const std::string& pod, std::string* refusal = nullptr);
  // Sets spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"] to now
  // (RFC 3339); the undo puts the annotation back as it was (removed when it was absent),
  // which rolls the Deployment back onto its original ReplicaSet.
  void restart(const std::string& deployment);
  // The scale subresource; the undo scales back to the replicas it had before.
  void scale(const std::string& deployment, int replicas);
  // Pins an HPA's minReplicas and maxReplicas to `replicas`, so that it neither fights a manual
  // scale nor scales away from it; the undo restores both bounds.
  void pin_hpa(const std::string& hpa, int replicas);

  // Runs the undos registered so far, newest first, each at most once. Never throws; returns
  // what could not be restored (empty: all restored).
  std::vector<std::string> restore() noexcept;

  // Every action, as done or (dry run) as it would be done: "delete pod/x in namespace n".
  const std::vector<std::string>& plan() const { return plan_; }
  bool dry_run() const { return options_.dry_run; }
  const std::string& ns() const { return options_.ns; }

 private:
  void record(const std::string& kind, const std::string& object, const std::string& what);

  kube::Client& client_;
  std::unique_ptr<kube::Client> eviction_client_;
  DisruptorOptions options_;
  std::vector<std::string> plan_;
  struct Undo {
    std::string what;
    std::function<void()> run;
  };
  std::vector<Undo> undos_;
};

}  // namespace kgate::cluster
