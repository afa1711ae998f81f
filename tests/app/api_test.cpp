// Stories of the api role over the real binary: health, auth, tasks, validation, chat, headers,
// CORS, routing, graceful shutdown and persistence.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <future>
#include <set>

#include <kgate/process.hpp>
#include <kgate/wait.hpp>

#include "support.hpp"

namespace apptest {
namespace {

using kgate::testfw::json_body;
using kgate::testfw::raw_status;
using kgate::testfw::RawConnection;
namespace jwth = kgate::testfw;

constexpr const char* kAllowedOrigin = "https://app.example.com";

// One app serves the stories that do not restart it; each story uses its own users.
class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TodoAppOptions options;
    options.env = {{"CORS_ORIGINS", std::string(kAllowedOrigin) + ",https://other.example.com"}};
    app_ = new TodoApp(options);
  }
  static void TearDownTestSuite() {
    delete app_;
    app_ = nullptr;
  }
  static TodoApp& app() { return *app_; }
  static TodoApp* app_;
};
TodoApp* ApiTest::app_ = nullptr;

TEST_F(ApiTest, HealthAndReadinessAnswerTheContract) {
  ApiClient anonymous(app().url());
  auto health = anonymous.get("/health");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(json_body(health), json({{"status", "healthy"}, {"version", "1.0.0"}}));
  EXPECT_EQ(header(health, "Content-Type"), "application/json");
  EXPECT_EQ(header(health, "Server"), "todo-app");

  auto ready = anonymous.get("/ready");
  ASSERT_EQ(ready.status, 200);
  EXPECT_EQ(json_body(ready), json({{"status", "ready"}}));

  auto head = anonymous.send("HEAD", "/health");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(ApiTest, PrintsTheListeningLineOnStdout) {
  std::string line = "todo-app api listening on http://127.0.0.1:" + std::to_string(app().port());
  EXPECT_NE(app().log().find(line + "\n"), std::string::npos) << app().log();
}

TEST_F(ApiTest, RefusesRequestsWithoutAValidToken) {
  const std::string user = fresh_user("alice");
  const std::string path = tasks_path(user);
  const std::string secret = app().secret();
  struct Case {
    const char* name;
    std::string authorization;  // empty: no header
  };
  const Case cases[] = {
      {"no token", ""},
      {"not bearer", "Basic YWxpY2U6c2VjcmV0"},
      {"empty bearer", "Bearer "},
      {"malformed", "Bearer not.a.jwt"},
      {"garbage", "Bearer abc"},
      {"wrong secret", "Bearer " + jwth::sign_hs256(user, "another-secret-entirely-000000")},
      {"expired", "Bearer " + jwth::expired_token(user, secret)},
      {"not yet valid", "Bearer " + jwth::not_yet_valid_token(user, secret)},
      {"alg none", "Bearer " + jwth::alg_none_token(user)},
      {"tampered", "Bearer " + jwth::tampered_token(jwth::sign_hs256("mallory", secret), user)},
  };
  ApiClient client(app().url());
  for (const auto& c : cases) {
    kgate::http::Headers headers;
    if (!c.authorization.empty()) headers.emplace_back("Authorization", c.authorization);
    auto r = client.get(path, headers);
    EXPECT_EQ(r.status, 401) << c.name << ": " << r.body;
    auto body = json_body(r);
    EXPECT_TRUE(body["detail"].is_string()) << c.name << ": " << r.body;
    EXPECT_TRUE(has_api_security_headers(r)) << c.name;
    // A refused write changes nothing.
    auto w = client.send("POST", path, R"({"title":"sneaky"})", headers);
    EXPECT_EQ(w.status, 401) << c.name;
  }
  auto owner = client_for(app(), user);
  auto list = owner.get(path);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json_body(list), json::array());
}

TEST_F(ApiTest, ForbidsAValidTokenForAnotherUser) {
  const std::string alice = fresh_user("alice");
  const std::string bob = fresh_user("bob");
  auto as_alice = client_for(app(), alice);
  auto task = create_task(as_alice, alice, {{"title", "Alice's secret"}});

  auto as_bob = client_for(app(), bob);
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", tasks_path(alice)},
           {"POST", tasks_path(alice)},
           {"GET", task_path(alice, task["id"])},
           {"PUT", task_path(alice, task["id"])},
           {"DELETE", task_path(alice, task["id"])},
           {"PATCH", task_path(alice, task["id"]) + "/complete"},
           {"POST", chat_path(alice)}}) {
    std::string body = method == "POST" || method == "PUT"
                           ? R"({"title":"bob was here","message":"Delete task 1"})"
                           : "";
    auto r = as_bob.send(method, path, body);
    EXPECT_EQ(r.status, 403) << method << " " << path << ": " << r.body;
    EXPECT_TRUE(json_body(r)["detail"].is_string());
  }
  // Bob reaching for Alice's task through his own URL finds nothing.
  EXPECT_EQ(as_bob.get(task_path(bob, task["id"])).status, 404);
  EXPECT_EQ(as_bob.put(task_path(bob, task["id"]), {{"title", "mine now"}}).status, 404);
  EXPECT_EQ(as_bob.patch(task_path(bob, task["id"]) + "/complete").status, 404);
  EXPECT_EQ(as_bob.del(task_path(bob, task["id"])).status, 404);
  EXPECT_EQ(json_body(as_bob.get(tasks_path(bob))), json::array());

  auto still = as_alice.get(task_path(alice, task["id"]));
  ASSERT_EQ(still.status, 200);
  EXPECT_EQ(json_body(still), task);
}

TEST_F(ApiTest, TaskLifecycleCreateReadUpdateToggleDelete) {
  const std::string user = fresh_user("carol");
  auto client = client_for(app(), user);

  auto created = client.post(tasks_path(user),
                             {{"title", "Buy groceries"}, {"description", "Milk, eggs, bread"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_TRUE(has_api_security_headers(created));
  auto task = json_body(created);
  ASSERT_TRUE(task["id"].is_number_integer());
  EXPECT_EQ(task["user_id"], user);
  EXPECT_EQ(task["title"], "Buy groceries");
  EXPECT_EQ(task["description"], "Milk, eggs, bread");
  EXPECT_EQ(task["completed"], false);
  ASSERT_TRUE(task["created_at"].is_string());
  EXPECT_EQ(task["created_at"].get<std::string>().back(), 'Z');
  EXPECT_EQ(task["created_at"].get<std::string>()[10], 'T');
  EXPECT_EQ(task["created_at"], task["updated_at"]);
  const long long id = task["id"];

  auto fetched = client.get(task_path(user, id));
  ASSERT_EQ(fetched.status, 200);
  EXPECT_EQ(json_body(fetched), task);

  auto listed = client.get(tasks_path(user));
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(json_body(listed), json::array({task}));

  auto updated = client.put(
      task_path(user, id),
      {{"title", "Buy groceries and fruits"}, {"description", nullptr}, {"completed", true}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  auto after_put = json_body(updated);
  EXPECT_EQ(after_put["title"], "Buy groceries and fruits");
  EXPECT_TRUE(after_put["description"].is_null());
  EXPECT_EQ(after_put["completed"], true);
  EXPECT_EQ(after_put["created_at"], task["created_at"]);
  EXPECT_GE(after_put["updated_at"].get<std::string>(), task["updated_at"].get<std::string>());

  // A partial PUT keeps the fields it does not name.
  auto partial = client.put(task_path(user, id), {{"description", "from the market"}});
  ASSERT_EQ(partial.status, 200) << partial.body;
  EXPECT_EQ(json_body(partial)["title"], "Buy groceries and fruits");
  EXPECT_EQ(json_body(partial)["completed"], true);

  auto toggled = client.patch(task_path(user, id) + "/complete");
  ASSERT_EQ(toggled.status, 200);
  EXPECT_EQ(json_body(toggled)["completed"], false);
  auto toggled_back = client.patch(task_path(user, id) + "/complete");
  ASSERT_EQ(toggled_back.status, 200);
  EXPECT_EQ(json_body(toggled_back)["completed"], true);

  auto deleted = client.del(task_path(user, id));
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_TRUE(has_api_security_headers(deleted));

  auto gone = client.get(task_path(user, id));
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(json_body(gone), json({{"detail", "Task not found"}}));
  EXPECT_EQ(client.del(task_path(user, id)).status, 404);
  EXPECT_EQ(client.patch(task_path(user, id) + "/complete").status, 404);
  EXPECT_EQ(client.put(task_path(user, id), {{"title", "ghost"}}).status, 404);
  EXPECT_EQ(json_body(client.get(tasks_path(user))), json::array());
}

TEST_F(ApiTest, ListFiltersByStatusAndSorts) {
  const std::string user = fresh_user("dave");
  auto client = client_for(app(), user);
  auto banana = create_task(client, user, {{"title", "banana"}});
  auto apple = create_task(client, user, {{"title", "Apple"}, {"completed", true}});
  auto cherry = create_task(client, user, {{"title", "cherry"}});
  ASSERT_EQ(client.patch(task_path(user, cherry["id"]) + "/complete").status, 200);

  auto titles = [&](const std::string& query) {
    auto r = client.get(tasks_path(user) + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::vector<std::string> out;
    for (const auto& t : json_body(r)) out.push_back(t["title"]);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(titles(""), (V{"banana", "Apple", "cherry"}));
  EXPECT_EQ(titles("?status=all"), (V{"banana", "Apple", "cherry"}));
  EXPECT_EQ(titles("?status=pending"), (V{"banana"}));
  EXPECT_EQ(titles("?status=completed"), (V{"Apple", "cherry"}));
  EXPECT_EQ(titles("?sort=created"), (V{"banana", "Apple", "cherry"}));
  EXPECT_EQ(titles("?sort=title"), (V{"Apple", "banana", "cherry"}));
  EXPECT_EQ(titles("?sort=due_date"), (V{"banana", "Apple", "cherry"}));
  EXPECT_EQ(titles("?status=completed&sort=title"), (V{"Apple", "cherry"}));

  auto bad = client.get(tasks_path(user) + "?status=done");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(json_body(bad)["detail"][0]["loc"], json::array({"query", "status"}));
  EXPECT_EQ(client.get(tasks_path(user) + "?sort=priority").status, 422);
}

TEST_F(ApiTest, ValidationAnswers422LikeFastApi) {
  const std::string user = fresh_user("erin");
  auto client = client_for(app(), user);
  auto expect_422 = [&](const std::string& body, const json& loc, const std::string& type) {
    auto r = client.send("POST", tasks_path(user), body);
    ASSERT_EQ(r.status, 422) << body.substr(0, 80) << ": " << r.body.substr(0, 300);
    auto detail = json_body(r)["detail"];
    ASSERT_TRUE(detail.is_array()) << r.body;
    ASSERT_FALSE(detail.empty());
    EXPECT_EQ(detail[0]["loc"], loc) << r.body;
    EXPECT_EQ(detail[0]["type"], type) << r.body;
    EXPECT_TRUE(detail[0]["msg"].is_string());
    EXPECT_TRUE(has_api_security_headers(r));
  };
  expect_422(R"({})", json::array({"body", "title"}), "missing");
  expect_422(R"({"description":"no title"})", json::array({"body", "title"}), "missing");
  expect_422(R"({"title":""})", json::array({"body", "title"}), "string_too_short");
  expect_422(json({{"title", std::string(201, 'x')}}).dump(), json::array({"body", "title"}),
             "string_too_long");
  expect_422(R"({"title":42})", json::array({"body", "title"}), "string_type");
  expect_422(R"({"title":null})", json::array({"body", "title"}), "string_type");
  expect_422(R"({"title":["a"]})", json::array({"body", "title"}), "string_type");
  expect_422(R"({"title":"ok","description":7})", json::array({"body", "description"}),
             "string_type");
  expect_422(json({{"title", "ok"}, {"description", std::string(1001, 'd')}}).dump(),
             json::array({"body", "description"}), "string_too_long");
  expect_422(R"({"title":"ok","completed":"yes"})", json::array({"body", "completed"}),
             "bool_type");
  expect_422(R"({"title": "unterminated)", json::array({"body", 0}), "json_invalid");
  expect_422("not json at all", json::array({"body", 0}), "json_invalid");
  expect_422(R"(["title"])", json::array({"body"}), "model_attributes_type");
  expect_422("", json::array({"body"}), "missing");

  // Limits count characters, not bytes: 200 two-byte characters are fine, 201 are not.
  std::string e_acute = "\xC3\xA9";
  std::string two_hundred;
  for (int i = 0; i < 200; ++i) two_hundred += e_acute;
  auto ok = client.post(tasks_path(user), {{"title", two_hundred},
                                           {"description", std::string(1000, 'd')},
                                           {"extra_field", "ignored"}});
  ASSERT_EQ(ok.status, 201) << ok.body.substr(0, 300);
  EXPECT_EQ(json_body(ok)["title"], two_hundred);
  EXPECT_FALSE(json_body(ok).contains("extra_field"));
  expect_422(json({{"title", two_hundred + e_acute}}).dump(), json::array({"body", "title"}),
             "string_too_long");

  // PUT validates the same way, before looking the task up.
  const long long id = json_body(ok)["id"];
  for (const auto& body : {std::string(R"({"title":""})"), std::string(R"({"completed":1})"),
                           std::string("{bad json")}) {
    auto r = client.send("PUT", task_path(user, id), body);
    EXPECT_EQ(r.status, 422) << body << ": " << r.body;
  }
  EXPECT_EQ(client.send("PUT", task_path(user, 999999999), R"({"title":""})").status, 422);

  // Path ids must be integers.
  auto bad_id = client.get(tasks_path(user) + "/abc");
  EXPECT_EQ(bad_id.status, 422);
  EXPECT_EQ(json_body(bad_id)["detail"][0]["loc"], json::array({"path", "task_id"}));
  EXPECT_EQ(client.get(tasks_path(user) + "/99999999999999999999999").status, 404);
  EXPECT_EQ(client.get(tasks_path(user) + "/-1").status, 404);

  // Nothing invalid was stored.
  EXPECT_EQ(json_body(client.get(tasks_path(user))).size(), 1u);
}

TEST_F(ApiTest, BodiesOverOneMebibyteAre413) {
  const std::string user = fresh_user("frank");
  auto client = client_for(app(), user);
  std::string huge = json({{"title", "big"}, {"description", std::string(1100000, 'x')}}).dump();
  auto r = client.send("POST", tasks_path(user), huge);
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 200);
  EXPECT_TRUE(json_body(r)["detail"].is_string());
  // The server is fine afterwards.
  EXPECT_EQ(client.get(tasks_path(user)).status, 200);
}

TEST_F(ApiTest, InjectionStringsAreStoredLiterally) {
  const std::string user = fresh_user("o'brien; DROP TABLE tasks;--");
  auto client = client_for(app(), user);
  const std::vector<std::string> titles = {
      "'; DROP TABLE tasks; --",
      "Robert'); DROP TABLE conversations;--",
      "1 OR 1=1",
      "\" OR \"\"=\"",
      "<script>alert('xss')</script>",
      "%s%s%n {{7*7}} ${7*7}",
      "emoji \xF0\x9F\x9A\x80 and \xE4\xB8\xAD\xE6\x96\x87",
      "back\\slash and \"quotes\" and\nnewline",
  };
  std::vector<long long> ids;
  for (const auto& title : titles) {
    auto task = create_task(client, user, {{"title", title}, {"description", title}});
    EXPECT_EQ(task["title"], title);
    EXPECT_EQ(task["user_id"], user);
    ids.push_back(task["id"]);
  }
  for (std::size_t i = 0; i < titles.size(); ++i) {
    auto r = client.get(task_path(user, ids[i]));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json_body(r)["title"], titles[i]);
    EXPECT_EQ(json_body(r)["description"], titles[i]);
  }
  EXPECT_EQ(json_body(client.get(tasks_path(user))).size(), titles.size());
  // Another user's list is untouched by any of it.
  const std::string other = fresh_user("other");
  auto other_client = client_for(app(), other);
  create_task(other_client, other, {{"title", "still here"}});
  EXPECT_EQ(json_body(other_client.get(tasks_path(other))).size(), 1u);
}

TEST_F(ApiTest, ChatInterpretsTheContractPhrasings) {
  const std::string user = fresh_user("grace");
  auto client = client_for(app(), user);
  std::optional<long long> conversation;
  auto say = [&](const std::string& message) {
    json body = {{"message", message}};
    if (conversation) body["conversation_id"] = *conversation;
    auto r = client.post(chat_path(user), body);
    EXPECT_EQ(r.status, 200) << message << ": " << r.body;
    auto reply = json_body(r);
    EXPECT_TRUE(reply["conversation_id"].is_number_integer());
    EXPECT_TRUE(reply["response"].is_string());
    EXPECT_FALSE(reply["response"].get<std::string>().empty());
    EXPECT_TRUE(reply["tool_calls"].is_array());
    if (conversation) {
      EXPECT_EQ(reply["conversation_id"], *conversation);
    }
    conversation = reply["conversation_id"].get<long long>();
    return reply;
  };
  auto only_call = [](const json& reply, const std::string& tool) {
    EXPECT_EQ(reply["tool_calls"].size(), 1u) << reply.dump();
    if (reply["tool_calls"].empty()) return json();
    EXPECT_EQ(reply["tool_calls"][0]["tool"], tool) << reply.dump();
    return reply["tool_calls"][0];
  };

  auto add = only_call(say("Add a task to buy groceries"), "add_task");
  EXPECT_EQ(add["arguments"]["title"], "Buy groceries");
  EXPECT_EQ(add["result"]["status"], "created");
  EXPECT_EQ(add["result"]["title"], "Buy groceries");
  const long long groceries = add["result"]["task_id"];
  auto stored = client.get(task_path(user, groceries));
  ASSERT_EQ(stored.status, 200);
  EXPECT_EQ(json_body(stored)["title"], "Buy groceries");

  const long long bank = only_call(say("Add task: Call the bank"), "add_task")["result"]["task_id"];
  auto plants = only_call(say("Remind me to water the plants."), "add_task");
  EXPECT_EQ(plants["result"]["title"], "Water the plants");
  const long long plants_id = plants["result"]["task_id"];

  auto complete =
      only_call(say("Mark task " + std::to_string(bank) + " as complete"), "complete_task");
  EXPECT_EQ(complete["result"],
            json({{"task_id", bank}, {"status", "completed"}, {"title", "Call the bank"}}));
  EXPECT_EQ(json_body(client.get(task_path(user, bank)))["completed"], true);

  auto all = only_call(say("Show me all my tasks"), "list_tasks");
  EXPECT_EQ(all["arguments"]["status"], "all");
  EXPECT_EQ(all["result"].size(), 3u);
  auto pending = only_call(say("What's pending?"), "list_tasks");
  EXPECT_EQ(pending["arguments"]["status"], "pending");
  EXPECT_EQ(pending["result"].size(), 2u);
  auto done = only_call(say("What have I completed?"), "list_tasks");
  EXPECT_EQ(done["arguments"]["status"], "completed");
  ASSERT_EQ(done["result"].size(), 1u);
  EXPECT_EQ(done["result"][0]["task_id"], bank);
  EXPECT_EQ(only_call(say("list my tasks"), "list_tasks")["result"].size(), 3u);
  EXPECT_EQ(only_call(say("show pending"), "list_tasks")["arguments"]["status"], "pending");

  auto update = only_call(
      say("Change task " + std::to_string(groceries) + " to 'Call mom tonight'"), "update_task");
  EXPECT_EQ(update["result"]["status"], "updated");
  EXPECT_EQ(update["result"]["title"], "Call mom tonight");
  EXPECT_EQ(json_body(client.get(task_path(user, groceries)))["title"], "Call mom tonight");

  auto removed = only_call(say("Delete task " + std::to_string(plants_id)), "delete_task");
  EXPECT_EQ(removed["result"]["status"], "deleted");
  EXPECT_EQ(client.get(task_path(user, plants_id)).status, 404);

  auto missing = only_call(say("complete task 987654321"), "complete_task");
  EXPECT_EQ(missing["result"]["status"], "not_found");

  auto chit_chat = say("What's the weather like?");
  EXPECT_TRUE(chit_chat["tool_calls"].empty());
  EXPECT_EQ(json_body(client.get(tasks_path(user))).size(), 2u);

  // The whole exchange is stored in the conversation, in order.
  auto history =
      client.get("/api/" + user + "/conversations/" + std::to_string(*conversation) + "/messages");
  ASSERT_EQ(history.status, 200) << history.body;
  auto messages = json_body(history);
  ASSERT_EQ(messages.size(), 2u * 13);
  EXPECT_EQ(messages[0]["role"], "user");
  EXPECT_EQ(messages[0]["content"], "Add a task to buy groceries");
  EXPECT_EQ(messages[1]["role"], "assistant");
}

TEST_F(ApiTest, ChatConversationsBelongToTheirUser) {
  const std::string alice = fresh_user("alice");
  const std::string bob = fresh_user("bob");
  auto as_alice = client_for(app(), alice);
  auto as_bob = client_for(app(), bob);
  auto first = as_alice.post(chat_path(alice), {{"message", "hello"}});
  ASSERT_EQ(first.status, 200);
  const long long conversation = json_body(first)["conversation_id"];

  auto resumed = as_alice.post(chat_path(alice), {{"conversation_id", conversation},
                                                  {"message", "Add a task to feed the cat"}});
  ASSERT_EQ(resumed.status, 200);
  EXPECT_EQ(json_body(resumed)["conversation_id"], conversation);

  auto foreign = as_bob.post(
      chat_path(bob), {{"conversation_id", conversation}, {"message", "Show me all my tasks"}});
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  EXPECT_EQ(
      as_alice.post(chat_path(alice), {{"conversation_id", 987654321}, {"message", "hi"}}).status,
      404);
  // A new conversation for Bob starts empty-handed: Alice's task is not his.
  auto bob_list = as_bob.post(chat_path(bob), {{"message", "Show me all my tasks"}});
  ASSERT_EQ(bob_list.status, 200);
  EXPECT_NE(json_body(bob_list)["conversation_id"], conversation);
  EXPECT_TRUE(json_body(bob_list)["tool_calls"][0]["result"].empty());

  EXPECT_EQ(as_alice.post(chat_path(alice), json::object()).status, 422);
  EXPECT_EQ(as_alice.post(chat_path(alice), {{"message", 5}}).status, 422);
  EXPECT_EQ(as_alice.post(chat_path(alice), {{"message", "x"}, {"conversation_id", "one"}}).status,
            422);
}

TEST_F(ApiTest, SecurityHeadersOnEveryKindOfResponse) {
  const std::string user = fresh_user("heidi");
  auto client = client_for(app(), user);
  ApiClient anonymous(app().url());
  std::vector<std::pair<std::string, kgate::http::Response>> responses = {
      {"health", anonymous.get("/health")},
      {"list", client.get(tasks_path(user))},
      {"401", anonymous.get(tasks_path(user))},
      {"404", anonymous.get("/nope")},
      {"405", anonymous.send("DELETE", "/health")},
      {"422", client.send("POST", tasks_path(user), "{")},
  };
  for (const auto& [name, r] : responses) {
    EXPECT_TRUE(has_api_security_headers(r)) << name;
    EXPECT_EQ(header(r, "Server"), "todo-app") << name;
    EXPECT_FALSE(r.header("X-Powered-By")) << name;
    EXPECT_EQ(r.body.find("Traceback"), std::string::npos) << name;
    EXPECT_EQ(r.body.find("SELECT"), std::string::npos) << name;
  }
}

TEST_F(ApiTest, CorsOnlyForConfiguredOrigins) {
  const std::string user = fresh_user("ivan");
  auto client = client_for(app(), user);
  auto allowed = client.get(tasks_path(user), {{"Origin", kAllowedOrigin}});
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(header(allowed, "Access-Control-Allow-Origin"), kAllowedOrigin);
  EXPECT_EQ(header(allowed, "Access-Control-Allow-Credentials"), "true");

  auto foreign = client.get(tasks_path(user), {{"Origin", "https://evil.example"}});
  EXPECT_EQ(foreign.status, 200);
  EXPECT_FALSE(foreign.header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(foreign.header("Access-Control-Allow-Credentials"));

  ApiClient anonymous(app().url());
  auto preflight =
      anonymous.send("OPTIONS", tasks_path(user), {},
                     {{"Origin", kAllowedOrigin},
                      {"Access-Control-Request-Method", "POST"},
                      {"Access-Control-Request-Headers", "authorization,content-type"}});
  EXPECT_LT(preflight.status, 300);
  EXPECT_EQ(header(preflight, "Access-Control-Allow-Origin"), kAllowedOrigin);
  EXPECT_NE(header(preflight, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_NE(header(preflight, "Access-Control-Allow-Headers").find("authorization"),
            std::string::npos);

  auto refused = anonymous.send(
      "OPTIONS", tasks_path(user), {},
      {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "DELETE"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_FALSE(refused.header("Access-Control-Allow-Origin"));
}

TEST_F(ApiTest, UnknownRoutesAre404AndWrongMethods405AsJson) {
  ApiClient anonymous(app().url());
  for (const std::string path : {"/", "/nope", "/api", "/api/u", "/api/u/unknown",
                                 "/api/u/tasks/1/2/3", "/api/u/tasks/1/incomplete"}) {
    auto r = anonymous.get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(json_body(r), json({{"detail", "Not Found"}})) << path;
  }
  const std::string user = fresh_user("judy");
  auto client = client_for(app(), user);
  struct Case {
    std::string method, path;
  };
  for (const auto& c : {Case{"DELETE", tasks_path(user)}, Case{"PATCH", task_path(user, 1)},
                        Case{"GET", task_path(user, 1) + "/complete"}, Case{"GET", chat_path(user)},
                        Case{"POST", "/health"}}) {
    auto r = client.send(c.method, c.path);
    EXPECT_EQ(r.status, 405) << c.method << " " << c.path;
    EXPECT_EQ(json_body(r), json({{"detail", "Method Not Allowed"}}));
    EXPECT_TRUE(r.header("Allow"));
  }
}

TEST_F(ApiTest, ServesConcurrentClients) {
  const std::string user = fresh_user("kim");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::future<std::vector<long long>>> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.push_back(std::async(std::launch::async, [&, t] {
      auto client = client_for(app(), user);
      std::vector<long long> ids;
      for (int i = 0; i < kPerThread; ++i) {
        auto r = client.post(tasks_path(user),
                             {{"title", "task " + std::to_string(t) + "/" + std::to_string(i)}});
        if (r.status == 201) ids.push_back(json_body(r)["id"]);
        client.get(tasks_path(user) + "?status=pending");
      }
      return ids;
    }));
  }
  std::set<long long> all;
  for (auto& w : workers) {
    for (auto id : w.get()) all.insert(id);
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
  auto client = client_for(app(), user);
  EXPECT_EQ(json_body(client.get(tasks_path(user))).size(), all.size());
}

TEST_F(ApiTest, KeepAliveAndPipelinedRequests) {
  RawConnection conn(app().port());
  conn.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\nGET /ready HTTP/1.1\r\nHost: t\r\n\r\n");
  auto first = conn.read_response();
  auto second = conn.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(raw_status(*first), 200);
  EXPECT_NE(first->find("healthy"), std::string::npos);
  EXPECT_NE(second->find("\"ready\""), std::string::npos);
  conn.send("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
  auto third = conn.read_response();
  ASSERT_TRUE(third);
  EXPECT_EQ(raw_status(*third), 404);

  RawConnection garbage(app().port());
  garbage.send("THIS IS NOT HTTP\r\n\r\n");
  auto answer = garbage.read_response();
  ASSERT_TRUE(answer);
  EXPECT_EQ(raw_status(*answer), 400);
}

// --- stories that start their own app -------------------------------------------------------

// What a zero-loss rolling update needs from a pod: readiness fails at once, everything that
// still arrives is served (endpoint removal takes a while to reach every client), each answer
// says Connection: close so clients move to other pods, and the process exits once quiet.
TEST(ApiLifecycle, SigtermKeepsServingWithConnectionCloseThenExitsWhenQuiet) {
  TodoAppOptions options;
  options.extra_args = {"--grace", "30s", "--drain-quiet", "3s"};
  TodoApp app(options);
  const std::string user = "drainer";
  const std::string token = jwth::sign_hs256(user, app.secret());

  // An idle keep-alive connection, and a POST whose body is still arriving.
  RawConnection idle(app.port());
  idle.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(idle.read_response());
  RawConnection uploading(app.port());
  const std::string body = R"({"title":"sent across the SIGTERM"})";
  uploading.send("POST " + tasks_path(user) + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                 token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10));

  auto started = std::chrono::steady_clock::now();
  app.process().signal(SIGTERM);
  ASSERT_TRUE(log_shows(app, "received SIGTERM"));

  // The idle connection may still send one request; the answer closes it.
  idle.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
  auto last_on_idle = idle.read_response(std::chrono::seconds(5));
  ASSERT_TRUE(last_on_idle) << app.log();
  EXPECT_EQ(raw_status(*last_on_idle), 200);
  EXPECT_NE(last_on_idle->find("Connection: close"), std::string::npos) << *last_on_idle;
  EXPECT_TRUE(idle.closed_by_peer(std::chrono::seconds(2)));

  // New connections are accepted: readiness says draining, the API still answers.
  RawConnection probe(app.port());
  probe.send("GET /ready HTTP/1.1\r\nHost: t\r\n\r\n");
  auto ready = probe.read_response(std::chrono::seconds(5));
  ASSERT_TRUE(ready) << app.log();
  EXPECT_EQ(raw_status(*ready), 503) << *ready;
  EXPECT_NE(ready->find("draining"), std::string::npos) << *ready;
  EXPECT_NE(ready->find("Connection: close"), std::string::npos) << *ready;
  auto late = client_for(app, user).get(tasks_path(user));
  EXPECT_EQ(late.status, 200) << late.body;
  EXPECT_EQ(header(late, "Connection"), "close");

  // The upload that began before SIGTERM completes.
  uploading.send(body.substr(10));
  auto created = uploading.read_response(std::chrono::seconds(5));
  ASSERT_TRUE(created) << app.log();
  EXPECT_EQ(raw_status(*created), 201) << *created;
  EXPECT_NE(created->find("sent across the SIGTERM"), std::string::npos);
  EXPECT_NE(created->find("Connection: close"), std::string::npos) << *created;

  // Nothing open for the quiet time: the listener closes and the process exits 0, long
  // before the grace period.
  auto status = app.process().wait(std::chrono::seconds(15));
  ASSERT_TRUE(status) << "did not exit\n" << app.log();
  EXPECT_EQ(*status, 0) << app.log();
  auto drained = std::chrono::steady_clock::now() - started;
  EXPECT_GE(drained, std::chrono::seconds(3));
  EXPECT_LT(drained, std::chrono::seconds(20));
  EXPECT_NE(app.log().find("drained: no connection for 3000 ms"), std::string::npos) << app.log();
}

TEST(ApiLifecycle, SigtermWaitsForRequestsInFlight) {
  TodoAppOptions options;
  options.faults = {"slow"};
  options.env = {{"TODO_FAULT_SLOW_MS", "1500"}};
  options.extra_args = {"--grace", "10s", "--log-request-read"};
  TodoApp app(options);
  const std::string user = "patient";
  auto in_flight =
      std::async(std::launch::async, [&] { return client_for(app, user).get(tasks_path(user)); });
  ASSERT_TRUE(log_shows(app, "request read method=GET path=" + tasks_path(user)));
  ASSERT_EQ(in_flight.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  auto started = std::chrono::steady_clock::now();
  app.process().signal(SIGTERM);

  auto slow = in_flight.get();
  EXPECT_EQ(slow.status, 200) << slow.body;
  EXPECT_EQ(header(slow, "Connection"), "close");
  auto status = app.process().wait(std::chrono::seconds(10));
  ASSERT_TRUE(status) << "did not exit";
  EXPECT_EQ(*status, 0) << app.log();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(ApiLifecycle, GraceLimitsHowLongADrainMayTake) {
  TodoAppOptions options;
  options.faults = {"slow"};
  options.env = {{"TODO_FAULT_SLOW_MS", "20000"}};
  options.extra_args = {"--grace", "1s", "--log-request-read"};
  TodoApp app(options);
  auto in_flight = std::async(std::launch::async, [&] {
    try {
      return client_for(app, "u").get(tasks_path("u")).status;
    } catch (const std::exception&) {
      return 0;  // the connection dies with the process
    }
  });
  ASSERT_TRUE(log_shows(app, "request read method=GET path=" + tasks_path("u")));
  auto started = std::chrono::steady_clock::now();
  app.process().signal(SIGTERM);
  auto status = app.process().wait(std::chrono::seconds(5));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  EXPECT_NE(in_flight.get(), 200);
}

TEST(ApiLifecycle, SqliteFilePersistsAcrossRestarts) {
  const std::string dir = kgate::testfw::make_temp_dir("todo-db-");
  TodoAppOptions options;
  options.database = "sqlite:///" + dir.substr(1) + "/todo.db";
  ASSERT_EQ(options.database.rfind("sqlite:////", 0), std::string::npos);
  const std::string user = "persistent";
  long long task_id = 0;
  long long conversation = 0;
  {
    TodoApp first(options);
    auto client = client_for(first, user);
    task_id = create_task(client, user, {{"title", "Survive a restart"}})["id"];
    auto chat = client.post(chat_path(user), {{"message", "Add a task to renew passport"}});
    ASSERT_EQ(chat.status, 200);
    conversation = json_body(chat)["conversation_id"];
    EXPECT_EQ(first.stop(), 0);
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/todo.db"));
  {
    TodoApp second(options);
    auto client = client_for(second, user);
    auto task = client.get(task_path(user, task_id));
    ASSERT_EQ(task.status, 200);
    EXPECT_EQ(json_body(task)["title"], "Survive a restart");
    auto titles = json_body(client.get(tasks_path(user)));
    ASSERT_EQ(titles.size(), 2u);
    EXPECT_EQ(titles[1]["title"], "Renew passport");

    auto resumed = client.post(chat_path(user),
                               {{"conversation_id", conversation}, {"message", "What's pending?"}});
    ASSERT_EQ(resumed.status, 200) << resumed.body;
    EXPECT_EQ(json_body(resumed)["conversation_id"], conversation);
    EXPECT_EQ(json_body(resumed)["tool_calls"][0]["result"].size(), 2u);
    auto history = json_body(client.get("/api/" + user + "/conversations/" +
                                        std::to_string(conversation) + "/messages"));
    EXPECT_EQ(history.size(), 4u);
  }
  kgate::testfw::remove_temp_dir(dir);
}

TEST(ApiStartup, RefusesToStartWithoutASecret) {
  const std::string dir = kgate::testfw::make_temp_dir("todo-nosecret-");
  kgate::ProcessSpec spec;
  spec.program = TodoApp::binary_path();
  spec.args = {"--role", "api", "--port", "0"};
  spec.env_unset = {"BETTER_AUTH_SECRET", "JWKS_URL", "DATABASE_URL", "TODO_FAULTS"};
  spec.log_path = dir + "/log";
  kgate::ChildProcess process(spec);
  auto status = process.wait(std::chrono::seconds(10));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 2);
  EXPECT_NE(process.log_tail().find("BETTER_AUTH_SECRET"), std::string::npos) << process.log_tail();

  // --secret-env names another variable.
  spec.args = {"--role", "api", "--port", "0", "--secret-env", "MY_SECRET", "--version"};
  kgate::ChildProcess version(spec);
  ASSERT_EQ(version.wait(std::chrono::seconds(10)).value_or(-1), 0);
  EXPECT_NE(version.log_tail().find("todo-app 1.0.0"), std::string::npos);

  TodoAppOptions options;
  options.env = {{"MY_SECRET", "a-secret-from-elsewhere-123456"}};
  options.secret = "a-secret-from-elsewhere-123456";
  options.extra_args = {"--secret-env", "MY_SECRET"};
  TodoApp app(options);
  auto client = client_for(app.url(), "a-secret-from-elsewhere-123456", "zoe");
  EXPECT_EQ(client.get(tasks_path("zoe")).status, 200);
  kgate::testfw::remove_temp_dir(dir);
}

TEST(ApiStartup, RejectsBadArguments) {
  const std::string dir = kgate::testfw::make_temp_dir("todo-badargs-");
  const std::vector<std::vector<std::string>> bad = {
      {"--role", "db"},    {"--port", "70000"}, {"--database", "mysql://x"},
      {"--grace", "soon"}, {"--no-such-flag"},
  };
  for (const auto& args : bad) {
    kgate::ProcessSpec spec;
    spec.program = TodoApp::binary_path();
    spec.args = args;
    spec.env_set = {{"BETTER_AUTH_SECRET", "s3cret-s3cret-s3cret"}};
    spec.log_path = dir + "/log";
    kgate::ChildProcess process(spec);
    auto status = process.wait(std::chrono::seconds(10));
    ASSERT_TRUE(status) << args[0];
    EXPECT_EQ(*status, 2) << args[0] << ": " << process.log_tail();
  }
  kgate::testfw::remove_temp_dir(dir);
}

}  // namespace
}  // namespace apptest
