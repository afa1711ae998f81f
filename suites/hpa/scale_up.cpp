// Check 1: under the load ramp the HPA takes the backend from minReplicas to at least the
// target count of Ready pods within a budget computed from its behavior and the controller's
// settings; when it does not, the measurements say why.
#include <fmt/format.h>

#include "env.hpp"

namespace kgate::hpa {

KGATE_CHECK(HpaCheck, ScaleUp,
            {.title = "Under a load ramp the HPA scales the backend from minReplicas to at least "
                      "the target count of Ready pods within budget",
             .severity = Severity::High,
             .tags = {"kubernetes", "autoscaling"},
             .needs = kDisruptive | kNeedsCluster,
             .depends_on = {"hpa.Preflight.Ready"},
             .figures = {{"time_to_first_scale", "s"},
                         {"time_to_target", "s"},
                         {"peak_cpu", "%"},
                         {"scale_up_budget", "s"}}}) {
  require_preflight();
  auto& e = env();
  const Budget budget = e.scale_up_budget();
  const auto& x = e.scale_up();
  require_not_interrupted();
  property("load", x.load);
  property("target", fmt::format("{} -> at least {} Ready replicas (maxReplicas {})",
                                 e.min_replicas(), e.target_replicas(), e.max_replicas()));
  property("scale_up_budget", budget.why);
  measure("scale_up_budget", budget.seconds, "s");
  if (x.t_first_decision) measure("time_to_first_scale", *x.t_first_decision - x.t_load0, "s");
  double peak = 0;
  for (const auto& s : e.samples(x.t_load0)) {
    if (s.hpa_cpu) peak = std::max(peak, *s.hpa_cpu);
    if (s.avg_cpu) peak = std::max(peak, *s.avg_cpu);
  }
  measure("peak_cpu", peak, "%");
  const double now = c().now();
  for (auto& ch : e.charts(std::max(0.0, x.t_load0 - 5), now)) c().chart(std::move(ch));
  for (auto& ev : e.timeline().between(x.t_load0 - 5, now))
    c().event_at(ev.t, ev.kind, ev.object, ev.message);
  if (x.t_target) {
    measure("time_to_target", *x.t_target - x.t_load0, "s");
    KGATE_EXPECT(*x.t_target - x.t_load0 <= budget.seconds)
        << e.target_replicas() << " Ready replicas after " << secs(*x.t_target - x.t_load0)
        << ", over the budget of " << secs(budget.seconds) << " (" << budget.why << ")";
  } else {
    KGATE_EXPECT(false) << "the backend did not reach " << e.target_replicas()
                        << " Ready replicas within " << secs(budget.seconds) << ": "
                        << e.explain_no_scale_up();
  }
}

}  // namespace kgate::hpa
