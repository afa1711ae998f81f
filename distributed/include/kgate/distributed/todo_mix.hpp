#pragma once
// The todo mix on workers. The coordinator obtains the identities (minted or logged in, as the
// local mix does) and splits them so that no two workers share one: worker w of N gets the
// identities i ≡ w (mod N). Each worker's mix then only ever touches its own identities' tasks,
// so its bookkeeping (which task ids exist, which were deleted) is complete and its toggles and
// deletes never race another worker's. The tokens travel in the run's Secret (kIdentitiesEnv,
// through a secretKeyRef), never in the plan; everything else the mix needs (paths, weights, the
// run's title prefix) travels in the plan's scenario_options.
#include <cstddef>
#include <string>
#include <vector>

#include "kgate/distributed/job.hpp"
#include "kgate/distributed/plan.hpp"
#include "kgate/load/todo_mix.hpp"

namespace kgate::dist {

// The Secret key and environment variable that carry the identities to the workers.
inline constexpr const char* kIdentitiesEnv = "KGATE_LOAD_IDENTITIES";

// Worker w's identities (indexes into the whole list): i ≡ w (mod workers). Each identity goes
// to exactly one worker and every worker gets at least one. Throws std::invalid_argument when
// there are fewer identities than workers.
std::vector<std::vector<std::size_t>> split_identities(std::size_t identities, int workers);

// Makes `plan` a todo-mix plan for `mix`: its settings (identities aside) into
// plan.scenario_options, its identities, split by worker, into options.run_secret. Throws
// std::invalid_argument when there are fewer identities than plan.workers.
void put_todo_mix(const load::TodoMixOptions& mix, WorkerPlan& plan, DistOptions& options);

// Worker `index`'s mix: the plan's settings with its own identities from the Secret's value
// (`identities_json`, what $KGATE_LOAD_IDENTITIES holds). Throws std::invalid_argument naming
// what is missing or belongs to another run.
load::TodoMixOptions worker_todo_mix(const WorkerPlan& plan, int index,
                                     const std::string& identities_json);

}  // namespace kgate::dist
