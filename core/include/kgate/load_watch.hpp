#pragma once
// `kgate load URL ... --watch deployment/NAME`: while the load runs, the Deployment and the HPA
// that scales it are sampled once a second (cluster::ScaleSampler, the HPA suite's sampler) on
// the load's clock, so the live line, the results' time series and the summary show load and
// scaling side by side. The watch never stalls or fails the load: it samples on its own thread,
// every API call bounded by --request-timeout, and a failed sample is shown, not fatal.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kgate/cluster/scale_sampler.hpp"

namespace kgate {

namespace kube {
class Client;
}

// The Deployment name of a --watch value: deployment/NAME, as kubectl also spells it
// (deployments/, deploy/, deployment.apps/). Throws ConfigError naming --watch otherwise (another
// kind, such as pod/x; a missing or invalid name).
std::string parse_watch_target(const std::string& value);

// What the samples say about scaling (for the summary and the results).
struct ScalingSummary {
  int samples = 0, errors = 0;             // ticks, and ticks with something unread
  int initial = -1;                        // the Deployment's replicas when the watch started
  std::optional<double> t_first_decision;  // the first tick whose desired count differed
  int first_decision_to = -1;              // what it wanted then
  int max_desired = -1, max_ready = -1;    // the Deployment's spec.replicas; Ready pods
  std::optional<double> peak_hpa_cpu;      // the HPA's current CPU utilization, %
  std::string last_error;
};
// `initial`: the Deployment's replicas at the start. A decision is the HPA's desiredReplicas, or
// without an HPA the Deployment's spec.replicas, differing from it.
ScalingSummary summarize_scaling(const std::vector<cluster::ScaleSample>& samples, int initial);

class LoadWatch {
 public:
  // Reads the Deployment and finds its HPA. Throws Error: `unreachable` false when the
  // Deployment does not exist (a bad --watch value), true when the API could not be read.
  struct Error : std::runtime_error {
    Error(const std::string& what, bool unreachable_)
        : std::runtime_error(what), unreachable(unreachable_) {}
    bool unreachable;
  };
  LoadWatch(std::unique_ptr<kube::Client> client, const std::string& ns,
            const std::string& deployment);
  ~LoadWatch();
  LoadWatch(const LoadWatch&) = delete;
  LoadWatch& operator=(const LoadWatch&) = delete;

  // What it watches, in words ("deployment/x in namespace y, scaled by hpa/x (cpu target 50 %)").
  std::string describe() const;
  // Samples once a second on a thread of its own, until stop(); t = 0 at `t0` (the load's
  // start: now for a local load, the workers' barrier instant for a distributed one).
  void start(std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now());
  bool started() const { return thread_.joinable(); }
  void stop();
  // For the live line: "replicas 2/3 ready  hpa cpu 87%/50% desired 4", or the last error.
  std::string live_text() const;
  std::vector<cluster::ScaleSample> samples() const;
  // The results' "watch" object, and the fields added to each interval of `series` (the state
  // last sampled before the interval's end): replicas_desired/current/ready, hpa_desired,
  // hpa_cpu.
  nlohmann::json to_json() const;
  void add_to_series(nlohmann::json& series, double interval_s) const;
  // Both into a load's results: its "watch" object and the replica columns of its "series".
  void add_to_results(nlohmann::json& results, double interval_s) const {
    results["watch"] = to_json();
    add_to_series(results["series"], interval_s);
  }
  // The summary lines (first scale decision, max replicas reached, sampling errors).
  std::string summary_text() const;

 private:
  void loop();

  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<cluster::ScaleSampler> sampler_;
  int initial_ = -1;
  std::chrono::steady_clock::time_point t0_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<cluster::ScaleSample> samples_;
};

}  // namespace kgate
