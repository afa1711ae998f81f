#include "kgate/distributed_load.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>

#include "kgate/check_context.hpp"
#include "kgate/distributed/todo_mix.hpp"
#include "kgate/distributed/worker.hpp"
#include "kgate/gate.hpp"
#include "kgate/kube/config.hpp"
#include "kgate/load/todo_mix.hpp"
#include "kgate/redact.hpp"

namespace kgate {

using nlohmann::json;

dist::DistOptions dist_options(const DistributedLoadConfig& d, const std::string& namespace_) {
  dist::DistOptions o;
  o.namespace_ = namespace_;
  o.image = d.image;
  o.image_pull_policy = d.image_pull_policy;
  o.requests = d.requests;
  o.limits = d.limits;
  o.start_timeout = d.start_timeout;
  o.start_lead = d.start_lead;
  o.allow_partial = d.allow_partial;
  return o;
}

namespace {

std::string fixed(double v, int digits) {
  return fmt::format("{:.{}f}", v, digits);
}

}  // namespace

Table workers_table(const dist::DistResult& r) {
  Table t;
  t.title = "Workers (" + std::to_string(r.started) + " of " + std::to_string(r.workers) +
            " started; Job " + r.job + ")";
  t.columns = {"worker", "pod",     "state",     "requests",     "expected", "rps",
               "errors", "dropped", "start lag", "clock offset", "reason"};
  for (const auto& w : r.rows)
    t.rows.push_back({std::to_string(w.index), w.pod.empty() ? "-" : w.pod, w.state,
                      std::to_string(w.requests), w.expected ? std::to_string(w.expected) : "-",
                      w.merged ? fixed(w.achieved_rps, 1) : "-", std::to_string(w.failed),
                      std::to_string(w.dropped),
                      w.start_lag_ms ? fixed(*w.start_lag_ms, 2) + " ms" : "-",
                      w.clock_offset_ms ? fixed(*w.clock_offset_ms, 1) + " ± " +
                                              fixed(w.clock_uncertainty_ms.value_or(0), 1) + " ms"
                                        : "-",
                      w.reason.empty() ? "" : w.reason});
  return t;
}

std::string workers_text(const dist::DistResult& r) {
  const Table t = workers_table(r);
  std::vector<std::size_t> width(t.columns.size() - 1, 0);  // the reason goes last, unpadded
  auto widen = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  widen(t.columns);
  for (const auto& row : t.rows) widen(row);
  std::string out = t.title + "\n";
  auto line = [&](const std::vector<std::string>& row) {
    std::string l = " ";
    for (std::size_t i = 0; i < width.size(); ++i)
      l += " " + row[i] + std::string(width[i] - row[i].size(), ' ');
    l += " " + row.back();
    while (!l.empty() && l.back() == ' ') l.pop_back();
    return l + "\n";
  };
  out += line(t.columns);
  for (const auto& row : t.rows) out += line(row);
  return out;
}

json distributed_json(const dist::DistResult& r) {
  json rows = json::array();
  for (const auto& w : r.rows) {
    json row = {{"index", w.index},
                {"pod", w.pod},
                {"node", w.node},
                {"state", w.state},
                {"reason", redact(w.reason)},
                {"merged", w.merged},
                {"expected", w.expected},
                {"vus", w.vus},
                {"peak_connections", w.peak_connections},
                {"requests", w.requests},
                {"completed", w.completed},
                {"failed", w.failed},
                {"dropped", w.dropped},
                {"duration_s", w.duration_s},
                {"achieved_rps", w.achieved_rps},
                {"start_lag_ms", w.start_lag_ms ? json(*w.start_lag_ms) : json()},
                {"clock_offset_ms", w.clock_offset_ms ? json(*w.clock_offset_ms) : json()}};
    if (!w.latency_samples.empty()) row["latency_samples_us"] = w.latency_samples;
    rows.push_back(std::move(row));
  }
  json problems = json::array();
  for (const auto& p : r.problems) problems.push_back(redact(p));
  return {{"job", r.job},
          {"namespace", r.namespace_},
          {"run", r.run_id},
          {"workers", r.workers},
          {"started", r.started},
          {"scheduled", r.scheduled},
          {"partial", r.partial},
          {"problems", problems},
          {"interrupted", r.interrupted},
          {"start_unix_ns", r.start_unix_ns},
          {"max_start_lag_ms", r.max_start_lag_ms},
          {"clock_spread_ms", r.clock_spread_ms ? json(*r.clock_spread_ms) : json()},
          {"cleaned_up", r.cleaned_up},
          {"cleanup", redact(r.cleanup)},
          {"rows", rows}};
}

CLI::App* add_load_worker_command(CLI::App& app) {
  auto* c = app.add_subcommand(
      "load-worker",
      "A worker of a distributed load run (in a pod kgate created: reads $KGATE_LOAD_PLAN and "
      "$JOB_COMPLETION_INDEX)");
  c->group("");  // not for people: `kgate load --workers N` starts these
  return c;
}

int cmd_load_worker() {
  const char* plan_text = std::getenv("KGATE_LOAD_PLAN");
  const char* index_text = std::getenv("JOB_COMPLETION_INDEX");
  if (!plan_text || !*plan_text || !index_text || !*index_text) {
    std::cerr << "kgate load-worker: KGATE_LOAD_PLAN and JOB_COMPLETION_INDEX must be set: this "
                 "command runs in the pods `kgate load --workers N` creates"
              << std::endl;
    return kExitUsage;
  }
  dist::WorkerPlan plan;
  int index = -1;
  try {
    plan = dist::plan_from_json(json::parse(plan_text));
    index = std::stoi(index_text);
    if (index < 0 || index >= plan.workers)
      throw std::invalid_argument("JOB_COMPLETION_INDEX " + std::string(index_text) +
                                  " is not in [0, " + std::to_string(plan.workers) + ")");
  } catch (const std::exception& e) {
    std::cerr << "kgate load-worker: " << redact(e.what()) << std::endl;
    return kExitUsage;
  }
  static std::mutex out_mutex;
  dist::WorkerHooks hooks;
  hooks.interrupted = [] { return interrupted(); };
  hooks.out = [](const std::string& text) {
    std::lock_guard lock(out_mutex);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  };

  // The todo mix: this worker's own identities from the run's Secret (the coordinator obtained
  // them; the signing secret never reaches the pods), the rest of the mix from the plan.
  std::unique_ptr<load::TodoMix> mix;
  if (plan.scenario == "todo-mix") {
    try {
      const char* ids = std::getenv(dist::kIdentitiesEnv);
      if (!ids || !*ids)
        throw std::invalid_argument(std::string("$") + dist::kIdentitiesEnv +
                                    " is not set (the run's Secret did not reach the pod)");
      auto m = dist::worker_todo_mix(plan, index, ids);
      for (const auto& id : m.identities) register_secret(id.token);
      m.title_prefix += "-w" + std::to_string(index);  // still under the run's prefix
      mix = std::make_unique<load::TodoMix>(std::move(m));
    } catch (const std::exception& e) {
      hooks.out(redact("kgate load worker " + std::to_string(index) + ": " + e.what()) + "\n");
      return dist::kWorkerSetupFailed;
    }
    hooks.scenario = mix.get();
    hooks.after_run = [&mix] {
      json ops = json::object();
      for (const auto& [name, n] : mix->counts()) ops[name] = n;
      // What it created and did not delete: the coordinator's sweep removes it.
      return json{{"operations", ops}, {"tasks_left", mix->remaining().size()}};
    };
  }
  try {
    return dist::run_worker(plan, index, hooks);
  } catch (const std::exception& e) {
    hooks.out(redact("kgate load worker " + std::to_string(index) + ": " + e.what()) + "\n");
    return dist::kWorkerSetupFailed;
  }
}

}  // namespace kgate
