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
      << statuses(p.create_status) << ": " << excerpt(r.body);
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
  KGATE_EXPECT(created->value("completed", true) == false)
      << "step 'create': a new task must not be completed";

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
  r = a.update(id,
               {{"title", new_title}, {"description", "updated by kgate"}, {"completed", false}});
  KGATE_REQUIRE(r.status == 200) << "step 'update': " << p.update_method << " " << a.task_url(id)
                                 << " answered " << r.status << ": " << excerpt(r.body);
  r = a.get(id);
  got = parse_json(r.body);
  KGATE_REQUIRE(got && got->value("title", "") == new_title)
      << "step 'update': after the update the task's title is '"
      << (got ? got->value("title", "") : "") << "', expected '" << new_title << "'";

  // complete (toggle on, then off)
  for (bool expected : {true, false}) {
    r = a.toggle(id);
    KGATE_REQUIRE(r.status == 200)
        << "step 'complete': " << p.complete_method << " " << a.complete_url(id) << " answered "
        << r.status << ": " << excerpt(r.body);
    auto t = parse_json(r.body);
    KGATE_REQUIRE(t && t->contains("completed") && (*t)["completed"].is_boolean())
        << "step 'complete': the answer has no boolean 'completed': " << excerpt(r.body);
    KGATE_REQUIRE((*t)["completed"].get<bool>() == expected)
        << "step 'complete': toggling should make completed=" << (expected ? "true" : "false")
        << " but the answer says " << (*t)["completed"].dump();
    r = a.get(id);
    got = parse_json(r.body);
    KGATE_REQUIRE(got && got->value("completed", !expected) == expected)
        << "step 'complete': the stored task still says completed="
        << (got ? (*got)["completed"].dump() : "?") << " after the toggle";
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
