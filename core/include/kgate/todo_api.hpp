#pragma once
// The todo app's API as the profile spells it: URLs, calls and parsing, for one identity on one
// base URL (backend, frontend or ingress). Tasks it creates are deleted after the check.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kgate/check_context.hpp"

namespace kgate {

namespace load {
class TodoMix;
struct TodoMixOptions;
}  // namespace load

class TodoApi {
 public:
  TodoApi(CheckContext& c, std::string base_url, Identity who);

  std::string tasks_url(const std::string& query = "") const;
  std::string task_url(const std::string& id) const;
  std::string complete_url(const std::string& id) const;
  std::string chat_url() const;

  http::Response list(const std::string& query = "");
  http::Response create(const nlohmann::json& task);  // registers cleanup when it succeeds
  http::Response get(const std::string& id);
  http::Response update(const std::string& id, const nlohmann::json& task);
  http::Response remove(const std::string& id);
  http::Response toggle(const std::string& id);
  http::Response chat(const nlohmann::json& message);

  // Deletes id after the check (used for tasks created indirectly, e.g. by chat); a refused
  // delete is reported as left behind, naming the task.
  void delete_after_check(const std::string& id, const std::string& title = "");

  const Identity& who() const { return who_; }
  const ProfileConfig& profile() const { return c_.config().profile; }

 private:
  std::string expand(const std::string& pattern, const std::string& id) const;
  CheckContext& c_;
  std::string base_;
  Identity who_;
};

// The todo mix as the profile spells the contract, on `base_url`, as `identities`, with a fresh
// title prefix (weights stay at their defaults).
load::TodoMixOptions todo_mix_options(const ProfileConfig& profile, const std::string& base_url,
                                      const std::vector<Identity>& identities);

// Deletes every task a todo-mix load created as `identities`: the ids it knows, and any task
// titled with its prefix (a create whose answer was lost). Deletes are deferred to the end of
// the current check (CheckContext::run_cleanups). Returns how many tasks each identity had left.
std::vector<std::size_t> clean_up_todo_mix(CheckContext& c, const std::string& base_url,
                                           const std::vector<Identity>& identities,
                                           const load::TodoMix& mix);

// At the end of a suite fixture whose load ran the todo mix: clean_up_todo_mix outside any check
// (after Ctrl-C too: every call keeps its timeout), recorded in the suite's result as
// `label` = "N tasks deleted", and each task that could not be deleted as "left behind".
void clean_up_todo_mix_for_suite(RunContext& run, const std::string& base_url,
                                 const std::vector<Identity>& identities, const load::TodoMix& mix,
                                 SuiteResult& out, const std::string& label);

// Parsing helpers that explain what was wrong, for assertion messages.
std::optional<nlohmann::json> parse_json(const std::string& body);
// The task id as a string ("42" or a UUID); nullopt when absent or not in the profile's format.
std::optional<std::string> task_id_of(const nlohmann::json& task, const ProfileConfig& p);
// The task array of a list answer (bare array or under profile.list_field).
std::optional<nlohmann::json> task_list_of(const nlohmann::json& body, const ProfileConfig& p);
// Is the task done, as the profile models completion (a boolean field, or a status)? nullopt
// when the task does not say: a missing field is not a value.
std::optional<bool> completed_of(const nlohmann::json& task, const ProfileConfig& p);
// The fields that set completion to `done`, as the profile spells them.
nlohmann::json completion_fields(bool done, const ProfileConfig& p);
// "'completed' (profile.completed_field)" or "'status' (profile.status_field)", for messages.
std::string completion_field_name(const ProfileConfig& p);
bool status_in(int status, const std::vector<int>& allowed);
std::string excerpt(const std::string& body, std::size_t max = 300);

}  // namespace kgate
