// Eviction through the Eviction API (check 4): with a PodDisruptionBudget an eviction that
// would break it is refused (429), which is the budget working; a multi-replica Deployment
// with no budget is a warning-level finding (a node drain may take all its pods at once).
#include "env.hpp"
#include "kgate/cluster/objects.hpp"

namespace kgate::resilience {

class ResilienceEviction : public ResilienceCheck {
 public:
  static constexpr GroupInfo group{"resilience", "Eviction"};
  using ResilienceCheck::ResilienceCheck;
};

KGATE_CHECK(ResilienceEviction, Budget,
            {.title = "The backend has a PodDisruptionBudget, and the Eviction API honours it",
             .severity = Severity::Low,
             .reference = "kubernetes.io/docs/concepts/workloads/pods/disruptions",
             .tags = {"kubernetes"},
             .needs = kDisruptive | kNeedsCluster,
             .figures = window_figures("", {{"evicted", "pods"}})}) {
  const auto& w = workload("backend");
  auto& d = disruptor();
  require_settled("backend");
  const int replicas = static_cast<int>(live_pods("backend").size());
  property("pdbs", w.pdbs.empty() ? "none" : w.pdbs.front());
  if (w.pdbs.empty()) {
    KGATE_EXPECT(replicas <= 1)
        << "deployment/" << w.name << " runs " << replicas
        << " replicas and no PodDisruptionBudget covers its pods: a node drain may evict "
           "them all at once (add one, e.g. the chart's backend.pdb.enabled)";
    if (replicas <= 1) KGATE_SKIP() << "a single replica and no PodDisruptionBudget";
    return;
  }
  // Evict pods one after the other, without waiting: the budget must refuse before the
  // Deployment runs out of pods.
  observe(baseline());
  const double t0 = c().now();
  int evicted = 0;
  std::string refusal;
  for (const auto& p : live_pods("backend")) {
    if (!d.evict_pod(p.name, &refusal)) break;
    ++evicted;
  }
  planned("one after the other, stopping at the first the PodDisruptionBudget refuses");
  measure("evicted", evicted, "pods");
  const bool whole = wait_settled("backend", config().resilience.ready_budget);
  report("backend eviction", t0, c().now(), false, {"pod/" + w.name, "endpoints/"});
  KGATE_EXPECT(!refusal.empty()) << "every one of the " << evicted
                                 << " backend pods was evicted at once: "
                                 << "PodDisruptionBudget " << w.pdbs.front()
                                 << " did not refuse (429)";
  if (!refusal.empty()) property("refused", refusal);
  KGATE_EXPECT(whole) << "the backend was not whole again within the ready budget";
}

}  // namespace kgate::resilience
