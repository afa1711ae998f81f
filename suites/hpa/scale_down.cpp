// Check 5: after the load stops the HPA takes the backend back to minReplicas within a budget
// computed from the downscale stabilization window. Optional: suites.hpa.scale_down: false for
// pipelines that cannot wait the window.
#include <fmt/format.h>

#include "env.hpp"

namespace kgate::hpa {

KGATE_CHECK(HpaCheck, ScaleDown,
            {.title = "After the load stops the HPA scales the backend back to minReplicas "
                      "within budget",
             .severity = Severity::Medium,
             .tags = {"kubernetes", "autoscaling"},
             .needs = kDisruptive | kNeedsCluster,
             .depends_on = {"hpa.Preflight.Ready"},
             .figures = {{"time_to_scale_down", "s"}, {"scale_down_budget", "s"}}}) {
  if (!config().hpa.scale_down)
    KGATE_SKIP() << "suites.hpa.scale_down: false (the downscale stabilization window is not "
                    "waited for)";
  require_preflight();
  auto& e = env();
  const auto& before = e.hold();
  int peak = 0;
  for (const auto& s : e.samples(before.t_load0, before.t_load_end))
    peak = std::max(peak, s.spec_replicas);
  if (peak <= e.min_replicas())
    KGATE_INCONCLUSIVE() << "the backend never scaled above minReplicas " << e.min_replicas()
                         << " under the load: nothing to scale down";
  const Budget budget = e.scale_down_budget();
  property("scale_down_budget", budget.why);
  measure("scale_down_budget", budget.seconds, "s");
  const auto& x = e.scale_down();
  require_not_interrupted();
  const double now = c().now();
  for (auto& ev : e.timeline().between(x.t_load_end, now))
    c().event_at(ev.t, ev.kind, ev.object, ev.message);
  if (x.t_scaled_down) measure("time_to_scale_down", *x.t_scaled_down - x.t_load_end, "s");
  // What the autoscaler saw at the end, so that a miss says why: still wanting more (the CPU
  // did not fall: other traffic, a busy idle loop) or wanting fewer but slow to act.
  std::string last;
  if (const auto tail = e.samples(x.t_load_end, now); !tail.empty()) {
    const auto& s = tail.back();
    last = "; at the end the HPA wanted " + std::to_string(s.hpa_desired) + " with " +
           std::to_string(s.live) + " pods live" +
           (s.hpa_cpu ? ", CPU " + std::to_string(static_cast<int>(*s.hpa_cpu)) +
                            " % of request (target " +
                            std::to_string(static_cast<int>(e.target_cpu())) + " %)"
                      : ", no CPU figure from the HPA");
  }
  KGATE_EXPECT(x.t_scaled_down.has_value())
      << "the backend was not back to " << e.min_replicas() << " replicas " << secs(budget.seconds)
      << " after the load stopped (" << budget.why << ")" << last;
}

}  // namespace kgate::hpa
