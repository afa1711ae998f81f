// Pods deleted under live traffic: a replacement Ready within budget and the traffic's
// availability during the window (checks 1-3 of issue 15).
#include <set>

#include "env.hpp"
#include "kgate/cluster/objects.hpp"

namespace kgate::resilience {

class ResiliencePodDelete : public ResilienceCheck {
 public:
  static constexpr GroupInfo group{"resilience", "PodDelete"};
  using ResilienceCheck::ResilienceCheck;

 protected:
  // Deletes `count` pods of the role (all when 0), waits for the Deployment to be whole again
  // with new pods, observes the recovery window, and records it.
  WindowStats delete_and_measure(const std::string& role, std::size_t count, bool frontend) {
    const auto& w = workload(role);
    auto& d = disruptor();
    require_settled(role);
    auto pods = live_pods(role);
    if (pods.empty()) KGATE_INCONCLUSIVE() << "no running " << role << " pod to delete";
    if (count == 0 || count > pods.size()) count = pods.size();
    std::set<std::string> old;
    for (const auto& p : pods) old.insert(p.name);
    observe(baseline());  // traffic before the disruption, the baseline
    const double t0 = c().now();
    for (std::size_t i = 0; i < count; ++i) d.delete_pod(pods[i].name);
    planned("then wait for the replacements and measure the live traffic");
    c().progress("deleted " + std::to_string(count) + " " + role + " pod(s); waiting for " +
                 "replacements");
    const auto budget = config().resilience.ready_budget;
    const bool whole = env().watch().wait_until(
        [&] {
          int fresh = 0;
          for (const auto& p : live_pods(role))
            if (!old.count(p.name) && p.ready) ++fresh;
          return fresh >= static_cast<int>(count) && wait_settled(role, Millis(0));
        },
        budget, [this] { return c().stop_requested(); });
    const double t_ready = c().now();
    measure("replacement_ready", t_ready - t0, "s");
    observe(std::chrono::duration<double>(config().resilience.recovery).count());
    auto win = report(role + " pod delete", t0, c().now(), frontend,
                      {"pod/" + w.name, "deployment/" + w.name, "endpoints/", "replicaset/"});
    KGATE_EXPECT(whole) << "the " << role << " Deployment was not whole again (" << count
                        << " new pod(s) Ready) within "
                        << seconds_text(std::chrono::duration<double>(budget).count())
                        << " (suites.resilience.ready_budget): "
                        << cluster::deployment_status_text(env().watch().deployment(role));
    return win;
  }
};

KGATE_CHECK(ResiliencePodDelete, Backend,
            {.title = "A deleted backend pod is replaced within budget and the API stays "
                      "available meanwhile",
             .tags = {"kubernetes"},
             .needs = kDisruptive | kNeedsCluster,
             .figures = window_figures("", {{"replacement_ready", "s"}})}) {
  auto w = delete_and_measure("backend", 1, false);
  const double slo = config().resilience.availability;
  KGATE_EXPECT(w.availability >= slo)
      << "availability during the backend pod's replacement was " << w.availability << " % ("
      << w.failed << " of " << w.requests << " requests failed), below " << slo
      << " % (suites.resilience.availability)";
}

KGATE_CHECK(ResiliencePodDelete, Frontend,
            {.title = "A deleted frontend pod is replaced within budget and the page stays "
                      "available meanwhile",
             .tags = {"kubernetes"},
             .needs = kDisruptive | kNeedsCluster | kNeedsFrontend,
             .figures = window_figures("frontend.", {{"replacement_ready", "s"}})}) {
  auto w = delete_and_measure("frontend", 1, true);
  const double slo = config().resilience.availability;
  KGATE_EXPECT(w.availability >= slo)
      << "availability of the frontend page during its pod's replacement was " << w.availability
      << " % (" << w.failed << " of " << w.requests << " requests failed), below " << slo
      << " % (suites.resilience.availability)";
}

KGATE_CHECK(ResiliencePodDelete, AllBackend,
            {.title = "With every backend pod deleted at once, the API comes back within "
                      "budget; the outage is reported",
             .tags = {"kubernetes"},
             .needs = kDisruptive | kNeedsCluster,
             .figures = window_figures("", {{"outage", "s"}})}) {
  auto w = delete_and_measure("backend", 0, false);
  const double outage = w.recovery ? *w.recovery - w.first_error.value_or(0) : 0;
  measure("outage", outage, "s");
  const double budget = std::chrono::duration<double>(config().resilience.outage_budget).count();
  KGATE_EXPECT(!w.recovery || *w.recovery <= budget)
      << "the API answered again only " << seconds_text(*w.recovery)
      << " after every backend pod was deleted, past " << seconds_text(budget)
      << " (suites.resilience.outage_budget)";
}

}  // namespace kgate::resilience
