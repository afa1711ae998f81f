// Check 4: the backend never runs more than maxReplicas, and when the HPA wanted more than
// that (ScalingLimited) the run says so. Also the scaling's shape: time to the peak, overshoot
// and each added pod's created -> Ready.
#include <algorithm>

#include <fmt/format.h>

#include "env.hpp"

namespace kgate::hpa {

KGATE_CHECK(HpaCheck, MaxReplicas,
            {.title = "The backend never exceeds maxReplicas; hitting it (ScalingLimited) is "
                      "reported",
             .severity = Severity::Medium,
             .tags = {"kubernetes", "autoscaling"},
             .needs = kDisruptive | kNeedsCluster,
             .depends_on = {"hpa.Preflight.Ready"},
             .figures = {{"peak_replicas", "replicas"},
                         {"time_to_max", "s"},
                         {"overshoot", "replicas"},
                         {"pod_ready_max", "s"},
                         {"pods_never_ready", "pods"}}}) {
  require_preflight();
  auto& e = env();
  const auto& x = e.hold();
  require_not_interrupted();
  int peak = 0, peak_live = 0, wanted = 0, end_desired = -1;
  std::string limited;
  double limited_at = -1;
  for (const auto& s : e.samples(x.t_load0, x.t_load_end)) {
    peak = std::max({peak, s.spec_replicas, s.hpa_current});
    peak_live = std::max(peak_live, s.live);
    wanted = std::max(wanted, s.wanted);
    if (s.hpa_desired >= 0) end_desired = s.hpa_desired;
    if (!s.limited.empty() && limited.empty()) {
      limited = s.limited;
      limited_at = s.t;
    }
  }
  // Pods that lived between two samples count too: the most live at once, from the watch.
  std::vector<std::pair<double, int>> edges;
  for (const auto& p : e.pods(true)) {
    const double from = std::max(p.first_seen, x.t_load0);
    double to = x.t_load_end;
    if (p.terminating_at) to = std::min(to, *p.terminating_at);
    if (p.deleted_at) to = std::min(to, *p.deleted_at);
    if (to <= from) continue;
    edges.push_back({from, 1});
    edges.push_back({to, -1});
  }
  std::sort(edges.begin(), edges.end());  // an end before a start at the same instant
  int at_once = 0;
  for (const auto& [t, d] : edges) peak_live = std::max(peak_live, at_once += d);
  measure("peak_replicas", std::max(peak, peak_live), "replicas");
  // Overshoot: the peak above what the HPA settled on at the end of the load.
  if (end_desired >= 0) measure("overshoot", std::max(0, peak - end_desired), "replicas");
  // When the peak count was first Ready.
  std::vector<double> ready_times;
  Table t{
      "Pods added under load: created -> Ready", {"pod", "created (s)", "Ready (s)", "took"}, {}};
  double slowest = 0;
  int never_ready = 0;
  for (const auto& p : e.pods(true)) {
    if (p.first_seen < x.t_load0) continue;
    t.rows.push_back({p.name, fmt::format("{:.1f}", p.first_seen),
                      p.ready_at ? fmt::format("{:.1f}", *p.ready_at) : "never",
                      p.ready_at ? secs(*p.ready_at - p.first_seen) : "-"});
    if (p.ready_at) {
      ready_times.push_back(*p.ready_at);
      slowest = std::max(slowest, *p.ready_at - p.first_seen);
    } else {
      ++never_ready;
    }
  }
  if (!t.rows.empty()) {
    c().table(t);
    // The slowest of those that came Ready; the others are counted, not given a time.
    if (!ready_times.empty()) measure("pod_ready_max", slowest, "s");
    measure("pods_never_ready", never_ready, "pods");
  }
  std::sort(ready_times.begin(), ready_times.end());
  const int added_to_peak = peak - e.min_replicas();
  if (added_to_peak > 0 && static_cast<int>(ready_times.size()) >= added_to_peak)
    measure("time_to_max", ready_times[static_cast<std::size_t>(added_to_peak - 1)] - x.t_load0,
            "s");
  if (!limited.empty()) {
    property("ScalingLimited", fmt::format("at {:.1f} s: {}; the HPA's metric asked for {} "
                                           "(maxReplicas {})",
                                           limited_at, limited, wanted, e.max_replicas()));
    measure("wanted_replicas", wanted, "replicas");
  }
  KGATE_EXPECT(peak <= e.max_replicas() && peak_live <= e.max_replicas())
      << "the backend ran " << std::max(peak, peak_live) << " replicas, over maxReplicas "
      << e.max_replicas();
}

}  // namespace kgate::hpa
