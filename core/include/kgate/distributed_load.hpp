#pragma once
// kgate's side of distributed load (docs/distributed-load.md): from the configuration (the
// `kubernetes:` section, suites.load.workers and suites.load.distributed) and the command line
// to a worker plan, a cluster client and the coordinator's options; the `kgate load-worker`
// command the worker pods run; and the per-worker table the reports and the console show.
#include <memory>
#include <string>
#include <vector>

#include "kgate/cluster_client.hpp"
#include "kgate/config.hpp"
#include "kgate/distributed/coordinator.hpp"
#include "kgate/distributed/plan.hpp"
#include "kgate/result.hpp"

namespace CLI {
class App;
}

namespace kgate {

// The coordinator's options from suites.load.distributed.
dist::DistOptions dist_options(const DistributedLoadConfig& d, const std::string& namespace_);

// A worker's table: index, pod, state, requests (of expected), rps, errors, dropped, start lag,
// clock offset; and the reason of each worker that fell short.
Table workers_table(const dist::DistResult& r);
std::string workers_text(const dist::DistResult& r);
// The run's distributed part for the results JSON: Job, workers, partial and why, start lag,
// cleanup, one object per worker (with its samples when the plan asked for them).
nlohmann::json distributed_json(const dist::DistResult& r);

// `kgate load-worker` (hidden): what the pods of a distributed run execute. Reads the plan from
// $KGATE_LOAD_PLAN and its index from $JOB_COMPLETION_INDEX.
CLI::App* add_load_worker_command(CLI::App& app);
int cmd_load_worker();

}  // namespace kgate
