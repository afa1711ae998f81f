// The app's pure logic in-process: the chat interpreter's phrasings and the validation rules.
#include <gtest/gtest.h>

#include "chat.hpp"
#include "message.hpp"
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
  auto ok = validate_new_task({{"title", "x"}, {"description", nullptr}, {"unknown", 1}}, true);
  ASSERT_TRUE(std::holds_alternative<NewTask>(ok));
  EXPECT_FALSE(std::get<NewTask>(ok).description);

  auto errors = validate_new_task({{"title", 1}, {"completed", "no"}}, true);
  ASSERT_TRUE(std::holds_alternative<ValidationErrors>(errors));
  auto detail = std::get<ValidationErrors>(errors).detail;
  ASSERT_EQ(detail.size(), 2u);
  EXPECT_EQ(detail[0]["type"], "string_type");
  EXPECT_EQ(detail[1]["loc"], json::array({"body", "completed"}));

  EXPECT_TRUE(std::holds_alternative<NewTask>(
      validate_new_task({{"title", std::string(300, 'x')}}, false)));
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
