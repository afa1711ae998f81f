#pragma once
// A worker of a distributed load run (`kgate load-worker`, in a pod of the run's Job): serves
// the start barrier, runs its share of the schedule from the instant the coordinator sets,
// reports progress every few seconds and its results at the end, all in its log.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "kgate/distributed/plan.hpp"
#include "kgate/load/engine.hpp"

namespace kgate::dist {

struct WorkerHooks {
  std::function<bool()> interrupted;  // SIGTERM: the pod is being deleted or evicted
  // Writes text to the log whole (a line, or a block): never interleaved with other output.
  std::function<void(const std::string&)> out;
  load::Scenario* scenario = nullptr;  // todo-mix; null: plan.request as given
  // After the run (the scenario's cleanup); what it returns goes into the report.
  std::function<nlohmann::json()> after_run;
  // Tests: what the start signal, the progress and the end look like without a cluster.
  int port_override = -1;
};

// Exit codes of a worker: its pod's status says them to the coordinator.
inline constexpr int kWorkerDone = 0;          // its share ran (or the coordinator stopped it)
inline constexpr int kWorkerUnreachable = 3;   // the target's host could not be resolved
inline constexpr int kWorkerNoStart = 4;       // no start signal within plan.barrier_timeout
inline constexpr int kWorkerSetupFailed = 5;   // its identities or its port could not be had
inline constexpr int kWorkerTerminated = 143;  // SIGTERM: results up to then were reported

// Runs worker `index` of `plan`. Throws std::invalid_argument for an index outside the plan and
// std::runtime_error when the barrier's port cannot be bound.
int run_worker(const WorkerPlan& plan, int index, const WorkerHooks& hooks);

}  // namespace kgate::dist
