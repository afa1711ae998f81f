// State that survives (check 6): tasks written before every backend pod is replaced are all
// readable, unchanged, by their owners afterwards, and a chat conversation resumes (an external
// database, not process memory).
#include <set>

#include "env.hpp"
#include "kgate/cluster/objects.hpp"
#include "kgate/todo_api.hpp"
#include "kgate/wait.hpp"

namespace kgate::resilience {

class ResilienceState : public ResilienceCheck {
 public:
  static constexpr GroupInfo group{"resilience", "State"};
  using ResilienceCheck::ResilienceCheck;
};

KGATE_CHECK(ResilienceState, Persists,
            {.title = "Tasks and a chat conversation written before every backend pod is "
                      "replaced are all there, unchanged, afterwards",
             .tags = {"kubernetes"},
             .needs = kDisruptive | kNeedsCluster | kNeedsTwoIdentities,
             .figures = {{"tasks_written", "tasks"},
                         {"tasks_missing", "tasks"},
                         {"tasks_changed", "tasks"}}}) {
  // conversations_lost is recorded only when the app has a chat (smoke.chat) with conversation
  // ids: not declared, so that a criterion on it is never "not measured" on an app without one.
  workload("backend");
  auto& d = disruptor();
  require_settled("backend");
  if (dry_run()) {
    for (const auto& p : live_pods("backend")) d.delete_pod(p.name);
    planned("after writing 6 tasks and a chat conversation, which are read back afterwards");
  }
  struct Written {
    std::string owner, id, title;
    bool done;
  };
  std::vector<Written> written;
  for (const char* who : {"alice", "bob"}) {
    auto a = api(c().identity(who));
    for (int i = 0; i < 3; ++i) {
      const std::string title = std::string("kgate-resilience ") + who + " " + std::to_string(i);
      // A 5xx created nothing; the API may still be warming up after the previous check.
      http::Response r;
      wait_until(
          [&](std::string*) {
            r = a.create({{"title", title}, {"description", "written before the disruption"}});
            return r.status < 500;
          },
          std::chrono::seconds(30), std::chrono::milliseconds(250));
      KGATE_REQUIRE(r.status == 200 || r.status == 201)
          << "creating a task as " << who << " answered " << r.status << ": " << excerpt(r.body);
      auto body = parse_json(r.body);
      auto id = body ? task_id_of(*body, config().profile) : std::nullopt;
      KGATE_REQUIRE(id) << "the created task has no id: " << excerpt(r.body);
      bool done = false;
      if (i == 1) {
        auto t = a.toggle(*id);
        KGATE_REQUIRE(t.status < 300) << "toggling answered " << t.status;
        done = true;
      }
      written.push_back({who, *id, title, done});
    }
  }
  // A chat conversation: the contract keeps it in the database ("a conversation resumes after
  // a restart"), so a follow-up after the replacement must continue it, not answer 404.
  std::optional<nlohmann::json> conversation;
  if (config().smoke.chat && config().profile.chat_conversation) {
    auto r = api(c().identity("alice")).chat({{"message", "Show me all my tasks"}});
    KGATE_REQUIRE(r.status == 200)
        << "a chat message before the disruption answered " << r.status << ": " << excerpt(r.body);
    auto body = parse_json(r.body);
    KGATE_REQUIRE(body && body->contains("conversation_id"))
        << "the chat answer has no conversation_id: " << excerpt(r.body);
    conversation = (*body)["conversation_id"];
  }
  // Replace every backend pod.
  std::set<std::string> old;
  const auto pods = live_pods("backend");
  for (const auto& p : pods) old.insert(p.name);
  for (const auto& p : pods) d.delete_pod(p.name);
  const bool replaced = env().watch().wait_until(
      [&] {
        for (const auto& p : env().watch().pods("backend"))
          if (!p.deleted && old.count(p.name)) return false;
        return wait_settled("backend", Millis(0));
      },
      config().resilience.ready_budget, [this] { return c().stop_requested(); });
  KGATE_REQUIRE(replaced) << "the backend pods were not all replaced within the ready budget";
  // Read back as each owner; an API still warming up is waited for (bounded), not a finding.
  std::size_t missing = 0, changed = 0;
  for (const auto& w : written) {
    auto a = api(c().identity(w.owner));
    http::Response r;
    wait_until(
        [&](std::string*) {
          r = a.get(w.id);
          return r.status < 500;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(250));
    if (r.status == 404) {
      ++missing;
      KGATE_EXPECT(false) << w.owner << "'s task \"" << w.title << "\" (" << w.id
                          << ") is gone after every backend pod was replaced: the state lives "
                          << "in the pods, not in the database";
      continue;
    }
    KGATE_EXPECT(r.status == 200) << "reading " << w.owner << "'s task answered " << r.status;
    auto body = parse_json(r.body);
    if (!body) continue;
    const bool same = body->value("title", "") == w.title &&
                      completed_of(*body, config().profile) == std::optional<bool>(w.done);
    if (!same) ++changed;
    KGATE_EXPECT(same) << w.owner << "'s task " << w.id << " changed: " << excerpt(r.body);
  }
  if (conversation) {
    http::Response r;
    wait_until(
        [&](std::string*) {
          r = api(c().identity("alice"))
                  .chat({{"conversation_id", *conversation}, {"message", "What's pending?"}});
          return r.status < 500;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(250));
    auto body = parse_json(r.body);
    const bool resumed = r.status == 200 && body &&
                         body->value("conversation_id", nlohmann::json()) == *conversation;
    measure("conversations_lost", resumed ? 0 : 1, "conversations");
    KGATE_EXPECT(resumed) << "alice's chat conversation " << conversation->dump()
                          << " did not resume after every backend pod was replaced (answered "
                          << r.status << ": " << excerpt(r.body)
                          << "): conversations live in the pods, not in the database";
  }
  measure("tasks_written", static_cast<double>(written.size()), "tasks");
  measure("tasks_missing", static_cast<double>(missing), "tasks");
  measure("tasks_changed", static_cast<double>(changed), "tasks");
}

}  // namespace kgate::resilience
