// Smoke: the chatbot adds a task from natural language, and the task shows in the list.
#include "kgate/check.hpp"
#include "kgate/identity.hpp"

namespace kgate {
namespace {

using nlohmann::json;

class SmokeChat : public Check {
 public:
  static constexpr GroupInfo group{"smoke", "Chat"};
  using Check::Check;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

KGATE_CHECK(SmokeChat, AddTaskByNaturalLanguage,
            {.title = "A chat message adds a task that then appears in the task list",
             .needs = kNeedsIdentity}) {
  if (!config().smoke.chat) KGATE_SKIP() << "chat disabled (suites.smoke.chat: false)";
  const Identity& alice = c().identity("alice");
  auto a = api(alice);
  const auto& p = config().profile;
  const std::string marker = "kgate chat " + random_hex(4);
  std::string message = config().smoke.chat_message;
  if (auto pos = message.find("{title}"); pos != std::string::npos)
    message.replace(pos, 7, marker);
  else
    message += " " + marker;

  auto r = a.chat({{"message", message}});
  KGATE_REQUIRE(r.status == 200) << "POST " << a.chat_url() << " answered " << r.status << ": "
                                 << excerpt(r.body);
  auto doc = parse_json(r.body);
  KGATE_REQUIRE(doc && doc->is_object())
      << "the chat answer is not a JSON object: " << excerpt(r.body);
  KGATE_EXPECT(!p.chat_conversation || doc->contains("conversation_id"))
      << "the chat answer has no conversation_id (profile.chat_conversation: false if the app "
      << "keeps none): " << excerpt(r.body);
  KGATE_EXPECT(doc->contains("response") && (*doc)["response"].is_string())
      << "the chat answer has no text 'response': " << excerpt(r.body);

  // Whatever the agent did, the task must now be in the list (and is deleted after the check).
  r = a.list();
  KGATE_REQUIRE(r.status == 200) << "GET " << a.tasks_url() << " answered " << r.status;
  auto body = parse_json(r.body);
  auto list = body ? task_list_of(*body, p) : std::nullopt;
  KGATE_REQUIRE(list) << "the task list is not a list: " << excerpt(r.body);
  std::optional<std::string> found;
  for (const auto& t : *list)
    if (t.is_object() && lower(t.value("title", "")).find(marker) != std::string::npos)
      found = task_id_of(t, p);
  if (found) a.delete_after_check(*found);
  KGATE_REQUIRE(found) << "after \"" << message << "\" no task titled like '" << marker
                       << "' is in the list; the chat answered: "
                       << excerpt((*doc).value("response", ""));

  // The conversation continues under the same id.
  if (p.chat_conversation && doc->contains("conversation_id")) {
    auto follow = a.chat(
        {{"conversation_id", (*doc)["conversation_id"]}, {"message", "Show me all my tasks"}});
    KGATE_REQUIRE(follow.status == 200)
        << "a follow-up message in conversation " << (*doc)["conversation_id"].dump()
        << " answered " << follow.status << ": " << excerpt(follow.body);
    auto f = parse_json(follow.body);
    KGATE_EXPECT(f && f->value("conversation_id", json()) == (*doc)["conversation_id"])
        << "the follow-up answered another conversation id: " << excerpt(follow.body);
  }
}

}  // namespace
}  // namespace kgate
