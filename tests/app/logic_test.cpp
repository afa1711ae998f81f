// The app's pure logic in-process: the chat interpreter's phrasings and the validation rules.
#include <gtest/gtest.h>

#include "chat.hpp"
#include "message.hpp"
#include "rate_limit.hpp"
#include "storage.hpp"
#include "validation.hpp"

namespace todo {
namespace {

using Kind = Intent::Kind;
using nlohmann::json;

TEST(Interpret, AddPhrasings) {
  struct Case {
    const char* message;
    const char* title;
  };
  for (const auto& c :
       {Case{"Add a task to buy groceries", "Buy groceries"},
        Case{"add a new task to call the dentist!", "Call the dentist"},
        Case{"Add task: Pay rent", "Pay rent"}, Case{"ADD TASK: file taxes", "File taxes"},
        Case{"Remind me to water the plants.", "Water the plants"},
        Case{"Create a task called 'Plan trip'", "Plan trip"},
        Case{"Please add milk to my list", "Milk"}}) {
    auto intent = interpret(c.message);
    EXPECT_EQ(intent.kind, Kind::Add) << c.message;
    EXPECT_EQ(intent.title, c.title) << c.message;
  }
}

TEST(Interpret, ListPhrasings) {
  struct Case {
    const char* message;
    StatusFilter filter;
  };
  for (const auto& c :
       {Case{"Show me all my tasks", StatusFilter::All}, Case{"list my tasks", StatusFilter::All},
        Case{"What are my todos?", StatusFilter::All},
        Case{"What's pending?", StatusFilter::Pending}, Case{"show pending", StatusFilter::Pending},
        Case{"Which tasks are not done yet?", StatusFilter::Pending},
        Case{"What have I completed?", StatusFilter::Completed},
        Case{"show completed tasks", StatusFilter::Completed}}) {
    auto intent = interpret(c.message);
    EXPECT_EQ(intent.kind, Kind::List) << c.message;
    EXPECT_EQ(intent.filter, c.filter) << c.message;
  }
}

TEST(Interpret, ActionsOnTaskIds) {
  auto complete = interpret("Mark task 3 as complete");
  EXPECT_EQ(complete.kind, Kind::Complete);
  EXPECT_EQ(complete.task_id, 3);
  EXPECT_EQ(interpret("complete task 12").task_id, 12);
  EXPECT_EQ(interpret("mark task #4 done").kind, Kind::Complete);

  auto remove = interpret("Delete task 2");
  EXPECT_EQ(remove.kind, Kind::Delete);
  EXPECT_EQ(remove.task_id, 2);
  EXPECT_EQ(interpret("please remove task 7").task_id, 7);

  auto update = interpret("Change task 1 to 'Call mom tonight'");
  EXPECT_EQ(update.kind, Kind::Update);
  EXPECT_EQ(update.task_id, 1);
  EXPECT_EQ(update.title, "Call mom tonight");
  EXPECT_EQ(interpret("rename task 5 to Walk the dog").title, "Walk the dog");
  EXPECT_EQ(interpret("update task 9 to \"Buy bread\"").title, "Buy bread");
}

TEST(Interpret, AnythingElseIsNoTool) {
  for (const char* message : {"hello", "What's the weather?", "", "tell me a joke", "task",
                              "delete everything", "add taskforce meeting"}) {
    EXPECT_EQ(interpret(message).kind, Kind::None) << message;
  }
}

TEST(Validation, CountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x9A\x80"), 3u);
}

TEST(Validation, NewTaskRules) {
  auto ok = validate_new_task({{"title", "x"}, {"description", nullptr}, {"unknown", 1}});
  ASSERT_TRUE(std::holds_alternative<NewTask>(ok));
  EXPECT_FALSE(std::get<NewTask>(ok).description);

  auto errors = validate_new_task({{"title", 1}, {"completed", "no"}});
  ASSERT_TRUE(std::holds_alternative<ValidationErrors>(errors));
  auto detail = std::get<ValidationErrors>(errors).detail;
  ASSERT_EQ(detail.size(), 2u);
  EXPECT_EQ(detail[0]["type"], "string_type");
  EXPECT_EQ(detail[1]["loc"], json::array({"body", "completed"}));

  EXPECT_TRUE(std::holds_alternative<NewTask>(
      validate_new_task({{"title", std::string(300, 'x')}}, TaskRules{.enforce_lengths = false})));
}

TEST(Validation, TheAppsOwnLimits) {
  TaskRules rules{.title_max = 5, .description_max = 3};
  EXPECT_TRUE(std::holds_alternative<NewTask>(
      validate_new_task({{"title", "12345"}, {"description", "abc"}}, rules)));
  auto errors = validate_new_task({{"title", "123456"}, {"description", "abcd"}}, rules);
  ASSERT_TRUE(std::holds_alternative<ValidationErrors>(errors));
  auto detail = std::get<ValidationErrors>(errors).detail;
  ASSERT_EQ(detail.size(), 2u);
  EXPECT_EQ(detail[0]["ctx"]["max_length"], 5);
  EXPECT_EQ(detail[1]["ctx"]["max_length"], 3);
}

TEST(Validation, LaxBooleansAreWhatPydanticCoerces) {
  TaskRules lax{.lax_types = true};
  auto completed = [&](const json& value) -> std::optional<bool> {
    auto r = validate_new_task({{"title", "x"}, {"completed", value}}, lax);
    if (!std::holds_alternative<NewTask>(r)) return std::nullopt;
    return std::get<NewTask>(r).completed;
  };
  for (const json& yes : {json(true), json(1), json(1.0), json("yes"), json("Y"), json("on"),
                          json("t"), json("TRUE"), json("1")}) {
    EXPECT_EQ(completed(yes), true) << yes.dump();
  }
  for (const json& no : {json(false), json(0), json("no"), json("off"), json("f"), json("0")}) {
    EXPECT_EQ(completed(no), false) << no.dump();
  }
  for (const json& neither :
       {json("kgate"), json(""), json(2), json(0.5), json::object(), json::array()}) {
    EXPECT_FALSE(completed(neither)) << neither.dump();
  }
  // Strict (the contract's default): only true and false.
  EXPECT_TRUE(std::holds_alternative<ValidationErrors>(
      validate_new_task({{"title", "x"}, {"completed", 1}})));
}

TEST(Validation, StatusFieldInsteadOfCompleted) {
  TaskRules status{.status_field = true};
  auto done = validate_task_changes({{"status", "completed"}, {"completed", false}}, status);
  ASSERT_TRUE(std::holds_alternative<TaskChanges>(done));
  EXPECT_EQ(std::get<TaskChanges>(done).completed, true);
  auto ignored = validate_task_changes({{"completed", true}}, status);
  ASSERT_TRUE(std::holds_alternative<TaskChanges>(ignored));
  EXPECT_FALSE(std::get<TaskChanges>(ignored).completed);
  auto bad = validate_task_changes({{"status", "done"}}, status);
  ASSERT_TRUE(std::holds_alternative<ValidationErrors>(bad));
  EXPECT_EQ(std::get<ValidationErrors>(bad).detail[0]["type"], "enum");
}

TEST(Validation, Uuids) {
  const std::string canonical = "0b7e5e0c-2f0a-4c1e-9a51-3d1c3c0f4a11";
  EXPECT_EQ(canonical_uuid(canonical), canonical);
  EXPECT_EQ(canonical_uuid("0B7E5E0C-2F0A-4C1E-9A51-3D1C3C0F4A11"), canonical);
  EXPECT_EQ(canonical_uuid("0b7e5e0c2f0a4c1e9a513d1c3c0f4a11"), canonical);
  EXPECT_EQ(canonical_uuid("{" + canonical + "}"), canonical);
  EXPECT_EQ(canonical_uuid("urn:uuid:" + canonical), canonical);
  for (const char* bad :
       {"", "alice", "0b7e5e0c-2f0a-4c1e-9a51-3d1c3c0f4a1", "0b7e5e0c-2f0a-4c1e-9a51-3d1c3c0f4a1g",
        "0b7e5e0c2-f0a-4c1e-9a51-3d1c3c0f4a11", "0b7e5e0c-2f0a-4c1e-9a51-3d1c3c0f4a11x"}) {
    EXPECT_FALSE(canonical_uuid(bad)) << bad;
  }
  auto error = uuid_error(json::array({"path", "user_id"}), "alice").detail[0];
  EXPECT_EQ(error["type"], "uuid_parsing");
  EXPECT_EQ(error["input"], "alice");
}

TEST(Validation, EmailPolicies) {
  const std::string reserved =
      "The part after the @-sign is a special-use or reserved name that cannot be used with "
      "email.";
  for (const char* email :
       {"a@kgate.test", "a@x.example", "a@x.invalid", "a@x.localhost", "a@printer.local",
        "a@x.onion", "a@1.0.0.127.in-addr.arpa", "a@KGATE.TEST"}) {
    EXPECT_EQ(email_refusal(email, true), reserved) << email;
    EXPECT_FALSE(email_refusal(email, false)) << email;
  }
  for (const char* email :
       {"a@example.com", "a@test.example.org", "a@latest.dev", "a@local.host"}) {
    EXPECT_FALSE(email_refusal(email, true)) << email;
  }
  EXPECT_TRUE(email_refusal("no-at-sign", true));
  EXPECT_TRUE(email_refusal("@example.com", true));
  EXPECT_TRUE(email_refusal("a@localhost", true));
  EXPECT_TRUE(email_refusal("a@example..com", true));
}

TEST(RateLimit, ParsesCountAndWindow) {
  using namespace std::chrono;
  auto limit = parse_rate_limit("100/hour");
  EXPECT_EQ(limit.requests, 100u);
  EXPECT_EQ(limit.window, hours(1));
  EXPECT_EQ(limit.text, "100/hour");
  EXPECT_EQ(parse_rate_limit("20/10s").window, seconds(10));
  EXPECT_EQ(parse_rate_limit("5/minute").window, minutes(1));
  EXPECT_EQ(parse_rate_limit("5/second").window, seconds(1));
  EXPECT_EQ(parse_rate_limit("1000/day").window, hours(24));
  EXPECT_EQ(parse_rate_limit("1000/2d").window, hours(48));
  EXPECT_EQ(parse_rate_limit("3/1.5s").window, milliseconds(1500));
  EXPECT_EQ(parse_rate_limit("3/250ms").window, milliseconds(250));
  for (const char* bad : {"", "100", "/hour", "x/hour", "0/hour", "-1/hour", "10/", "10/fortnight",
                          "10/0s", "10/0.1ms", "1e3/hour"}) {
    EXPECT_THROW(parse_rate_limit(bad), std::invalid_argument) << bad;
  }
}

TEST(RateLimit, FixedWindowsPerClient) {
  using namespace std::chrono;
  const auto t0 = FixedWindowLimiter::Clock::time_point{} + hours(1);
  FixedWindowLimiter limiter(parse_rate_limit("2/10s"), t0);
  EXPECT_TRUE(limiter.admit("a", t0).allowed);
  EXPECT_EQ(limiter.admit("a", t0 + seconds(1)).remaining, 0u);
  auto refused = limiter.admit("a", t0 + milliseconds(2500));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, seconds(8));  // 7.5 s to the window's end, rounded up
  EXPECT_TRUE(limiter.admit("b", t0 + seconds(3)).allowed);
  EXPECT_EQ(limiter.admit("a", t0 + milliseconds(9990)).retry_after, seconds(1));
  // The next window starts afresh for everyone.
  EXPECT_TRUE(limiter.admit("a", t0 + seconds(10)).allowed);
  EXPECT_TRUE(limiter.admit("a", t0 + seconds(15)).allowed);
  EXPECT_FALSE(limiter.admit("a", t0 + seconds(19)).allowed);
  EXPECT_TRUE(limiter.admit("a", t0 + seconds(25)).allowed);
}

TEST(Validation, MalformedJsonIsFlagged) {
  auto parsed = parse_json_body("{nope");
  ASSERT_TRUE(std::holds_alternative<ValidationErrors>(parsed));
  EXPECT_TRUE(std::get<ValidationErrors>(parsed).malformed_json);
  auto empty = parse_json_body("  ");
  ASSERT_TRUE(std::holds_alternative<ValidationErrors>(empty));
  EXPECT_FALSE(std::get<ValidationErrors>(empty).malformed_json);
}

TEST(Validation, PathIds) {
  EXPECT_EQ(std::get<std::optional<std::int64_t>>(parse_path_id("42", "task_id")), 42);
  EXPECT_FALSE(std::get<std::optional<std::int64_t>>(parse_path_id("99999999999999999999", "t")));
  EXPECT_TRUE(std::holds_alternative<ValidationErrors>(parse_path_id("4x", "task_id")));
  EXPECT_TRUE(std::holds_alternative<ValidationErrors>(parse_path_id("", "task_id")));
}

TEST(Message, PathsQueriesCookies) {
  EXPECT_EQ(split_path("/api/a%20b/tasks/"), (std::vector<std::string>{"api", "a b", "tasks"}));
  EXPECT_EQ(query_param("status=pending&sort=title", "sort"), "title");
  EXPECT_EQ(query_param("q=a+b%21", "q"), "a b!");
  EXPECT_FALSE(query_param("status=pending", "sort"));
  Request r;
  r.headers = {{"cookie", "a=1; better-auth.session_token=abc%3D; c=3"},
               {"authorization", "bearer tok"}};
  EXPECT_EQ(cookie_value(r, "better-auth.session_token"), "abc=");
  EXPECT_EQ(bearer_token(r), "tok");
}

TEST(Storage, SqliteUrls) {
  EXPECT_EQ(sqlite_path("sqlite::memory:"), ":memory:");
  EXPECT_EQ(sqlite_path("sqlite:///var/lib/todo.db"), "/var/lib/todo.db");
  EXPECT_EQ(sqlite_path("sqlite:todo.db"), "todo.db");
  EXPECT_EQ(sqlite_path("sqlite:///./data/todo.db"), "./data/todo.db");
  EXPECT_FALSE(sqlite_path("postgresql://x/y"));
  EXPECT_THROW(open_storage("mysql://x", 1), std::invalid_argument);
}

}  // namespace
}  // namespace todo
