#include "kgate/distributed/todo_mix.hpp"

#include <stdexcept>

namespace kgate::dist {

using nlohmann::json;

std::vector<std::vector<std::size_t>> split_identities(std::size_t identities, int workers) {
  if (workers < 1) throw std::invalid_argument("workers must be at least 1");
  if (identities < static_cast<std::size_t>(workers))
    throw std::invalid_argument(
        std::to_string(identities) + " identities for " + std::to_string(workers) +
        " workers: each worker needs identities of its own (give at least as many identities "
        "as workers)");
  std::vector<std::vector<std::size_t>> out(static_cast<std::size_t>(workers));
  for (std::size_t i = 0; i < identities; ++i)
    out[i % static_cast<std::size_t>(workers)].push_back(i);
  return out;
}

void put_todo_mix(const load::TodoMixOptions& mix, WorkerPlan& plan, DistOptions& options) {
  const auto shares = split_identities(mix.identities.size(), plan.workers);
  plan.scenario = "todo-mix";
  plan.scenario_options = {{"base_url", mix.base_url},
                           {"tasks_path", mix.tasks_path},
                           {"task_path", mix.task_path},
                           {"complete_path", mix.complete_path},
                           {"complete_method", mix.complete_method},
                           {"weights",
                            {{"list", mix.list},
                             {"create", mix.create},
                             {"toggle", mix.toggle},
                             {"delete", mix.remove}}},
                           {"title_prefix", mix.title_prefix}};
  json by_worker = json::array();
  for (const auto& share : shares) {
    json ids = json::array();
    for (std::size_t i : share)
      ids.push_back({{"user_id", mix.identities[i].user_id}, {"token", mix.identities[i].token}});
    by_worker.push_back(std::move(ids));
  }
  options.run_secret[kIdentitiesEnv] = json{{"run", plan.run_id}, {"workers", by_worker}}.dump();
}

load::TodoMixOptions worker_todo_mix(const WorkerPlan& plan, int index,
                                     const std::string& identities_json) {
  const json& o = plan.scenario_options;
  if (!o.is_object() || !o.contains("base_url"))
    throw std::invalid_argument("plan.scenario_options has no todo mix (base_url is missing)");
  load::TodoMixOptions m;
  try {
    m.base_url = o.at("base_url").get<std::string>();
    m.tasks_path = o.value("tasks_path", m.tasks_path);
    m.task_path = o.value("task_path", m.task_path);
    m.complete_path = o.value("complete_path", m.complete_path);
    m.complete_method = o.value("complete_method", m.complete_method);
    m.title_prefix = o.value("title_prefix", m.title_prefix);
    const json w = o.value("weights", json::object());
    m.list = w.value("list", m.list);
    m.create = w.value("create", m.create);
    m.toggle = w.value("toggle", m.toggle);
    m.remove = w.value("delete", m.remove);
  } catch (const json::exception&) {
    throw std::invalid_argument("plan.scenario_options: a todo mix setting has the wrong type");
  }
  const json ids = json::parse(identities_json, nullptr, false);
  if (!ids.is_object() || !ids.contains("workers") || !ids["workers"].is_array())
    throw std::invalid_argument(std::string("$") + kIdentitiesEnv +
                                " is not the identities of a run (is the Secret missing?)");
  if (ids.value("run", "") != plan.run_id)
    throw std::invalid_argument(std::string("$") + kIdentitiesEnv + " belongs to another run");
  const json& all = ids["workers"];
  if (index < 0 || static_cast<std::size_t>(index) >= all.size() ||
      !all[static_cast<std::size_t>(index)].is_array() ||
      all[static_cast<std::size_t>(index)].empty())
    throw std::invalid_argument(std::string("$") + kIdentitiesEnv +
                                " has no identities for worker " + std::to_string(index));
  for (const auto& id : all[static_cast<std::size_t>(index)]) {
    if (!id.is_object() || !id.contains("token") || !id["token"].is_string() ||
        !id.contains("user_id") || !id["user_id"].is_string())
      throw std::invalid_argument(std::string("$") + kIdentitiesEnv + ": worker " +
                                  std::to_string(index) + "'s identities need user_id and token");
    m.identities.push_back({id["user_id"].get<std::string>(), id["token"].get<std::string>()});
  }
  return m;
}

}  // namespace kgate::dist
