// A rollout restart under live traffic (check 5): every pod replaced, no request lost.
#include <set>

#include "env.hpp"
#include "kgate/cluster/objects.hpp"

namespace kgate::resilience {

class ResilienceRollout : public ResilienceCheck {
 public:
  static constexpr GroupInfo group{"resilience", "Rollout"};
  using ResilienceCheck::ResilienceCheck;
};

KGATE_CHECK(ResilienceRollout, Restart,
            {.title = "A rollout restart of the backend replaces every pod without losing a "
                      "request",
             .reference = "kubernetes/kubernetes#43576",
             .tags = {"kubernetes"},
             .needs = kDisruptive | kNeedsCluster,
             .figures = window_figures("", {{"rollout", "s"}})}) {
  const auto& w = workload("backend");
  auto& d = disruptor();
  require_settled("backend");
  std::set<std::string> old;
  for (const auto& p : live_pods("backend")) old.insert(p.name);
  observe(baseline());
  const double t0 = c().now();
  d.restart(w.name);
  planned("then wait until every pod is replaced, measuring the live traffic, and roll back");
  c().progress("rollout restart of deployment/" + w.name);
  const auto budget = config().resilience.restart_budget;
  auto& watch = env().watch();
  const bool done = watch.wait_until(
      [&] {
        for (const auto& p : watch.pods("backend"))
          if (!p.deleted && old.count(p.name)) return false;  // an old pod still exists
        return wait_settled("backend", Millis(0));
      },
      budget, [this] { return c().stop_requested(); });
  measure("rollout", c().now() - t0, "s");
  observe(std::chrono::duration<double>(config().resilience.recovery).count());
  auto win = report("backend rollout restart", t0, c().now(), false,
                    {"pod/" + w.name, "deployment/" + w.name, "endpoints/", "replicaset/"});
  KGATE_EXPECT(done) << "the rollout restart did not replace every pod within "
                     << seconds_text(std::chrono::duration<double>(budget).count())
                     << " (suites.resilience.restart_budget): "
                     << cluster::deployment_status_text(watch.deployment("backend"));
  const auto allowed = static_cast<std::uint64_t>(config().resilience.restart_max_failed);
  KGATE_EXPECT(win.failed <= allowed)
      << win.failed << " of " << win.requests << " requests failed during the rollout restart ("
      << win.connect << " refused, " << win.broken << " reset, " << win.timeout << " timed out, "
      << win.status_5xx << " 5xx; allowed " << allowed
      << ", suites.resilience.restart_max_failed). Pods are dropping requests while "
      << "they are replaced (kubernetes issue 43576). The fix: on SIGTERM keep serving while "
      << "failing readiness until the endpoint is removed, add a preStop sleep of a few "
      << "seconds, and drain keep-alive connections (Connection: close) before exiting";
  // The undo puts the annotation back, a second rollout onto the original ReplicaSet.
  restore({"backend"});
}

}  // namespace kgate::resilience
