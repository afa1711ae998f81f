#pragma once
// What the HPA suite's checks share: a suite fixture that finds the backend and its
// HorizontalPodAutoscaler, watches them (one timeline on the run's clock), samples the HPA, the
// Deployment and the metrics API once a second, and runs one experiment: an open-model load
// ramp through the app's URL, the scale-up it causes, the hold, and the scale-down after the
// load stops. The experiment runs in phases, each started by the first check that needs it, so
// the checks judge one run whatever order or subset of them is selected.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kgate/check.hpp"
#include "kgate/cluster/discovery.hpp"
#include "kgate/cluster/scale_sampler.hpp"
#include "kgate/cluster/timeline.hpp"
#include "kgate/cluster/watch.hpp"

namespace kgate::load {
class TodoMix;
}

namespace kgate::hpa {

using nlohmann::json;

// The arithmetic and the sampler live in cluster/ (`kgate load --watch` samples the same way).
using cluster::parse_cpu;
using cluster::wanted_replicas;
using Sample = cluster::ScaleSample;

// A computed budget and the reasoning behind it, printed and recorded.
struct Budget {
  double seconds = 0;
  std::string why;
};

struct PreflightResult {
  bool ran = false;
  std::vector<std::string> problems;  // each a message saying what to change
  std::vector<std::string> notes;
  bool ok() const { return ran && problems.empty(); }
};

// What the experiment measured (run clock, seconds).
struct Experiment {
  bool started = false, load_done = false, scale_up_done = false, down_done = false;
  double t_load0 = 0, t_load_end = 0;
  std::optional<double> t_first_decision;  // the HPA first wanted more than minReplicas
  std::optional<double> t_target;          // target_replicas Ready
  std::optional<double> t_trigger;         // derived ramp: the rate was held from here
  std::optional<double> t_scaled_down;     // back to minReplicas after the load
  double held_rate = 0;
  std::string load;        // what the load was, in words
  std::string load_error;  // the engine could not run
};

// One request, on the run clock.
struct Record {
  double intended, done;
  int status;
  std::uint8_t transport;  // load::RequestOutcome::Transport
};

struct WindowStats {
  std::uint64_t requests = 0, failed = 0;
  double error_rate = 0;  // %
  double p95_ms = 0, p99_ms = 0, achieved_rps = 0;
};

class HpaEnv final : public SuiteFixture {
 public:
  explicit HpaEnv(const Config& config);
  ~HpaEnv() override;
  std::string name() const override { return "hpa: discovery, watches, sampler"; }
  void start(RunContext& run, SuiteResult& out) override;
  void stop(RunContext& run, SuiteResult& out) noexcept override;

  bool active() const { return client_ != nullptr; }
  const HpaConfig& cfg() const { return cfg_.hpa; }
  cluster::Timeline& timeline() { return *timeline_; }
  const std::string& backend() const { return backend_; }
  const std::string& hpa_name() const { return hpa_name_; }
  int min_replicas() const { return min_; }
  int max_replicas() const { return max_; }
  int target_replicas() const;
  double target_cpu() const { return target_cpu_; }  // %; 0 without a cpu Utilization metric

  // The phases: each runs once (the first caller's), in order, earlier ones first.
  const PreflightResult& preflight();
  const Experiment& scale_up();    // load started, waited for target_replicas Ready or budget
  const Experiment& hold();        // the load has ended
  const Experiment& scale_down();  // waited for minReplicas again, or budget

  Budget scale_up_budget() const;
  Budget scale_down_budget() const;

  std::vector<Sample> samples(double from = 0, double to = 1e18) const;
  WindowStats window(double from, double to) const;
  std::vector<cluster::PodView> pods(bool include_deleted = false) const;
  // Charts over [from, to]: replicas, CPU, offered/achieved rps and p95.
  std::vector<Chart> charts(double from, double to) const;
  // Why the backend did not reach target_replicas Ready, from what was measured.
  std::string explain_no_scale_up() const;
  // The last readiness failure reported for a backend pod created since `since`, or "".
  std::string last_unhealthy(double since) const;
  double now() const;

 private:
  class Recorder;
  void sampler();
  void load_thread();
  void wait(const std::function<bool()>& done, double seconds);
  int ready_pods() const;

  const Config& cfg_;
  RunContext* run_ = nullptr;
  std::unique_ptr<kube::Client> client_;
  cluster::Discovery found_;
  std::string discovery_error_;
  std::string ns_, backend_, hpa_name_;
  json selector_;
  json hpa_spec_;  // the HPA's spec when discovered
  int min_ = 1, max_ = 1;
  double target_cpu_ = 0;
  std::unique_ptr<cluster::Timeline> timeline_;
  std::unique_ptr<cluster::ClusterWatch> watch_;
  std::unique_ptr<cluster::ScaleSampler> sampler_;
  std::vector<Identity> ids_;
  std::unique_ptr<load::TodoMix> mix_;
  std::unique_ptr<Recorder> recorder_;
  double offset_ = 0;  // run clock minus steady clock seconds

  std::atomic<bool> stop_{false}, ramp_stop_{false}, wants_more_{false};
  std::atomic<int> last_desired_{-1};  // the HPA's status.desiredReplicas, last sampled
  std::thread sampler_thread_, load_thread_;
  mutable std::mutex mutex_;  // guards what follows
  std::condition_variable cv_;
  std::vector<Sample> samples_;
  std::vector<Record> records_;
  PreflightResult preflight_;
  Experiment x_;
  bool limited_seen_ = false;
};

// The group base class: the fixture, and the preflight every measuring check stands on.
class HpaCheck : public Check {
 public:
  static constexpr GroupInfo group{"hpa", "Scaling"};
  using Check::Check;

 protected:
  HpaEnv& env();
  // Stops the check as inconclusive, naming the preflight's first problem, unless it passed.
  void require_preflight();
  // After a phase: a wait cut short by Ctrl-C or the check's timeout decides nothing.
  void require_not_interrupted();
  static std::string secs(double s);
};

}  // namespace kgate::hpa
