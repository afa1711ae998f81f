#pragma once
// The coordinator of a distributed load run: creates the Indexed Job of workers, starts them at
// one instant once all are Ready, shows their aggregate progress, collects their reports from
// their logs, merges them exactly, and deletes the Job (foreground propagation: the Job goes
// only after its pods) at the end, on Ctrl-C and on failure.
//
// The API calls it makes, hence the RBAC it needs in the namespace: create/get/delete jobs
// (batch), get/list pods, get pods/log, create/get/patch/delete secrets (only with a run Secret,
// DistOptions::run_secret), create/get pods/proxy (the start signal and the clock
// reach the workers through the API server's pod proxy, so workers need no credentials).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kgate/distributed/job.hpp"
#include "kgate/distributed/plan.hpp"
#include "kgate/kube/client.hpp"
#include "kgate/load/engine.hpp"

namespace kgate::dist {

// One worker, as the run ends.
struct WorkerRow {
  int index = 0;
  std::string pod, node;
  // completed | stopped (Ctrl-C: stopped by the coordinator) | failed | evicted | terminated |
  // never started | no result
  std::string state;
  std::string reason;          // why, in the pod's words: "exit 137 (SIGKILL)", "ErrImagePull: ..."
  bool merged = false;         // its measurements are in the merged figures
  std::uint64_t expected = 0;  // open model: its share of the schedule's iterations
  int vus = 0;                 // closed model: its share of the VUs at the peak
  int peak_connections = 0;    // the most connections it had open at once
  std::uint64_t requests = 0, completed = 0, failed = 0, dropped = 0;
  double duration_s = 0, achieved_rps = 0;
  std::optional<double> start_lag_ms;  // behind the start instant, on its node's clock
  // Its clock minus the coordinator's, estimated through the API (± half the round trip).
  std::optional<double> clock_offset_ms, clock_uncertainty_ms;
  double last_progress_s = -1;  // its last progress report (s after the start); -1: none
  // Every latency it recorded (µs), only when the plan asked for samples (tests).
  std::vector<std::uint64_t> latency_samples;
  // What its scenario reported after its run (todo-mix: the operations it sent, what it left).
  nlohmann::json scenario = nlohmann::json::object();
};

struct DistResult {
  std::string job, namespace_, run_id;
  int workers = 0, started = 0;
  std::uint64_t scheduled = 0;        // open model: iterations in the whole schedule
  load::LoadResult merged;            // every report merged exactly (histograms bucket by bucket)
  std::vector<WorkerRow> rows;        // by index
  bool partial = false;               // some worker's share is missing or cut short
  std::vector<std::string> problems;  // one line per such worker: pod and reason
  bool interrupted = false;           // stopped by Ctrl-C (or the check's stop)
  std::int64_t start_unix_ns = 0;     // the barrier instant (the workers' clocks)
  double max_start_lag_ms = 0;
  std::optional<double> clock_spread_ms;  // largest minus smallest estimated offset
  bool cleaned_up = false;
  std::string cleanup;  // what was deleted, or what is left and why
  // Setup that went wrong without stopping the run (the Secret's owner reference), for the
  // report.
  std::vector<std::string> setup_notes;
};

// What the live line shows.
struct LiveStatus {
  std::string phase;  // starting | running | collecting | cleaning up
  int workers = 0, ready = 0, running = 0, finished = 0;
  double elapsed_s = 0, total_s = 0;
  std::uint64_t requests = 0, failed = 0, dropped = 0;
  double rps = 0;    // between the last two progress rounds
  std::string note;  // e.g. the first pod still waiting, and why
};

// Nothing could run: the Job was refused, or no worker became ready, or none took the signal.
// what() names the pods and their reasons. The Job is deleted before this is thrown.
class DistError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A fresh run id: 10 lowercase hex digits (a DNS label part).
std::string new_run_id();

// Runs `plan` on plan.workers pods. `stop` is polled (Ctrl-C): the workers are told to stop,
// their reports so far are collected, and the result is marked interrupted. Throws DistError
// (above) and kube::ApiError when the Job cannot be created.
DistResult run_distributed(kube::Client& client, const DistOptions& options, const WorkerPlan& plan,
                           const std::function<bool()>& stop,
                           const std::function<void(const LiveStatus&)>& live = {});

// "exit 137 (SIGKILL)", "ErrImagePull: ...", "evicted (EvictionByEvictionAPI: ...)": what a
// worker pod's status says went wrong, or "" when nothing did.
std::string pod_problem(const nlohmann::json& pod);

}  // namespace kgate::dist
