#pragma once
// What a worker reports, and how the coordinator puts the reports together.
//
// A worker writes its results to its log as a marked, digest-checked block (log_block, kind
// "load-worker"): the counters, both latency histograms serialized whole, and the per-interval
// series with each interval's histograms. Every few seconds it also writes a small progress
// block (kind "load-progress"). The coordinator reads them through the pods' log API.
//
// merge_results() is exact: histograms add bucket by bucket (the result is the histogram of
// every worker's samples together, so percentiles of the whole run are the ones a single
// machine would have measured, not an approximation), counters add, and the series add
// interval by interval (all workers started at one instant, so interval i is the same second
// everywhere).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kgate/load/engine.hpp"

namespace kgate::dist {

inline constexpr std::string_view kReportKind = "load-worker";
inline constexpr std::string_view kProgressKind = "load-progress";
inline constexpr std::string_view kSamplesKind = "load-samples";

struct WorkerReport {
  std::string run_id;
  int index = 0, workers = 0;
  std::int64_t barrier_unix_ns = 0;  // the start instant it was given
  double start_lag_s = 0;            // how late its engine was running, on its own clock
  std::uint64_t expected = 0;        // open model: iterations in its share of the schedule
  std::string stop_reason;           // "" when it ran its share to the end
  load::LoadResult result;           // its series carry each interval's histograms
  nlohmann::json scenario = nlohmann::json::object();  // todo-mix: operations, cleanup
};

nlohmann::json report_to_json(const WorkerReport& r);
// Throws std::invalid_argument naming what is missing or corrupt.
WorkerReport report_from_json(const nlohmann::json& j);

struct ProgressReport {
  std::string run_id;
  int index = 0;
  double t = 0;  // seconds since the start instant
  std::uint64_t requests = 0, failed = 0, dropped = 0;
};
nlohmann::json progress_to_json(const ProgressReport& p);
std::optional<ProgressReport> progress_from_json(const nlohmann::json& j);

// The last well-formed report (or progress) of run `run_id` from worker `index` in `log`.
std::optional<WorkerReport> find_report(std::string_view log, const std::string& run_id, int index,
                                        std::vector<std::string>* problems = nullptr);
std::optional<ProgressReport> find_progress(std::string_view log, const std::string& run_id,
                                            int index);

// The results of several runs of shares of one schedule, as if one machine had run it all.
// `executor` and `target` describe the whole run. Series intervals merge exactly when every
// part kept its interval histograms; otherwise an interval's percentiles are the highest of
// the parts' (an upper bound, never reported as exact) -- this never happens for workers.
load::LoadResult merge_results(const std::vector<const load::LoadResult*>& parts,
                               const std::string& executor, const std::string& target);

}  // namespace kgate::dist
