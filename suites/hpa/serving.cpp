// Check 2: while the HPA adds pods, requests keep being answered: the failed share from the
// first scale decision until the last added pod is Ready stays within the SLO.
#include <algorithm>

#include <fmt/format.h>

#include "env.hpp"

namespace kgate::hpa {

KGATE_CHECK(HpaCheck, NoFailures,
            {.title = "While the HPA adds pods, failed requests stay within the SLO",
             .severity = Severity::High,
             .tags = {"kubernetes", "autoscaling"},
             .needs = kDisruptive | kNeedsCluster,
             .depends_on = {"hpa.Preflight.Ready"},
             .figures = {{"requests", "requests"}, {"failed", "requests"}, {"error_rate", "%"}}}) {
  require_preflight();
  auto& e = env();
  const auto& x = e.hold();
  require_not_interrupted();
  // The pods the load brought: created after it started; the window ends when the last of
  // them was Ready (or with the load, when one never was).
  double end = x.t_load0, added = 0;
  bool all_ready = true;
  for (const auto& p : e.pods(true)) {
    if (p.first_seen < x.t_load0) continue;
    ++added;
    if (p.ready_at)
      end = std::max(end, *p.ready_at);
    else
      all_ready = false;
  }
  if (added == 0)
    KGATE_INCONCLUSIVE() << "no pod was added during the load: nothing to judge (see "
                            "hpa.Scaling.ScaleUp)";
  if (!all_ready) end = x.t_load_end;
  const double from = x.t_first_decision.value_or(x.t_load0);
  const auto w = e.window(from, end);
  property("window", fmt::format("{:.1f} s .. {:.1f} s: {:.0f} pod(s) added", from, end, added));
  measure("requests", static_cast<double>(w.requests), "requests");
  measure("failed", static_cast<double>(w.failed), "requests");
  measure("error_rate", w.error_rate, "%");
  if (w.requests == 0) KGATE_INCONCLUSIVE() << "no request was sent while pods were added";
  KGATE_EXPECT(w.error_rate <= e.cfg().max_error_rate)
      << w.failed << " of " << w.requests << " requests failed ("
      << fmt::format("{:.2f}", w.error_rate)
      << " %) while pods were added, over suites.hpa.max_error_rate " << e.cfg().max_error_rate
      << " %";
}

}  // namespace kgate::hpa
