// Probes honest (check 7): a new pod receives traffic once its readiness says Ready; if it
// then answers 5xx or refuses, its readiness lied. Measured on a scale-up by one, so no pod is
// terminating in the window and every failure belongs to the new pod.
#include <set>

#include "env.hpp"
#include "kgate/cluster/objects.hpp"

namespace kgate::resilience {

class ResilienceProbes : public ResilienceCheck {
 public:
  static constexpr GroupInfo group{"resilience", "Probes"};
  using ResilienceCheck::ResilienceCheck;
};

KGATE_CHECK(ResilienceProbes, ReadinessHonest,
            {.title = "A new backend pod serves every request it gets once it reports Ready",
             .tags = {"kubernetes"},
             .needs = kDisruptive | kNeedsCluster,
             .figures = window_figures("", {{"new_pod_ready", "s"}})}) {
  const auto& w = workload("backend");
  auto& d = disruptor();
  require_settled("backend");
  std::set<std::string> old;
  for (const auto& p : live_pods("backend")) old.insert(p.name);
  const int target = static_cast<int>(old.size()) + 1;
  observe(baseline());
  const double t0 = c().now();
  if (!w.hpas.empty())
    d.pin_hpa(w.hpas.front(), target);
  else
    d.scale(w.name, target);
  planned("then send traffic to the new pod once Ready, and scale back");
  std::optional<double> ready_at;
  env().watch().wait_until(
      [&] {
        for (const auto& p : live_pods("backend"))
          if (!old.count(p.name) && p.ready) {
            ready_at = p.ready_at.value_or(c().now());
            return true;
          }
        return false;
      },
      config().resilience.ready_budget, [this] { return c().stop_requested(); });
  KGATE_REQUIRE(ready_at) << "no new backend pod became Ready within the ready budget";
  measure("new_pod_ready", *ready_at - t0, "s");
  // While it takes its share of the traffic: long enough for a few requests to reach it.
  observe(std::max(5.0, std::chrono::duration<double>(config().resilience.recovery).count()));
  auto win = report("new backend pod, after Ready", *ready_at, c().now(), false,
                    {"pod/" + w.name, "endpoints/"});
  KGATE_EXPECT(win.failed == 0)
      << win.failed << " of " << win.requests << " requests failed after the new backend pod "
      << "reported Ready (" << win.status_5xx << " 5xx, " << win.connect << " refused, "
      << win.broken << " reset): its readiness probe says Ready before it can serve. Make "
      << "/ready fail until the pod can answer its API (database reached, caches warm)";
  restore({"backend"});
}

}  // namespace kgate::resilience
