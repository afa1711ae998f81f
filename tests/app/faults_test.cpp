// Each fault switch of the api role breaks exactly the behaviour it names: the story shows the
// defect, then runs the contract battery with only that behaviour left out, so any collateral
// damage fails too.
#include <chrono>
#include <csignal>
#include <future>

#include <kgate/process.hpp>
#include <kgate/wait.hpp>

#include "support.hpp"

namespace apptest {
namespace {

using kgate::testfw::json_body;
using kgate::testfw::RawConnection;
namespace jwth = kgate::testfw;

enum Check : unsigned {
  kHealth = 1u << 0,           // /health 200 {"status":"healthy",...}
  kReady = 1u << 1,            // /ready 200
  kSecurityHeaders = 1u << 2,  // nosniff, DENY, CSP, no-referrer, no-store
  kServerHeader = 1u << 3,     // Server: todo-app, no X-Powered-By
  kAuthMissing = 1u << 4,      // no token -> 401
  kAuthAlgNone = 1u << 5,      // alg none -> 401
  kOwner = 1u << 6,            // token for another user -> 403
  kCrud = 1u << 7,             // create, read, delete
  kToggle = 1u << 8,           // PATCH .../complete flips completed
  kValidation = 1u << 9,       // title > 200 -> 422
  kBadJson = 1u << 10,         // malformed JSON -> 422
  kChat = 1u << 11,            // "Add a task to ..." calls add_task
  kCors = 1u << 12,            // unknown Origin gets no CORS headers
  kNoLeak = 1u << 13,          // errors carry no traceback or SQL
  kFast = 1u << 14,            // API answers promptly
  kNoDebugRoutes = 1u << 15,   // no /debug/* routes, none in /openapi.json
  kDefaultKey = 1u << 16,      // a token signed with the FastAPI tutorial key -> 401
  kHugeId = 1u << 17,          // a task id beyond int64 -> 404
  kRegister = 1u << 18,        // register, log in, use the token
  kAll = (1u << 19) - 1,
};

// The SECRET_KEY of the FastAPI docs' OAuth2/JWT tutorial.
constexpr const char* kTutorialKey =
    "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";

// The api contract, minus the checks in `skip`.
void expect_api_contract(const TodoApp& app, unsigned skip) {
  const std::string alice = fresh_user("alice");
  const std::string bob = fresh_user("bob");
  auto as_alice = client_for(app, alice);
  auto as_bob = client_for(app, bob);
  ApiClient anonymous(app.url());
  auto wants = [&](Check c) { return (skip & c) == 0; };

  if (wants(kHealth)) {
    SCOPED_TRACE("health");
    auto r = anonymous.get("/health");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(json_body(r), json({{"status", "healthy"}, {"version", "1.0.0"}}));
  }
  if (wants(kReady)) {
    SCOPED_TRACE("ready");
    EXPECT_EQ(anonymous.get("/ready").status, 200);
  }
  if (wants(kSecurityHeaders)) {
    SCOPED_TRACE("security headers");
    EXPECT_TRUE(has_api_security_headers(anonymous.get("/health")));
    EXPECT_TRUE(has_api_security_headers(anonymous.get("/nope")));
  }
  if (wants(kServerHeader)) {
    SCOPED_TRACE("server header");
    auto r = anonymous.get("/health");
    EXPECT_EQ(header(r, "Server"), "todo-app");
    EXPECT_FALSE(r.header("X-Powered-By"));
  }
  if (wants(kAuthMissing)) {
    SCOPED_TRACE("auth: missing and bad tokens");
    EXPECT_EQ(anonymous.get(tasks_path(alice)).status, 401);
    EXPECT_EQ(ApiClient(app.url(), jwth::sign_hs256(alice, "wrong-secret-wrong-secret"))
                  .get(tasks_path(alice))
                  .status,
              401);
    EXPECT_EQ(ApiClient(app.url(), jwth::expired_token(alice, app.secret()))
                  .get(tasks_path(alice))
                  .status,
              401);
  }
  if (wants(kAuthAlgNone)) {
    SCOPED_TRACE("auth: alg none");
    EXPECT_EQ(ApiClient(app.url(), jwth::alg_none_token(alice)).get(tasks_path(alice)).status, 401);
  }
  if (wants(kOwner)) {
    SCOPED_TRACE("owner check");
    EXPECT_EQ(as_bob.get(tasks_path(alice)).status, 403);
  }
  if (wants(kCrud)) {
    SCOPED_TRACE("crud");
    auto created = as_alice.post(tasks_path(alice), {{"title", "battery"}});
    ASSERT_EQ(created.status, 201) << created.body;
    const long long id = json_body(created)["id"];
    EXPECT_EQ(as_alice.get(task_path(alice, id)).status, 200);
    EXPECT_EQ(json_body(as_alice.get(tasks_path(alice))).size(), 1u);
    if (wants(kOwner)) {
      EXPECT_EQ(as_bob.get(task_path(bob, id)).status, 404);
    }
    if (wants(kToggle)) {
      SCOPED_TRACE("toggle");
      auto toggled = as_alice.patch(task_path(alice, id) + "/complete");
      ASSERT_EQ(toggled.status, 200);
      EXPECT_EQ(json_body(toggled)["completed"], true);
    }
    EXPECT_EQ(as_alice.del(task_path(alice, id)).status, 204);
    EXPECT_EQ(as_alice.get(task_path(alice, id)).status, 404);
  }
  if (wants(kValidation)) {
    SCOPED_TRACE("validation");
    EXPECT_EQ(as_alice.post(tasks_path(alice), {{"title", std::string(201, 'x')}}).status, 422);
    EXPECT_EQ(as_alice.post(tasks_path(alice), {{"title", ""}}).status, 422);
  }
  if (wants(kBadJson)) {
    SCOPED_TRACE("malformed json");
    EXPECT_EQ(as_alice.send("POST", tasks_path(alice), "{\"title\": ").status, 422);
  }
  if (wants(kChat)) {
    SCOPED_TRACE("chat");
    auto r = as_alice.post(chat_path(alice), {{"message", "Add a task to check the battery"}});
    ASSERT_EQ(r.status, 200) << r.body;
    auto calls = json_body(r)["tool_calls"];
    ASSERT_EQ(calls.size(), 1u) << r.body;
    EXPECT_EQ(calls[0]["tool"], "add_task");
    if (wants(kCrud)) as_alice.del(task_path(alice, calls[0]["result"]["task_id"]));
  }
  if (wants(kCors)) {
    SCOPED_TRACE("cors");
    auto r = anonymous.get("/health", {{"Origin", "https://evil.example"}});
    EXPECT_FALSE(r.header("Access-Control-Allow-Origin"));
  }
  if (wants(kNoLeak)) {
    SCOPED_TRACE("no leaks");
    for (const auto& r : {anonymous.get("/nope"), anonymous.get(tasks_path(alice))}) {
      EXPECT_EQ(r.body.find("Traceback"), std::string::npos) << r.body;
      EXPECT_EQ(r.body.find("SELECT"), std::string::npos) << r.body;
      EXPECT_EQ(r.body.find("/app/"), std::string::npos) << r.body;
    }
  }
  if (wants(kNoDebugRoutes)) {
    SCOPED_TRACE("no debug routes");
    EXPECT_EQ(anonymous.get("/debug/config").status, 404);
    EXPECT_EQ(anonymous.post("/debug/verify-token", {{"token", "x"}}).status, 404);
    auto doc = json_body(anonymous.get("/openapi.json"));
    EXPECT_FALSE(doc["paths"].contains("/debug/config")) << doc["paths"].dump();
  }
  if (wants(kDefaultKey)) {
    SCOPED_TRACE("the tutorial key is not a key");
    EXPECT_EQ(
        ApiClient(app.url(), jwth::sign_hs256(alice, kTutorialKey)).get(tasks_path(alice)).status,
        401);
  }
  if (wants(kHugeId)) {
    SCOPED_TRACE("a task id beyond int64");
    auto r = as_alice.get(tasks_path(alice) + "/99999999999999999999999");
    EXPECT_EQ(r.status, 404) << r.body;
  }
  if (wants(kRegister)) {
    SCOPED_TRACE("register and log in");
    const std::string email = fresh_user("battery") + "@example.com";
    auto registered = register_account(app.url(), email);
    ASSERT_EQ(registered.status, 201) << registered.body;
    auto login = json_login(app.url(), email);
    ASSERT_EQ(login.status, 200) << login.body;
    const std::string id = json_body(registered)["id"];
    auto listed = ApiClient(app.url(), json_body(login)["access_token"]).get(tasks_path(id));
    // The token is accepted; reading tasks needs the database the crud check vouches for.
    EXPECT_NE(listed.status, 401) << listed.body;
    if (wants(kCrud)) {
      EXPECT_EQ(listed.status, 200) << listed.body;
    }
  }
  if (wants(kFast)) {
    SCOPED_TRACE("latency");
    auto started = std::chrono::steady_clock::now();
    as_alice.get(tasks_path(alice));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(700));
  }
}

TodoApp start_with(std::vector<std::string> faults, std::map<std::string, std::string> env = {}) {
  TodoAppOptions options;
  options.faults = std::move(faults);
  options.env = std::move(env);
  return TodoApp(options);
}

TEST(Faults, BaselineWithoutFaultsPassesTheWholeBattery) {
  TodoApp app;
  expect_api_contract(app, 0);
  EXPECT_EQ(app.log().find("FAULTS ENABLED"), std::string::npos);
}

TEST(Faults, NoAuthLetsTokenlessRequestsActAsTheUrlUser) {
  TodoApp app = start_with({"no-auth"});
  ApiClient anonymous(app.url());
  auto created = anonymous.post(tasks_path("victim"), {{"title", "planted"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json_body(created)["user_id"], "victim");
  EXPECT_EQ(json_body(anonymous.get(tasks_path("victim"))).size(), 1u);
  EXPECT_EQ(ApiClient(app.url(), "garbage").get(tasks_path("victim")).status, 200);
  EXPECT_NE(app.log().find("FAULTS ENABLED: no-auth"), std::string::npos);
  expect_api_contract(app, kAuthMissing | kAuthAlgNone | kDefaultKey);
}

TEST(Faults, NoOwnerCheckLetsOneUserReachAnothersTasks) {
  TodoApp app = start_with({"no-owner-check"});
  auto as_alice = client_for(app, "alice");
  auto as_bob = client_for(app, "bob");
  auto task = create_task(as_alice, "alice", {{"title", "private"}});
  auto list = as_bob.get(tasks_path("alice"));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json_body(list).size(), 1u);
  auto through_own_url = as_bob.get(task_path("bob", task["id"]));
  ASSERT_EQ(through_own_url.status, 200);
  EXPECT_EQ(json_body(through_own_url)["title"], "private");
  EXPECT_EQ(as_bob.del(task_path("bob", task["id"])).status, 204);
  EXPECT_EQ(as_alice.get(task_path("alice", task["id"])).status, 404);
  expect_api_contract(app, kOwner);
}

TEST(Faults, AlgNoneAcceptsUnsignedTokens) {
  TodoApp app = start_with({"alg-none"});
  ApiClient unsigned_client(app.url(), jwth::alg_none_token("alice"));
  EXPECT_EQ(unsigned_client.get(tasks_path("alice")).status, 200);
  // Only "none" is the hole: a bad signature is still refused.
  EXPECT_EQ(ApiClient(app.url(), jwth::sign_hs256("alice", "wrong-secret-wrong-secret"))
                .get(tasks_path("alice"))
                .status,
            401);
  expect_api_contract(app, kAuthAlgNone);
}

TEST(Faults, SlowDelaysApiResponsesWithoutBlockingThreads) {
  TodoApp app = start_with({"slow"}, {{"TODO_FAULT_SLOW_MS", "800"}});
  auto client = client_for(app, "sloth");
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(client.get(tasks_path("sloth")).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(780));

  // Health stays fast: probes must not time out because of it.
  started = std::chrono::steady_clock::now();
  EXPECT_EQ(ApiClient(app.url()).get("/health").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));

  // More concurrent requests than I/O threads (4) still finish in about one delay: a timer
  // waits, not a sleeping thread.
  started = std::chrono::steady_clock::now();
  std::vector<std::future<int>> parallel;
  for (int i = 0; i < 12; ++i) {
    parallel.push_back(std::async(std::launch::async, [&] {
      return client_for(app, "sloth").get(tasks_path("sloth")).status;
    }));
  }
  for (auto& p : parallel) EXPECT_EQ(p.get(), 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2000));
  expect_api_contract(app, kFast);
}

TEST(Faults, Errors5xxFailsAShareOfApiRequests) {
  {
    TodoApp app = start_with({"errors-5xx"});
    auto client = client_for(app, "unlucky");
    int failures = 0;
    for (int i = 0; i < 100; ++i) {
      auto r = client.get(tasks_path("unlucky"));
      if (r.status == 500) {
        ++failures;
      } else {
        EXPECT_EQ(r.status, 200);
      }
    }
    // Default share 0.3: 30 expected; the bounds are more than four standard deviations away.
    EXPECT_GE(failures, 10);
    EXPECT_LE(failures, 55);
  }
  TodoApp app = start_with({"errors-5xx"}, {{"TODO_FAULT_ERROR_RATE", "1.0"}});
  auto client = client_for(app, "doomed");
  auto r = client.get(tasks_path("doomed"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json_body(r), json({{"detail", "Internal Server Error"}}));
  expect_api_contract(app, kAuthMissing | kAuthAlgNone | kOwner | kCrud | kToggle | kValidation |
                               kBadJson | kChat | kDefaultKey | kHugeId | kRegister);
}

TEST(Faults, LeakyErrorsRevealStackAndSql) {
  TodoApp app = start_with({"leaky-errors"});
  ApiClient anonymous(app.url());
  auto r = anonymous.get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("Traceback (most recent call last)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("/app/main.py"), std::string::npos);
  EXPECT_NE(r.body.find("SELECT * FROM task"), std::string::npos);
  EXPECT_NE(anonymous.get(tasks_path("x")).body.find("sqlalchemy"), std::string::npos);
  EXPECT_EQ(header(r, "Server"), "uvicorn/0.27.0 Python/3.11.7");
  EXPECT_EQ(header(r, "X-Powered-By"), "FastAPI/0.109.0");
  // Successful answers keep their shape.
  EXPECT_EQ(json_body(anonymous.get("/health")),
            json({{"status", "healthy"}, {"version", "1.0.0"}}));
  expect_api_contract(app, kNoLeak | kServerHeader);
}

TEST(Faults, NoSecurityHeadersDropsThem) {
  TodoApp app = start_with({"no-security-headers"});
  auto client = client_for(app, "bare");
  EXPECT_TRUE(has_no_security_headers(client.get(tasks_path("bare"))));
  EXPECT_TRUE(has_no_security_headers(client.get("/health")));
  EXPECT_TRUE(has_no_security_headers(ApiClient(app.url()).get(tasks_path("bare"))));
  expect_api_contract(app, kSecurityHeaders);
}

TEST(Faults, PermissiveCorsReflectsAnyOrigin) {
  TodoApp app = start_with({"permissive-cors"});
  auto client = client_for(app, "open");
  auto r = client.get(tasks_path("open"), {{"Origin", "https://evil.example"}});
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "https://evil.example");
  EXPECT_EQ(header(r, "Access-Control-Allow-Credentials"), "true");
  auto preflight = ApiClient(app.url()).send(
      "OPTIONS", tasks_path("open"), {},
      {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "DELETE"}});
  EXPECT_LT(preflight.status, 300);
  EXPECT_EQ(header(preflight, "Access-Control-Allow-Origin"), "https://evil.example");
  expect_api_contract(app, kCors);
}

TEST(Faults, LyingHealthSaysHealthyWhileTheDatabaseFails) {
  TodoApp app = start_with({"lying-health"});
  ApiClient anonymous(app.url());
  EXPECT_EQ(anonymous.get("/health").status, 200);
  EXPECT_EQ(anonymous.get("/ready").status, 200);
  auto client = client_for(app, "liar");
  auto list = client.get(tasks_path("liar"));
  EXPECT_EQ(list.status, 500);
  EXPECT_EQ(json_body(list), json({{"detail", "Internal Server Error"}}));
  EXPECT_EQ(client.post(tasks_path("liar"), {{"title", "lost"}}).status, 500);
  EXPECT_EQ(client.post(chat_path("liar"), {{"message", "hi"}}).status, 500);
  expect_api_contract(app, kCrud | kToggle | kChat);
}

TEST(Faults, BadHealthBodyAnswersStarting) {
  TodoApp app = start_with({"bad-health-body"});
  auto r = ApiClient(app.url()).get("/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json_body(r), json({{"status", "starting"}}));
  expect_api_contract(app, kHealth);
}

TEST(Faults, BrokenToggleAnswers200WithoutToggling) {
  TodoApp app = start_with({"broken-toggle"});
  auto client = client_for(app, "stuck");
  auto task = create_task(client, "stuck", {{"title", "never done"}});
  auto r = client.patch(task_path("stuck", task["id"]) + "/complete");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json_body(r)["completed"], false);
  EXPECT_EQ(json_body(client.get(task_path("stuck", task["id"])))["completed"], false);
  // PUT still changes completed: only the toggle is broken.
  EXPECT_EQ(
      json_body(client.put(task_path("stuck", task["id"]), {{"completed", true}}))["completed"],
      true);
  expect_api_contract(app, kToggle);
}

TEST(Faults, ChatNoToolNeverCallsATool) {
  TodoApp app = start_with({"chat-no-tool"});
  auto client = client_for(app, "talker");
  auto r = client.post(chat_path("talker"), {{"message", "Add a task to buy milk"}});
  ASSERT_EQ(r.status, 200);
  auto reply = json_body(r);
  EXPECT_TRUE(reply["tool_calls"].empty());
  EXPECT_FALSE(reply["response"].get<std::string>().empty());
  EXPECT_TRUE(reply["conversation_id"].is_number_integer());
  EXPECT_EQ(json_body(client.get(tasks_path("talker"))), json::array());
  expect_api_contract(app, kChat);
}

TEST(Faults, NoValidationAcceptsOversizedFields) {
  TodoApp app = start_with({"no-validation"});
  auto client = client_for(app, "lax");
  EXPECT_EQ(client.post(tasks_path("lax"), {{"title", std::string(5000, 't')}}).status, 201);
  EXPECT_EQ(client.post(tasks_path("lax"), {{"title", ""}}).status, 201);
  EXPECT_EQ(
      client.post(tasks_path("lax"), {{"title", "big"}, {"description", std::string(500000, 'd')}})
          .status,
      201);
  // Types are still checked: only the length limits are gone.
  EXPECT_EQ(client.post(tasks_path("lax"), {{"title", 42}}).status, 422);
  expect_api_contract(app, kValidation);
}

TEST(Faults, CrashOnBadJsonAnswers500) {
  TodoApp app = start_with({"crash-on-bad-json"});
  auto client = client_for(app, "crashy");
  EXPECT_EQ(client.send("POST", tasks_path("crashy"), "{\"title\": ").status, 500);
  EXPECT_EQ(client.send("POST", chat_path("crashy"), "not json").status, 500);
  // Well-formed JSON with wrong fields is still a 422.
  EXPECT_EQ(client.post(tasks_path("crashy"), {{"title", 42}}).status, 422);
  expect_api_contract(app, kBadJson);
}

TEST(Faults, SeveralFaultsCombineAndComeFromTheEnvironmentToo) {
  TodoAppOptions options;
  options.faults = {"broken-toggle"};
  options.env = {{"TODO_FAULTS", "bad-health-body,chat-no-tool"}};
  TodoApp app(options);
  EXPECT_EQ(json_body(ApiClient(app.url()).get("/health"))["status"], "starting");
  auto client = client_for(app, "multi");
  EXPECT_TRUE(
      json_body(client.post(chat_path("multi"), {{"message", "Add a task to x"}}))["tool_calls"]
          .empty());
  expect_api_contract(app, kHealth | kChat | kToggle);
}

TEST(Faults, DebugRoutesGiveAnyoneKeyMaterialAndATokenOracle) {
  TodoApp app = start_with({"debug-routes"});
  ApiClient anonymous(app.url());
  auto config = anonymous.get("/debug/config");
  ASSERT_EQ(config.status, 200) << config.body;
  auto leaked = json_body(config);
  const std::string& secret = app.secret();
  EXPECT_EQ(leaked["secret_key_length"], secret.size());
  EXPECT_EQ(leaked["secret_key_first_chars"], secret.substr(0, 4));
  EXPECT_EQ(leaked["secret_key_last_chars"], secret.substr(secret.size() - 4));
  const std::string database_url = leaked["database_url"];
  EXPECT_NE(database_url.find(":Tod0-Db-Passw0rd@"), std::string::npos) << database_url;

  // The oracle checks any token with the app's key, for anyone.
  auto verified =
      anonymous.post("/debug/verify-token", {{"token", jwth::sign_hs256("alice", secret)}});
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(json_body(verified)["valid"], true);
  EXPECT_EQ(json_body(verified)["claims"]["sub"], "alice");
  auto forged = anonymous.post("/debug/verify-token",
                               {{"token", jwth::sign_hs256("alice", "not-the-key-not-the-key")}});
  EXPECT_EQ(json_body(forged)["valid"], false);
  EXPECT_EQ(anonymous.post("/debug/verify-token", json::object()).status, 422);

  // Both are published, without a security requirement.
  auto paths = json_body(anonymous.get("/openapi.json"))["paths"];
  ASSERT_TRUE(paths.contains("/debug/config")) << paths.dump();
  EXPECT_FALSE(paths["/debug/config"]["get"].contains("security"));
  ASSERT_TRUE(paths.contains("/debug/verify-token"));
  EXPECT_FALSE(paths["/debug/verify-token"]["post"].contains("security"));
  expect_api_contract(app, kNoDebugRoutes);
}

TEST(Faults, DefaultSecretAcceptsTheTutorialKey) {
  TodoApp app = start_with({"default-secret"});
  ApiClient forger(app.url(), jwth::sign_hs256("victim", kTutorialKey));
  auto created = forger.post(tasks_path("victim"), {{"title", "forged"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json_body(forger.get(tasks_path("victim"))).size(), 1u);
  // Only that published key: other wrong keys are still refused, the real one still works.
  EXPECT_EQ(ApiClient(app.url(), jwth::sign_hs256("victim", "a-key-nobody-published-12345"))
                .get(tasks_path("victim"))
                .status,
            401);
  EXPECT_EQ(client_for(app, "victim").get(tasks_path("victim")).status, 200);
  expect_api_contract(app, kDefaultKey);
}

TEST(Faults, BytesErrorAnswers500ForBodiesThatAreNotJson) {
  TodoApp app = start_with({"bytes-error"});
  auto client = client_for(app, "formy");
  const json expected = {{"type", "TypeError"},
                         {"message", "Object of type bytes is not JSON serializable"}};
  const kgate::http::Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  auto r = client.send("POST", tasks_path("formy"), "title=from+a+form", form);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json_body(r), expected);
  EXPECT_EQ(json_body(client.send("POST", tasks_path("formy"), "{\"title\": ")), expected);
  EXPECT_EQ(client.send("POST", chat_path("formy"), "message=hi", form).status, 500);
  auto task = create_task(client, "formy", {{"title", "json works"}});
  EXPECT_EQ(client.send("PUT", task_path("formy", task["id"]), "completed=true", form).status, 500);
  EXPECT_EQ(ApiClient(app.url()).send("POST", "/api/auth/register", "email=a%40b.c", form).status,
            500);
  // JSON with wrong fields, an empty body and a missing token keep their answers.
  EXPECT_EQ(client.post(tasks_path("formy"), {{"title", 42}}).status, 422);
  EXPECT_EQ(client.send("POST", tasks_path("formy"), "").status, 422);
  EXPECT_EQ(ApiClient(app.url()).send("POST", tasks_path("formy"), "title=x", form).status, 401);
  expect_api_contract(app, kBadJson);
}

TEST(Faults, IntOverflowAnswers500ForIdsBeyondInt64) {
  TodoApp app = start_with({"int-overflow"});
  auto client = client_for(app, "big");
  const std::string huge = tasks_path("big") + "/99999999999999999999999";
  for (const auto& r : {client.get(huge), client.send("PUT", huge, R"({"title":"x"})"),
                        client.del(huge), client.patch(huge + "/complete")}) {
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("OverflowError: Python int too large to convert to C long"),
              std::string::npos)
        << r.body;
  }
  // Ids that fit, and ids that are no number at all, keep their answers.
  EXPECT_EQ(client.get(tasks_path("big") + "/123456").status, 404);
  EXPECT_EQ(client.get(tasks_path("big") + "/-1").status, 404);
  EXPECT_EQ(client.get(tasks_path("big") + "/abc").status, 422);
  expect_api_contract(app, kHugeId);
}

TEST(Faults, BrokenRegisterAnswers500AndCreatesNoAccount) {
  TodoApp app = start_with({"broken-register"});
  auto r = register_account(app.url(), "nobody@example.com");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json_body(r), json({{"detail", "Internal Server Error"}}));
  EXPECT_EQ(json_login(app.url(), "nobody@example.com").status, 401);
  // Minted tokens still work: only registration is broken.
  expect_api_contract(app, kRegister);
}

TEST(Faults, Auth500AnswersServerErrorsForBadTokens) {
  TodoApp app = start_with({"auth-500"});
  const std::string user = "crashy";
  ApiClient anonymous(app.url());
  for (const auto& [name, token] : std::vector<std::pair<std::string, std::string>>{
           {"no token", ""},
           {"garbage", "abc"},
           {"wrong secret", jwth::sign_hs256(user, "another-secret-entirely-000000")},
           {"expired", jwth::expired_token(user, app.secret())}}) {
    auto r = ApiClient(app.url(), token).get(tasks_path(user));
    EXPECT_EQ(r.status, 500) << name;
    EXPECT_EQ(json_body(r), json({{"detail", "Internal Server Error"}})) << name;
  }
  // A good token still works, another user's good token is still 403.
  EXPECT_EQ(client_for(app, user).get(tasks_path(user)).status, 200);
  EXPECT_EQ(client_for(app, "other").get(tasks_path(user)).status, 403);
  expect_api_contract(app, kAuthMissing | kAuthAlgNone | kDefaultKey);
}

TEST(Faults, CreateFailsAnswers500AndStoresNothing) {
  TodoApp app = start_with({"create-fails"});
  auto client = client_for(app, "maker");
  auto r = client.post(tasks_path("maker"), {{"title", "never stored"}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json_body(r), json({{"detail", "Internal Server Error"}}));
  EXPECT_EQ(json_body(client.get(tasks_path("maker"))), json::array());
  EXPECT_EQ(client.post(tasks_path("maker"), {{"title", ""}}).status, 422);  // validated first
  // The chat agent's add_task does not go through the endpoint.
  auto chat = client.post(chat_path("maker"), {{"message", "Add a task to try the chat"}});
  ASSERT_EQ(chat.status, 200);
  EXPECT_EQ(json_body(client.get(tasks_path("maker"))).size(), 1u);
  expect_api_contract(app, kCrud | kToggle);
}

TEST(Faults, DeleteFailsAnswers500AndDeletesNothing) {
  TodoApp app = start_with({"delete-fails"});
  auto client = client_for(app, "keeper");
  auto task = create_task(client, "keeper", {{"title", "undeletable"}});
  auto r = client.del(task_path("keeper", task["id"]));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json_body(r), json({{"detail", "Internal Server Error"}}));
  EXPECT_EQ(client.get(task_path("keeper", task["id"])).status, 200);
  EXPECT_EQ(client.del(task_path("keeper", 987654321)).status, 404);
  expect_api_contract(app, kCrud);
}

TEST(Faults, NoGracefulShutdownDropsWhatIsInFlight) {
  TodoAppOptions options;
  options.faults = {"no-graceful-shutdown"};
  options.extra_args = {"--grace", "10s"};
  TodoApp app(options);
  expect_api_contract(app, 0);

  // An idle keep-alive connection and a request whose body is still arriving.
  RawConnection idle(app.port());
  idle.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(idle.read_response());
  RawConnection uploading(app.port());
  const std::string body = R"({"title":"half sent"})";
  uploading.send("POST " + tasks_path("u") + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                 jwth::sign_hs256("u", app.secret()) +
                 "\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 5));
  auto started = std::chrono::steady_clock::now();
  app.process().signal(SIGTERM);
  auto status = app.process().wait(std::chrono::seconds(5));
  ASSERT_TRUE(status) << "still running after SIGTERM";
  EXPECT_EQ(*status, 143);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_TRUE(idle.closed_by_peer(std::chrono::seconds(1)));
  try {
    uploading.send(body.substr(5));
  } catch (const std::exception&) {
    // Writing to the dead process may already fail: the request is lost either way.
  }
  EXPECT_FALSE(uploading.read_response(std::chrono::seconds(1)));
  EXPECT_NE(app.log().find("no-graceful-shutdown"), std::string::npos);
}

TEST(Faults, LyingReadinessSaysReadyWhileTheApiAnswers503) {
  const auto launched = std::chrono::steady_clock::now();
  TodoApp app = start_with({"lying-readiness"}, {{"TODO_FAULT_WARMUP_MS", "4000"}});
  ApiClient anonymous(app.url());
  auto client = client_for(app, "early");
  EXPECT_EQ(anonymous.get("/ready").status, 200);
  EXPECT_EQ(anonymous.get("/health").status, 200);
  auto early = client.get(tasks_path("early"));
  EXPECT_EQ(early.status, 503) << early.body;
  EXPECT_EQ(register_account(app.url(), "early@example.com").status, 503);
  auto serving = kgate::wait_until(
      [&](std::string* why) {
        auto status = client.get(tasks_path("early")).status;
        *why = "answered " + std::to_string(status);
        return status == 200;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(100));
  ASSERT_TRUE(serving.ok) << serving.last_error;
  EXPECT_GE(std::chrono::steady_clock::now() - launched, std::chrono::milliseconds(4000));
  expect_api_contract(app, 0);
}

TEST(Faults, StateInMemoryKeepsTasksOutOfTheDatabase) {
  const std::string dir = kgate::testfw::make_temp_dir("todo-memory-");
  TodoAppOptions options;
  options.database = "sqlite:///" + dir.substr(1) + "/todo.db";
  options.faults = {"state-in-memory"};
  const std::string user = "forgetful";
  long long conversation = 0;
  {
    TodoApp app(options);
    expect_api_contract(app, 0);
    auto client = client_for(app, user);
    auto task = create_task(client, user, {{"title", "gone after a restart"}});
    EXPECT_EQ(client.get(task_path(user, task["id"])).status, 200);
    auto chat = client.post(chat_path(user), {{"message", "Add a task to remember this"}});
    ASSERT_EQ(chat.status, 200);
    conversation = json_body(chat)["conversation_id"];
    EXPECT_EQ(json_body(client.get(tasks_path(user))).size(), 2u);

    // The database it was given holds none of it: a correct app on the same file sees nothing.
    TodoAppOptions honest_options = options;
    honest_options.faults.clear();
    TodoApp honest(honest_options);
    EXPECT_EQ(json_body(client_for(honest, user).get(tasks_path(user))), json::array());
    EXPECT_EQ(app.stop(), 0);
  }
  TodoApp restarted(options);
  auto client = client_for(restarted, user);
  EXPECT_EQ(json_body(client.get(tasks_path(user))), json::array());
  EXPECT_EQ(
      client.post(chat_path(user), {{"conversation_id", conversation}, {"message", "hi"}}).status,
      404);
  kgate::testfw::remove_temp_dir(dir);
}

TEST(Faults, UnreadyNewPodsRefusesAStorageTheReplicasCannotShare) {
  const std::string dir = kgate::testfw::make_temp_dir("todo-unready-");
  kgate::ProcessSpec spec;
  spec.program = TodoApp::binary_path();
  spec.args = {"--port", "0", "--fault", "unready-new-pods"};
  spec.env_set = {{"BETTER_AUTH_SECRET", "s3cret-s3cret-s3cret"}};
  spec.log_path = dir + "/log";
  kgate::ChildProcess process(spec);
  EXPECT_EQ(process.wait(std::chrono::seconds(10)).value_or(-1), 2);
  EXPECT_NE(process.log_tail().find("unready-new-pods fault needs a postgresql://"),
            std::string::npos)
      << process.log_tail();
  kgate::testfw::remove_temp_dir(dir);
}

// The web role's faults (no-proxy, broken-page, and bad-health-body on /api/health) are in
// web_test.cpp, next to the api + web pair they need.

TEST(FaultNames, UnknownFaultRefusesToStartAndListsValidNames) {
  const std::string dir = kgate::testfw::make_temp_dir("todo-badfault-");
  kgate::ProcessSpec spec;
  spec.program = TodoApp::binary_path();
  spec.args = {"--port", "0", "--fault", "no-auth", "--fault", "make-it-rain"};
  spec.env_set = {{"BETTER_AUTH_SECRET", "s3cret-s3cret-s3cret"}};
  spec.log_path = dir + "/log";
  kgate::ChildProcess process(spec);
  auto status = process.wait(std::chrono::seconds(10));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 2);
  auto log = process.log_tail();
  EXPECT_NE(log.find("make-it-rain"), std::string::npos) << log;
  for (const char* name : {"no-auth",
                           "no-owner-check",
                           "alg-none",
                           "slow",
                           "errors-5xx",
                           "leaky-errors",
                           "no-security-headers",
                           "permissive-cors",
                           "lying-health",
                           "bad-health-body",
                           "broken-toggle",
                           "chat-no-tool",
                           "no-proxy",
                           "broken-page",
                           "no-validation",
                           "crash-on-bad-json",
                           "rate-limit",
                           "no-signature-check",
                           "no-expiry-check",
                           "lax-token-source",
                           "mass-assignment",
                           "no-body-limit",
                           "sql-injection",
                           "debug-routes",
                           "default-secret",
                           "bytes-error",
                           "int-overflow",
                           "broken-register",
                           "auth-500",
                           "create-fails",
                           "delete-fails",
                           "no-graceful-shutdown",
                           "lying-readiness",
                           "state-in-memory",
                           "unready-new-pods"}) {
    EXPECT_NE(log.find(name), std::string::npos) << name;
  }

  spec.args = {"--port", "0"};
  spec.env_set["TODO_FAULTS"] = "bogus";
  kgate::ChildProcess from_env(spec);
  EXPECT_EQ(from_env.wait(std::chrono::seconds(10)).value_or(-1), 2);
  kgate::testfw::remove_temp_dir(dir);
}

}  // namespace
}  // namespace apptest
