// Manual scaling (issue 20): the backend scaled to N replicas and back under live traffic;
// all Ready within budget, no failed request, an HPA pinned meanwhile and restored after.
#include <algorithm>

#include "env.hpp"
#include "kgate/cluster/objects.hpp"

namespace kgate::resilience {

class ResilienceScaling : public ResilienceCheck {
 public:
  static constexpr GroupInfo group{"resilience", "Scaling"};
  using ResilienceCheck::ResilienceCheck;
};

KGATE_CHECK(ResilienceScaling, Manual,
            {.title = "The backend scales to N replicas and back under live traffic without "
                      "losing a request",
             .tags = {"kubernetes", "scaling"},
             .needs = kDisruptive | kNeedsCluster,
             .figures = window_figures("", {{"scale_to_ready", "s"}, {"scale_back", "s"}})}) {
  const auto& w = workload("backend");
  auto& d = disruptor();
  require_settled("backend");
  const int before = static_cast<int>(live_pods("backend").size());
  const int n = config().resilience.scale_to;
  property("scaled", std::to_string(before) + " -> " + std::to_string(n) + " -> " +
                         std::to_string(before) +
                         (w.hpas.empty() ? "" : " (hpa/" + w.hpas.front() + " pinned)"));
  observe(baseline());
  const double t0 = c().now();
  if (!w.hpas.empty())
    d.pin_hpa(w.hpas.front(), n);
  else
    d.scale(w.name, n);
  planned("then wait for " + std::to_string(n) + " Ready replicas and scale back to " +
          std::to_string(before));
  const bool up = env().watch().wait_until(
      [&] {
        int ready = 0;
        for (const auto& p : live_pods("backend")) ready += p.ready ? 1 : 0;
        return ready == n;
      },
      config().resilience.scale_budget, [this] { return c().stop_requested(); });
  measure("scale_to_ready", c().now() - t0, "s");
  KGATE_EXPECT(up) << "the backend did not have " << n << " Ready replicas within "
                   << seconds_text(
                          std::chrono::duration<double>(config().resilience.scale_budget).count())
                   << " (suites.resilience.scale_budget)";
  // Serve at N for a while: the new pods take their share of the traffic.
  observe(std::max(5.0, std::chrono::duration<double>(config().resilience.recovery).count()));
  const double t1 = c().now();
  restore({"backend"});  // scale back (or the HPA's bounds back) and settle
  measure("scale_back", c().now() - t1, "s");
  observe(std::chrono::duration<double>(config().resilience.recovery).count());
  auto win = report("backend scaled and back", t0, c().now(), false,
                    {"pod/" + w.name, "deployment/" + w.name, "hpa/", "endpoints/"});
  KGATE_EXPECT(win.failed == 0) << win.failed << " of " << win.requests
                                << " requests failed while the backend was scaled to " << n
                                << " and back";
}

}  // namespace kgate::resilience
