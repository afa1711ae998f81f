#pragma once
// What the resilience suite's checks share: a suite fixture that finds the release in the
// cluster, watches it (one timeline on the run's clock) and runs live traffic with the load
// engine (the todo mix on the backend, the frontend page) for the whole suite, recording every
// request's intended time and outcome; and the group base class with the disruption helpers.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kgate/check.hpp"
#include "kgate/cluster/discovery.hpp"
#include "kgate/cluster/disruption.hpp"
#include "kgate/cluster/timeline.hpp"
#include "kgate/cluster/watch.hpp"

namespace kgate::load {
class TodoMix;
}

namespace kgate::resilience {

// A window of live traffic, as a release manager reads it. A request is unavailable when it
// got no answer (refused, reset, timed out, dropped for want of a connection) or a 5xx; a 4xx
// is an answer from a working service and is counted apart.
struct WindowStats {
  double from = 0, to = 0;
  std::uint64_t requests = 0, failed = 0;
  std::uint64_t connect = 0, timeout = 0, broken = 0, dropped = 0, status_5xx = 0, status_4xx = 0;
  double availability = 100;          // % of requests not failed
  std::optional<double> first_error;  // s from `from` to the first failed request
  std::optional<double> recovery;     // s from `from` to sustained success
  std::uint64_t longest_streak = 0;   // consecutive failed requests (by intended time)
  double p95_ms = 0, p99_ms = 0;      // latency from the intended time
  double baseline_p95_ms = 0, baseline_p99_ms = 0;
};

class ResilienceEnv final : public SuiteFixture {
 public:
  explicit ResilienceEnv(const Config& config);
  ~ResilienceEnv() override;
  std::string name() const override { return "resilience: discovery, watches, live traffic"; }
  void start(RunContext& run, SuiteResult& out) override;
  void stop(RunContext& run, SuiteResult& out) noexcept override;

  bool active() const { return client_ != nullptr; }
  kube::Client& client() { return *client_; }
  const cluster::Discovery& found() const { return found_; }
  cluster::Timeline& timeline() { return *timeline_; }
  cluster::ClusterWatch& watch() { return *watch_; }
  const std::string& ns() const { return found_.ns; }

  // Traffic over [from, to] (run clock, by intended time, plus the requests still in flight at
  // `from`); `frontend` picks the page requests, else the API's. The baseline is the `baseline`
  // seconds before `from`, without those in flight.
  WindowStats window(double from, double to, bool frontend, double baseline) const;
  // Answered and failed requests per second over [from, to], for a chart with the timeline.
  Chart chart(const std::string& title, double from, double to, bool frontend) const;
  std::uint64_t recorded() const;

 private:
  struct Record {
    double intended, done;
    int status;
    std::uint8_t transport;  // load::RequestOutcome::Transport
    bool frontend;
  };
  class Recorder;
  void traffic(bool frontend);

  const Config& cfg_;
  std::unique_ptr<kube::Client> client_;
  cluster::Discovery found_;
  std::unique_ptr<cluster::Timeline> timeline_;
  std::unique_ptr<cluster::ClusterWatch> watch_;
  std::vector<Identity> ids_;
  std::unique_ptr<load::TodoMix> mix_;
  std::unique_ptr<Recorder> api_rec_, web_rec_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  double offset_ = 0;  // run clock minus steady clock seconds
  mutable std::mutex mutex_;
  std::vector<Record> records_;
  std::string traffic_error_;
};

// The group base class: the fixture, the namespace guard and disruptions undone at the end.
class ResilienceCheck : public Check {
 public:
  using Check::Check;
  ~ResilienceCheck() override;

 protected:
  ResilienceEnv& env();
  // The Disruptor for this check; skips the check, saying why, when the namespace is not open.
  cluster::Disruptor& disruptor();
  const cluster::Workload& workload(const std::string& role);
  // Non-terminating pods of a role, and of those the Ready ones.
  std::vector<cluster::PodView> live_pods(const std::string& role);
  // Waits until the role's Deployment is settled: desired replicas all Ready, none terminating.
  bool wait_settled(const std::string& role, Millis budget);
  // Requires a settled start (inconclusive otherwise) so one check's aftermath is not the next's.
  void require_settled(const std::string& role);
  // Observes `seconds` more of traffic (a measurement window, not a wait for a condition).
  void observe(double seconds);
  // Records a window's figures (measure/property), its chart and the timeline's events.
  WindowStats report(const std::string& what, double from, double to, bool frontend,
                     const std::vector<std::string>& objects);
  // After a check's disruptive actions: in a dry run (kgate run --dry-run) ends the check as
  // skipped with the plan, exactly what it would have done (`how` adds the order or the
  // condition the real run follows); otherwise nothing.
  void planned(const std::string& how = "");
  bool dry_run() const { return config().dry_run; }
  // Undoes what this check changed, waits for the roles to settle, records what failed.
  void restore(const std::vector<std::string>& roles);
  double baseline() const;
  static std::string seconds_text(double s);

 private:
  std::unique_ptr<cluster::Disruptor> disruptor_;
};

// The figures a disruption window records (ResilienceCheck::report), declared so that release
// criteria can name them ("resilience.PodDelete.Backend.availability >= 99.5"); `prefix` is
// "frontend." for the frontend's traffic. Figures recorded only when something happened
// (time_to_first_error, recovery_time) are not declared: a criterion on them would be "not
// measured" on a clean run.
inline std::vector<FigureInfo> window_figures(const std::string& prefix = "",
                                              std::vector<FigureInfo> extra = {}) {
  std::vector<FigureInfo> out = {{prefix + "requests", "requests"},
                                 {prefix + "failed", "requests"},
                                 {prefix + "availability", "%"},
                                 {prefix + "longest_error_streak", "requests"},
                                 {prefix + "p95", "ms"},
                                 {prefix + "p99", "ms"}};
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

}  // namespace kgate::resilience
