// Check 3: once scaled, the backend serves the load within the latency threshold: p95 from the
// intended start (coordinated omission corrected) between the target being Ready and the
// load's end.
#include <fmt/format.h>

#include "env.hpp"

namespace kgate::hpa {

KGATE_CHECK(HpaCheck, LatencyScaled,
            {.title = "Once scaled, p95 latency under the load is within suites.hpa.p95",
             .severity = Severity::Medium,
             .tags = {"kubernetes", "autoscaling", "latency"},
             .needs = kDisruptive | kNeedsCluster,
             .depends_on = {"hpa.Preflight.Ready"},
             .figures = {{"p95", "ms"}, {"p99", "ms"}, {"achieved_rps", "req/s"}}}) {
  require_preflight();
  auto& e = env();
  const auto& x = e.hold();
  require_not_interrupted();
  if (!x.t_target)
    KGATE_INCONCLUSIVE() << "the backend never had " << e.target_replicas()
                         << " Ready replicas under load: no scaled window to measure";
  if (x.t_load_end - *x.t_target < 1)
    KGATE_INCONCLUSIVE() << "the load ended " << secs(x.t_load_end - *x.t_target)
                         << " after the target was reached: lengthen suites.hpa.hold or stages";
  const auto w = e.window(*x.t_target, x.t_load_end);
  const double limit = std::chrono::duration<double, std::milli>(e.cfg().p95).count();
  property("window", fmt::format("{:.1f} s .. {:.1f} s", *x.t_target, x.t_load_end));
  measure("p95", w.p95_ms, "ms");
  measure("p99", w.p99_ms, "ms");
  measure("achieved_rps", w.achieved_rps, "req/s");
  if (w.requests == 0) KGATE_INCONCLUSIVE() << "no request in the scaled window";
  KGATE_EXPECT(w.p95_ms <= limit) << fmt::format(
      "p95 {:.1f} ms once scaled (at {:.0f} req/s), over suites.hpa.p95 {:.0f} ms", w.p95_ms,
      w.achieved_rps, limit);
}

}  // namespace kgate::hpa
