// Smoke: the whole task flow for a fresh identity, step by step; each failure names its step.
#include "kgate/check.hpp"
#include "kgate/identity.hpp"

namespace kgate {
namespace {

using nlohmann::json;

class SmokeTasks : public Check {
 public:
  static constexpr GroupInfo group{"smoke", "Tasks"};
  using Check::Check;

 protected:
  // A minted identity is a user the app has never seen. Apps whose tasks reference a users
  // table (a foreign key) fail such a create with a 500: say so, and how to sign identities up.
  std::string unknown_user_hint(int status) const {
    const auto& auth = config().auth;
    if (status < 500 || auth.mode != "mint" || auth.mint.sign_up != "none") return "";
    return " (kgate minted this identity, a user the app has never seen: if its tasks reference "
           "a users table by foreign key, the create fails this way; set auth.mint.sign_up: "
           "login or better-auth so that kgate signs each identity up first)";
  }
};

std::string statuses(const std::vector<int>& v) {
  std::string out;
  for (int s : v) out += (out.empty() ? "" : " or ") + std::to_string(s);
  return out;
}

bool list_has(const json& list, const std::string& id, const ProfileConfig& p) {
  for (const auto& t : list)
    if (task_id_of(t, p) == id) return true;
  return false;
}

KGATE_CHECK(SmokeTasks, FullTaskFlow,
            {.title = "Create, list, get, update, complete and delete a task",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  auto a = api(alice);
  const auto& p = config().profile;
  const std::string title_text = "kgate smoke " + random_hex(4);

  // create
  auto r = a.create({{"title", title_text}, {"description", "created by kgate's smoke suite"}});
  KGATE_REQUIRE(status_in(r.status, p.create_status))
      << "step 'create': POST " << a.tasks_url() << " answered " << r.status << ", expected "
      << statuses(p.create_status) << ": " << excerpt(r.body) << unknown_user_hint(r.status);
  auto created = parse_json(r.body);
  KGATE_REQUIRE(created && created->is_object())
      << "step 'create': the answer is not a JSON task: " << excerpt(r.body);
  auto id_opt = task_id_of(*created, p);
  KGATE_REQUIRE(id_opt) << "step 'create': the created task has no id in the format '"
                        << p.task_id_format << "' (profile.task_id_format): " << excerpt(r.body);
  const std::string id = *id_opt;
  KGATE_EXPECT(created->value("title", "") == title_text)
      << "step 'create': the task's title is '" << created->value("title", "") << "', sent '"
      << title_text << "'";
  const auto done_at_start = completed_of(*created, p);
  KGATE_EXPECT(done_at_start.has_value())
      << "step 'create': the created task has no " << completion_field_name(p)
      << ", so kgate cannot tell whether it is done (profile.completion): " << excerpt(r.body);
  KGATE_EXPECT(!done_at_start.value_or(false))
      << "step 'create': a new task must not be completed: " << excerpt(r.body);

  // list
  r = a.list();
  KGATE_REQUIRE(r.status == 200) << "step 'list': GET " << a.tasks_url() << " answered " << r.status
                                 << ": " << excerpt(r.body);
  auto body = parse_json(r.body);
  auto list = body ? task_list_of(*body, p) : std::nullopt;
  KGATE_REQUIRE(list) << "step 'list': the answer is not a list of tasks"
                      << (p.list_field.empty() ? "" : " under '" + p.list_field + "'") << ": "
                      << excerpt(r.body);
  KGATE_REQUIRE(list_has(*list, id, p))
      << "step 'list': task " << id << " just created is not in the list";

  // get
  r = a.get(id);
  KGATE_REQUIRE(r.status == 200) << "step 'get': GET " << a.task_url(id) << " answered " << r.status
                                 << ": " << excerpt(r.body);
  auto got = parse_json(r.body);
  KGATE_REQUIRE(got && task_id_of(*got, p) == id)
      << "step 'get': answered another task: " << excerpt(r.body);

  // update
  const std::string new_title = title_text + " (updated)";
  json update{{"title", new_title}, {"description", "updated by kgate"}};
  update.update(completion_fields(false, p));
  r = a.update(id, update);
  KGATE_REQUIRE(r.status == 200) << "step 'update': " << p.update_method << " " << a.task_url(id)
                                 << " answered " << r.status << ": " << excerpt(r.body);
  r = a.get(id);
  got = parse_json(r.body);
  KGATE_REQUIRE(got && got->value("title", "") == new_title)
      << "step 'update': after the update the task's title is '"
      << (got ? got->value("title", "") : "") << "', expected '" << new_title << "'";

  // complete: the contract toggles (on, then off); apps that set completion are called twice and
  // must stay done (profile.complete_toggles).
  const std::vector<bool> expected_states =
      p.toggles() ? std::vector<bool>{true, false} : std::vector<bool>{true, true};
  for (bool expected : expected_states) {
    r = a.toggle(id);
    KGATE_REQUIRE(r.status == 200)
        << "step 'complete': " << p.complete_method << " " << a.complete_url(id) << " answered "
        << r.status << ": " << excerpt(r.body);
    auto t = parse_json(r.body);
    const auto answered = t ? completed_of(*t, p) : std::nullopt;
    KGATE_REQUIRE(answered.has_value()) << "step 'complete': the answer has no "
                                        << completion_field_name(p) << ": " << excerpt(r.body);
    KGATE_REQUIRE(*answered == expected)
        << "step 'complete': " << (p.toggles() ? "toggling" : "completing")
        << " should leave the task " << (expected ? "done" : "not done")
        << " but the answer says otherwise: " << excerpt(r.body);
    r = a.get(id);
    got = parse_json(r.body);
    const auto stored = got ? completed_of(*got, p) : std::nullopt;
    KGATE_REQUIRE(stored == expected)
        << "step 'complete': the stored task is "
        << (stored ? (*stored ? "done" : "not done") : "silent about completion") << " after "
        << (p.toggles() ? "the toggle" : "completing it") << ": " << excerpt(r.body);
  }

  // delete
  r = a.remove(id);
  KGATE_REQUIRE(status_in(r.status, p.delete_status))
      << "step 'delete': DELETE " << a.task_url(id) << " answered " << r.status << ", expected "
      << statuses(p.delete_status) << ": " << excerpt(r.body);
  r = a.get(id);
  KGATE_REQUIRE(r.status == 404) << "step 'delete': GET after DELETE answered " << r.status
                                 << ", expected 404: the task was not deleted";
}

}  // namespace
}  // namespace kgate
