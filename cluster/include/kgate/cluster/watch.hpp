#pragma once
// Watches of the app's pods, EndpointSlices, Deployments, HPAs and events, one thread each, that
// keep the latest state and put every change that matters on the Timeline as it arrives: pod
// created, Scheduled, Ready, Terminating, deleted; endpoint added, ready, terminating (with
// serving), removed; rollout progress; HPA decisions; the events the controllers and the node
// write (Killing, ScalingReplicaSet, Unhealthy, ...). Checks wait on this state (a condition
// variable woken by the watches), never by polling the API.
//
// A watch whose stream ends or breaks resumes (kube::Client::watch); one interrupted because a
// check timed out starts again from a fresh list, diffed against what it knew.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kgate/cluster/timeline.hpp"
#include "kgate/kube/client.hpp"

namespace kgate::cluster {

using nlohmann::json;

struct WatchScope {
  std::string ns;
  std::string label_selector;  // narrows the pod and Deployment watches (the release's label)
  struct Tier {
    std::string role;  // backend, frontend
    std::string deployment;
    json selector;  // the Deployment's pod selector
    std::vector<std::string> services;
    std::vector<std::string> hpas;
  };
  std::vector<Tier> tiers;
  bool events = true;  // core/v1 Events about the tiers' objects
};

struct PodView {
  std::string name, uid, role, ip, phase;
  bool scheduled = false, ready = false, terminating = false, deleted = false;
  int restarts = 0;
  double first_seen = 0;  // run clock: when a watch first saw it (creation for new pods)
  std::optional<double> ready_at, terminating_at, deleted_at;  // first observed
};

struct EndpointView {
  std::string service, pod, address;
  bool ready = false, serving = false, terminating = false;
};

// A tier's endpoints after each change: how many were ready, not ready, terminating.
struct EndpointCount {
  double t = 0;
  int ready = 0, not_ready = 0, terminating = 0;
};

class ClusterWatch {
 public:
  ClusterWatch(kube::Client& client, WatchScope scope, Timeline& timeline);
  ~ClusterWatch();
  ClusterWatch(const ClusterWatch&) = delete;
  ClusterWatch& operator=(const ClusterWatch&) = delete;

  // Starts the watches and returns once each has delivered its first list, so nothing that
  // happens afterwards is missed. Throws (naming the watch and the API's words) otherwise.
  void start(std::chrono::milliseconds timeout);
  // Bounded (each stream ends within a few seconds); idempotent; never throws.
  void stop() noexcept;

  std::vector<PodView> pods(std::string_view role, bool include_deleted = false) const;
  std::optional<PodView> pod(std::string_view name) const;
  std::vector<EndpointView> endpoints(std::string_view role) const;
  std::vector<EndpointCount> endpoint_history(std::string_view role) const;
  json deployment(std::string_view role) const;
  json hpa(std::string_view name) const;

  // Waits until pred() holds: checked now and after every change a watch delivers, until
  // `timeout` or give_up() (Ctrl-C, the check's timeout). True when it held.
  bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                  const std::function<bool()>& give_up = {});

  // The last error of a watch that keeps failing ("" when all are well).
  std::string error() const;
  const WatchScope& scope() const { return scope_; }

 private:
  struct Endpoint;
  void run(const kube::ResourceType& type, const std::string& label_selector,
           const std::string& what);
  void on_event(const kube::ResourceType& type, const kube::WatchEvent& e, bool initial);
  void on_pod(const json& pod, bool deleted, bool initial);
  void on_slice(const json& slice, bool deleted, bool initial);
  void on_deployment(const json& d, bool initial);
  void on_hpa(const json& h, bool initial);
  void on_k8s_event(const json& e);
  void relist(const kube::ResourceType& type, const json& list, bool initial);
  const WatchScope::Tier* tier_of_pod(const json& labels) const;
  const WatchScope::Tier* tier_of_service(const std::string& service) const;
  void record_endpoint_counts(const std::string& role, double t);
  void changed();

  kube::Client& client_;
  WatchScope scope_;
  Timeline& timeline_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t version_ = 0;
  std::map<std::string, bool> listed_;  // watch name -> has delivered its first list
  std::string error_;
  std::map<std::string, PodView> pods_;  // by name (deleted ones kept for their history)
  // slice name -> endpoints in it
  std::map<std::string, std::vector<EndpointView>> slices_;
  std::map<std::string, std::vector<EndpointCount>> endpoint_history_;  // by role
  std::map<std::string, json> deployments_;                             // by role
  std::map<std::string, json> hpas_;                                    // by name
  std::map<std::string, int> event_counts_;                             // event uid -> count seen
};

}  // namespace kgate::cluster
