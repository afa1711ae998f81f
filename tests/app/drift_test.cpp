// Drift options: each makes the api differ from the contract the way an independently written
// backend did, while staying correct. Every story shows the difference, that the rest still
// works, and where it helps the contract's behaviour on an app without the option.
#include <cctype>
#include <regex>
#include <set>

#include <kgate/process.hpp>
#include <kgate/wait.hpp>

#include "support.hpp"

namespace apptest {
namespace {

using kgate::testfw::json_body;
namespace jwth = kgate::testfw;

TodoApp start_with(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  TodoAppOptions options;
  options.extra_args = std::move(args);
  options.env = std::move(env);
  return TodoApp(options);
}

bool is_uuid_v4(const std::string& text) {
  static const std::regex uuid(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(text, uuid);
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// --- --user-id-format uuid ---------------------------------------------------------------------

TEST(Drift, UserIdFormatUuidGivesUuidIdsAndRefusesOtherIds) {
  TodoApp app = start_with({"--user-id-format", "uuid"});
  auto registered = register_account(app.url(), "uuid-user@example.com");
  ASSERT_EQ(registered.status, 201) << registered.body;
  const std::string id = json_body(registered)["id"];
  EXPECT_TRUE(is_uuid_v4(id)) << id;
  auto login = json_login(app.url(), "uuid-user@example.com");
  ASSERT_EQ(login.status, 200) << login.body;
  ApiClient owner(app.url(), json_body(login)["access_token"]);

  auto created = owner.post(tasks_path(id), {{"title", "owned by a UUID"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json_body(created)["user_id"], id);
  // UUIDs are values: another spelling of the same id is the same user.
  auto listed = owner.get(tasks_path(upper(id)));
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(json_body(listed).size(), 1u);

  // A path user id that is not a UUID: FastAPI's path validation answers 422.
  auto as_alice = client_for(app, "alice");
  auto bad_path = as_alice.get(tasks_path("alice"));
  ASSERT_EQ(bad_path.status, 422) << bad_path.body;
  EXPECT_EQ(json_body(bad_path)["detail"][0]["type"], "uuid_parsing");
  EXPECT_EQ(json_body(bad_path)["detail"][0]["loc"], json::array({"path", "user_id"}));
  // A UUID path with a token whose subject is not one.
  auto bad_subject = as_alice.get(tasks_path(id));
  ASSERT_EQ(bad_subject.status, 422) << bad_subject.body;
  EXPECT_EQ(json_body(bad_subject)["detail"][0]["loc"], json::array({"token", "sub"}));
  // Authentication still comes first, and another UUID user is still refused.
  EXPECT_EQ(ApiClient(app.url()).get(tasks_path("alice")).status, 401);
  const std::string stranger = "0b7e5e0c-2f0a-4c1e-9a51-3d1c3c0f4a11";
  EXPECT_EQ(client_for(app, stranger).get(tasks_path(id)).status, 403);
  EXPECT_EQ(client_for(app, stranger).get(tasks_path(stranger)).status, 200);

  // The web role's Better Auth gives UUID ids too.
  TodoAppOptions web_options;
  web_options.role = "web";
  web_options.extra_args = {"--user-id-format", "uuid"};
  TodoApp web(web_options);
  auto signed_up = sign_up(web.url(), "web-uuid@example.com");
  ASSERT_EQ(signed_up.status, 200) << signed_up.body;
  EXPECT_TRUE(is_uuid_v4(json_body(signed_up)["user"]["id"])) << signed_up.body;

  // Without the option any string is a user id, and ids are Better Auth's 32 characters.
  TodoApp plain;
  EXPECT_EQ(client_for(plain, "alice").get(tasks_path("alice")).status, 200);
  auto plain_id = json_body(register_account(plain.url(), "plain@example.com"))["id"];
  EXPECT_FALSE(is_uuid_v4(plain_id)) << plain_id;
}

// --- --login-form ------------------------------------------------------------------------------

TEST(Drift, LoginFormTakesTheOAuth2PasswordForm) {
  TodoApp app = start_with({"--login-form"});
  auto registered = register_account(app.url(), "form@example.com", "pass word+&=ok");
  ASSERT_EQ(registered.status, 201) << registered.body;
  const std::string id = json_body(registered)["id"];

  auto login = form_login(
      app.url(), "grant_type=password&username=form%40example.com&password=pass+word%2B%26%3Dok");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(json_body(login)["token_type"], "bearer");
  ApiClient owner(app.url(), json_body(login)["access_token"]);
  EXPECT_EQ(owner.get(tasks_path(id)).status, 200);

  // A JSON login is a form without fields: both are missing.
  auto json_attempt = json_login(app.url(), "form@example.com", "pass word+&=ok");
  ASSERT_EQ(json_attempt.status, 422) << json_attempt.body;
  auto detail = json_body(json_attempt)["detail"];
  ASSERT_EQ(detail.size(), 2u) << json_attempt.body;
  EXPECT_EQ(detail[0]["loc"], json::array({"body", "username"}));
  EXPECT_EQ(detail[1]["loc"], json::array({"body", "password"}));
  EXPECT_EQ(detail[0]["type"], "missing");

  auto missing = form_login(app.url(), "username=form%40example.com");
  ASSERT_EQ(missing.status, 422);
  ASSERT_EQ(json_body(missing)["detail"].size(), 1u);
  EXPECT_EQ(json_body(missing)["detail"][0]["loc"], json::array({"body", "password"}));
  EXPECT_EQ(form_login(app.url(), "username=form%40example.com&password=wrong").status, 401);

  // The contract's JSON login, and a form refused, without the option.
  TodoApp plain;
  ASSERT_EQ(register_account(plain.url(), "json@example.com").status, 201);
  EXPECT_EQ(json_login(plain.url(), "json@example.com").status, 200);
  EXPECT_EQ(
      form_login(plain.url(), "username=json%40example.com&password=a+long+enough+password").status,
      400);
}

// --- --email-policy strict ---------------------------------------------------------------------

TEST(Drift, EmailPolicyStrictRefusesSpecialUseDomains) {
  TodoApp app = start_with({}, {{"TODO_EMAIL_POLICY", "strict"}});
  for (const std::string email :
       {"alice@kgate.test", "bob@example", "carol@mail.example", "dave@nowhere.invalid",
        "erin@box.localhost", "frank@host.local"}) {
    auto r = register_account(app.url(), email);
    ASSERT_EQ(r.status, 422) << email << ": " << r.body;
    auto error = json_body(r)["detail"][0];
    EXPECT_EQ(error["loc"], json::array({"body", "email"})) << r.body;
    EXPECT_EQ(error["type"], "value_error");
    EXPECT_EQ(error["input"], email);
    if (email != "bob@example") {
      EXPECT_NE(error["msg"].get<std::string>().find(
                    "The part after the @-sign is a special-use or reserved name that cannot be "
                    "used with email."),
                std::string::npos)
          << r.body;
    }
    // Nothing was created.
    EXPECT_EQ(json_login(app.url(), email).status, 401) << email;
  }
  auto no_at = register_account(app.url(), "nobody");
  ASSERT_EQ(no_at.status, 422);
  EXPECT_NE(json_body(no_at)["detail"][0]["msg"].get<std::string>().find("@-sign"),
            std::string::npos);
  for (const std::string email : {"ok@example.com", "ok@sub.example.org", "ok@testing.dev"}) {
    EXPECT_EQ(register_account(app.url(), email).status, 201) << email;
    EXPECT_EQ(json_login(app.url(), email).status, 200) << email;
  }

  TodoApp plain;
  EXPECT_EQ(register_account(plain.url(), "alice@kgate.test").status, 201);
}

// --- --require-registered-users ----------------------------------------------------------------

TEST(Drift, RequireRegisteredUsersFailsLikeAForeignKey) {
  const std::string dir = kgate::testfw::make_temp_dir("todo-fk-");
  TodoAppOptions api_options;
  api_options.database = "sqlite:///" + dir.substr(1) + "/todo.db";
  api_options.extra_args = {"--require-registered-users"};
  TodoApp api(api_options);

  // A valid token for a user the app never registered: reads find nothing, writes fail as an
  // INSERT against a foreign key does, with a generic body.
  const std::string ghost = "ghost";
  auto as_ghost = client_for(api, ghost);
  auto refused = as_ghost.post(tasks_path(ghost), {{"title", "orphan"}});
  EXPECT_EQ(refused.status, 500);
  EXPECT_EQ(json_body(refused), json({{"detail", "Internal Server Error"}}));
  EXPECT_EQ(as_ghost.post(chat_path(ghost), {{"message", "Add a task to haunt"}}).status, 500);
  auto listed = as_ghost.get(tasks_path(ghost));
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(json_body(listed), json::array());
  EXPECT_EQ(as_ghost.get(task_path(ghost, 1)).status, 404);
  EXPECT_NE(api.log().find("FOREIGN KEY constraint failed"), std::string::npos) << api.log();

  // Registering creates the row: a token minted for that id then works.
  auto registered = register_account(api.url(), "member@example.com");
  ASSERT_EQ(registered.status, 201) << registered.body;
  const std::string member = json_body(registered)["id"];
  auto as_member = client_for(api, member);
  auto task = create_task(as_member, member, {{"title", "registered first"}});
  EXPECT_EQ(task["user_id"], member);
  EXPECT_EQ(as_member.post(chat_path(member), {{"message", "Show me all my tasks"}}).status, 200);

  // The frontend's Better Auth sign-up writes the same users table (one database, as deployed).
  TodoAppOptions web_options;
  web_options.role = "web";
  web_options.database = api_options.database;
  web_options.backend_url = api.url();
  web_options.extra_args = {"--require-registered-users"};
  TodoApp web(web_options);
  auto signed_up = sign_up(web.url(), "browser@example.com");
  ASSERT_EQ(signed_up.status, 200) << signed_up.body;
  const std::string browser = json_body(signed_up)["user"]["id"];
  auto via_web = client_for(web.url(), api.secret(), browser);
  EXPECT_EQ(via_web.post(tasks_path(browser), {{"title", "signed up on the web"}}).status, 201);

  // With leaky-errors the body names the constraint, as an unhandled IntegrityError would.
  api_options.faults = {"leaky-errors"};
  TodoApp leaky(api_options);
  auto leaked = client_for(leaky, "ghost-2").post(tasks_path("ghost-2"), {{"title", "orphan"}});
  EXPECT_EQ(leaked.status, 500);
  EXPECT_NE(leaked.body.find("IntegrityError"), std::string::npos) << leaked.body;
  EXPECT_NE(leaked.body.find("FOREIGN KEY constraint failed"), std::string::npos) << leaked.body;
  kgate::testfw::remove_temp_dir(dir);
}

// --- --task-schema status ----------------------------------------------------------------------

TEST(Drift, TaskSchemaStatusReplacesCompletedAndCompleteSets) {
  TodoApp app = start_with({"--task-schema", "status"});
  const std::string user = fresh_user("status");
  auto client = client_for(app, user);
  auto task = create_task(client, user, {{"title", "a status task"}});
  EXPECT_EQ(task["status"], "pending");
  EXPECT_FALSE(task.contains("completed")) << task.dump();
  const long long id = task["id"];
  auto done_at_birth = create_task(client, user, {{"title", "born done"}, {"status", "completed"}});
  EXPECT_EQ(done_at_birth["status"], "completed");

  // Complete sets; a second call keeps it completed.
  for (int i = 0; i < 2; ++i) {
    auto r = client.patch(task_path(user, id) + "/complete");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json_body(r)["status"], "completed") << "call " << i;
    EXPECT_FALSE(json_body(r).contains("completed"));
  }
  auto reopened = client.put(task_path(user, id), {{"status", "pending"}});
  ASSERT_EQ(reopened.status, 200) << reopened.body;
  EXPECT_EQ(json_body(reopened)["status"], "pending");
  auto bad = client.put(task_path(user, id), {{"status", "done"}});
  ASSERT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(json_body(bad)["detail"][0]["loc"], json::array({"body", "status"}));
  // `completed` is an unknown field here: ignored, like any other.
  auto ignored = client.put(task_path(user, id), {{"completed", true}});
  ASSERT_EQ(ignored.status, 200);
  EXPECT_EQ(json_body(ignored)["status"], "pending");

  auto completed = json_body(client.get(tasks_path(user) + "?status=completed"));
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0]["title"], "born done");
  EXPECT_EQ(json_body(client.get(task_path(user, id)))["status"], "pending");

  // The contract's app toggles.
  TodoApp plain;
  auto plain_client = client_for(plain, user);
  auto plain_task = create_task(plain_client, user, {{"title", "toggles"}});
  plain_client.patch(task_path(user, plain_task["id"]) + "/complete");
  EXPECT_EQ(
      json_body(plain_client.patch(task_path(user, plain_task["id"]) + "/complete"))["completed"],
      false);
}

// --- --title-max / --description-max -----------------------------------------------------------

TEST(Drift, TitleAndDescriptionLimitsAreTheAppsOwn) {
  TodoApp app = start_with({"--title-max", "50", "--description-max", "100"});
  const std::string user = fresh_user("limits");
  auto client = client_for(app, user);
  create_task(client, user,
              {{"title", std::string(50, 't')}, {"description", std::string(100, 'd')}});
  auto long_title = client.post(tasks_path(user), {{"title", std::string(51, 't')}});
  ASSERT_EQ(long_title.status, 422) << long_title.body;
  EXPECT_EQ(json_body(long_title)["detail"][0]["ctx"]["max_length"], 50);
  auto long_description =
      client.post(tasks_path(user), {{"title", "ok"}, {"description", std::string(101, 'd')}});
  ASSERT_EQ(long_description.status, 422);
  EXPECT_EQ(json_body(long_description)["detail"][0]["ctx"]["max_length"], 100);
  auto task = json_body(client.get(tasks_path(user)))[0];
  EXPECT_EQ(client.put(task_path(user, task["id"]), {{"title", std::string(51, 't')}}).status, 422);
  // The chat agent keeps to the same limit.
  auto chat = client.post(chat_path(user), {{"message", "Add a task to " + std::string(60, 'x')}});
  ASSERT_EQ(chat.status, 200);
  EXPECT_TRUE(json_body(chat)["tool_calls"].empty()) << chat.body;
  EXPECT_NE(json_body(chat)["response"].get<std::string>().find("50"), std::string::npos);
  EXPECT_EQ(json_body(client.get(tasks_path(user))).size(), 1u);

  // Larger than the contract's 200 too, from the environment.
  TodoApp roomy = start_with({}, {{"TODO_TITLE_MAX", "300"}});
  auto roomy_client = client_for(roomy, user);
  EXPECT_EQ(roomy_client.post(tasks_path(user), {{"title", std::string(250, 't')}}).status, 201);
  EXPECT_EQ(roomy_client.post(tasks_path(user), {{"title", std::string(301, 't')}}).status, 422);
}

// --- --chat-reply text -------------------------------------------------------------------------

TEST(Drift, ChatReplyTextAnswersOnlyTheResponse) {
  TodoApp app = start_with({"--chat-reply", "text"});
  const std::string user = fresh_user("texty");
  auto client = client_for(app, user);
  auto r = client.post(chat_path(user), {{"message", "Add a task to buy milk"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto reply = json_body(r);
  ASSERT_EQ(reply.size(), 1u) << r.body;
  EXPECT_TRUE(reply["response"].is_string());
  EXPECT_NE(reply["response"].get<std::string>().find("Buy milk"), std::string::npos);
  // The tool still ran.
  auto tasks = json_body(client.get(tasks_path(user)));
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["title"], "Buy milk");
}

// --- --rate-limit ------------------------------------------------------------------------------

TEST(Drift, RateLimitCountsPerClientAndSaysWhenToRetry) {
  TodoApp app = start_with({"--rate-limit", "4/1h"});
  auto as_alice = client_for(app, "alice");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(as_alice.get(tasks_path("alice")).status, 200) << i;
  auto limited = as_alice.get(tasks_path("alice"));
  ASSERT_EQ(limited.status, 429) << limited.body;
  int retry_after = std::stoi(header(limited, "Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 3600);
  EXPECT_NE(json_body(limited)["detail"].get<std::string>().find("4/1h"), std::string::npos);
  // Every /api/* call counts, writes too.
  EXPECT_EQ(as_alice.post(tasks_path("alice"), {{"title", "x"}}).status, 429);

  // Bob has his own window; anonymous callers share their address's.
  EXPECT_EQ(client_for(app, "bob").get(tasks_path("bob")).status, 200);
  ApiClient anonymous(app.url());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(anonymous.get(tasks_path("alice")).status, 401) << i;
  EXPECT_EQ(anonymous.get(tasks_path("alice")).status, 429);
  // Probes and the API description are not limited.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(anonymous.get("/health").status, 200);
    EXPECT_EQ(anonymous.get("/openapi.json").status, 200);
  }

  // The window ends: requests pass again (a 1 s window, from the environment).
  TodoApp quick = start_with({}, {{"TODO_RATE_LIMIT", "2/1s"}});
  auto client = client_for(quick, "carol");
  // A window may end between two calls: call until one is refused (bounded).
  kgate::http::Response last;
  for (int i = 0; i < 20 && last.status != 429; ++i) last = client.get(tasks_path("carol"));
  ASSERT_EQ(last.status, 429);
  EXPECT_EQ(header(last, "Retry-After"), "1");
  auto passes =
      kgate::wait_until([&](std::string*) { return client.get(tasks_path("carol")).status == 200; },
                        std::chrono::seconds(5), std::chrono::milliseconds(100));
  EXPECT_TRUE(passes.ok);
}

// --- --body-limit-status 422 -------------------------------------------------------------------

TEST(Drift, BodyLimitStatus422RefusesOversizedBodiesWith422) {
  TodoApp app = start_with({"--body-limit-status", "422"});
  const std::string user = fresh_user("big");
  auto client = client_for(app, user);
  std::string huge = json({{"title", "big"}, {"description", std::string(1100000, 'x')}}).dump();
  auto r = client.send("POST", tasks_path(user), huge);
  ASSERT_EQ(r.status, 422) << r.body.substr(0, 200);
  EXPECT_TRUE(json_body(r)["detail"].is_array());
  EXPECT_EQ(json_body(client.get(tasks_path(user))), json::array());
}

// --- --lax-types -------------------------------------------------------------------------------

TEST(Drift, LaxTypesCoerceWhatPydanticCoerces) {
  TodoApp app = start_with({"--lax-types"});
  const std::string user = fresh_user("lax");
  auto client = client_for(app, user);
  for (const json& yes : {json("yes"), json("true"), json("1"), json(1), json("on"), json("YES")}) {
    auto r = client.post(tasks_path(user), {{"title", "coerced"}, {"completed", yes}});
    ASSERT_EQ(r.status, 201) << yes.dump() << ": " << r.body;
    EXPECT_EQ(json_body(r)["completed"], true) << yes.dump();
  }
  for (const json& no : {json("no"), json("false"), json(0)}) {
    auto r = client.post(tasks_path(user), {{"title", "coerced"}, {"completed", no}});
    ASSERT_EQ(r.status, 201) << no.dump();
    EXPECT_EQ(json_body(r)["completed"], false) << no.dump();
  }
  struct Refused {
    json value;
    const char* type;
  };
  for (const auto& [value, type] :
       {Refused{"kgate", "bool_parsing"}, Refused{json::object(), "bool_type"},
        Refused{2, "bool_type"}, Refused{json::array({true}), "bool_type"}}) {
    auto r = client.post(tasks_path(user), {{"title", "refused"}, {"completed", value}});
    ASSERT_EQ(r.status, 422) << value.dump() << ": " << r.body;
    EXPECT_EQ(json_body(r)["detail"][0]["type"], type) << value.dump();
  }
  auto task = create_task(client, user, {{"title", "extra"}, {"priority", "high"}});
  EXPECT_FALSE(task.contains("priority"));
  auto updated = client.put(task_path(user, task["id"]), {{"completed", "yes"}});
  ASSERT_EQ(updated.status, 200);
  EXPECT_EQ(json_body(updated)["completed"], true);

  // The contract's strict booleans without the option.
  TodoApp plain;
  auto strict =
      client_for(plain, user).post(tasks_path(user), {{"title", "x"}, {"completed", "yes"}});
  ASSERT_EQ(strict.status, 422);
  EXPECT_EQ(json_body(strict)["detail"][0]["type"], "bool_type");
}

// --- GET /openapi.json -------------------------------------------------------------------------

// Replaces {user_id}, {task_id} and {conversation_id} in an OpenAPI path.
std::string fill(std::string path, const std::string& user, long long task,
                 long long conversation) {
  for (auto [name, value] : {std::pair<std::string, std::string>{"{user_id}", user},
                             {"{task_id}", std::to_string(task)},
                             {"{conversation_id}", std::to_string(conversation)}}) {
    if (auto at = path.find(name); at != std::string::npos) path.replace(at, name.size(), value);
  }
  return path;
}

TEST(OpenApi, DescribesTheRoutesTheAppServes) {
  TodoApp app;
  ApiClient anonymous(app.url());
  auto r = anonymous.get("/openapi.json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  auto doc = json_body(r);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_EQ(doc["info"]["version"], "1.0.0");
  EXPECT_EQ(doc["components"]["securitySchemes"]["HTTPBearer"],
            json({{"type", "http"}, {"scheme", "bearer"}}));
  const auto& paths = doc["paths"];
  using Ops = std::set<std::string>;
  auto methods = [&](const std::string& path) {
    Ops out;
    if (paths.contains(path)) {
      for (const auto& [method, op] : paths[path].items()) out.insert(method);
    }
    return out;
  };
  EXPECT_EQ(methods("/health"), (Ops{"get"}));
  EXPECT_EQ(methods("/ready"), (Ops{"get"}));
  EXPECT_EQ(methods("/api/auth/register"), (Ops{"post"}));
  EXPECT_EQ(methods("/api/auth/login"), (Ops{"post"}));
  EXPECT_EQ(methods("/api/{user_id}/tasks"), (Ops{"get", "post"}));
  EXPECT_EQ(methods("/api/{user_id}/tasks/{task_id}"), (Ops{"get", "put", "delete"}));
  EXPECT_EQ(methods("/api/{user_id}/tasks/{task_id}/complete"), (Ops{"patch"}));
  EXPECT_EQ(methods("/api/{user_id}/chat"), (Ops{"post"}));
  EXPECT_EQ(methods("/api/{user_id}/conversations/{conversation_id}/messages"), (Ops{"get"}));
  EXPECT_EQ(paths.size(), 9u) << paths.dump();
  EXPECT_FALSE(paths.contains("/debug/config"));

  // Every operation is real: with a token it is routed (no 404 "Not Found", no 405), and the
  // security it declares is what the app enforces on a tokenless call (a bearer challenge).
  const std::string user = fresh_user("openapi");
  auto client = client_for(app, user);
  const long long task = create_task(client, user, {{"title", "described"}})["id"];
  auto chat = client.post(chat_path(user), {{"message", "hello"}});
  const long long conversation = json_body(chat)["conversation_id"];
  int secured = 0;
  for (const auto& [path, operations] : paths.items()) {
    for (const auto& [method, op] : operations.items()) {
      std::string verb = upper(method);
      std::string url = fill(path, user, task, conversation);
      std::string body = op.contains("requestBody") ? R"({"title":"t","message":"hi"})" : "";
      if (method != "delete") {
        auto with_token = client.send(verb, url, body);
        EXPECT_NE(with_token.status, 405) << verb << " " << url;
        EXPECT_FALSE(with_token.status == 404 && with_token.body == R"({"detail":"Not Found"})")
            << verb << " " << url;
      }
      auto without = anonymous.send(verb, url, body);
      if (op.contains("security")) {
        ++secured;
        EXPECT_EQ(op["security"], json::array({{{"HTTPBearer", json::array()}}}));
        EXPECT_EQ(without.status, 401) << verb << " " << url;
        EXPECT_EQ(header(without, "WWW-Authenticate"), "Bearer") << verb << " " << url;
      } else {
        EXPECT_FALSE(without.header("WWW-Authenticate")) << verb << " " << url;
        EXPECT_LT(without.status, 500) << verb << " " << url;
      }
    }
  }
  EXPECT_EQ(secured, 8);
  EXPECT_EQ(client.del(task_path(user, task)).status, 204);
}

TEST(OpenApi, FollowsTheDriftAndTheAccounts) {
  TodoApp app = start_with({"--user-id-format", "uuid", "--login-form"});
  auto doc = json_body(ApiClient(app.url()).get("/openapi.json"));
  auto& list = doc["paths"]["/api/{user_id}/tasks"]["get"];
  EXPECT_EQ(list["parameters"][0]["schema"]["format"], "uuid");
  EXPECT_EQ(list["security"], json::array({{{"OAuth2PasswordBearer", json::array()}}}));
  EXPECT_EQ(
      doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"],
      "/api/auth/login");
  EXPECT_TRUE(doc["paths"]["/api/auth/login"]["post"]["requestBody"]["content"].contains(
      "application/x-www-form-urlencoded"));

  // An api that trusts the frontend's JWKS has no accounts of its own.
  TodoAppOptions jwks_only;
  jwks_only.jwks_url = "http://127.0.0.1:9/api/auth/jwks";  // never fetched: no EdDSA token
  TodoApp trusting(jwks_only);
  auto paths = json_body(ApiClient(trusting.url()).get("/openapi.json"))["paths"];
  EXPECT_FALSE(paths.contains("/api/auth/register"));
  EXPECT_FALSE(paths.contains("/api/auth/login"));
  EXPECT_EQ(ApiClient(trusting.url()).post("/api/auth/login", json::object()).status, 404);
}

// --- the command line --------------------------------------------------------------------------

struct Run {
  int status = -1;
  std::string output;
};

Run run_todo_app(const std::vector<std::string>& args,
                 std::map<std::string, std::string> env = {}) {
  const std::string dir = kgate::testfw::make_temp_dir("todo-cli-");
  kgate::ProcessSpec spec;
  spec.program = TodoApp::binary_path();
  spec.args = args;
  env.emplace("BETTER_AUTH_SECRET", "s3cret-s3cret-s3cret");
  spec.env_set = env;
  spec.env_unset = {"TODO_FAULTS", "TODO_RATE_LIMIT", "TODO_TASK_SCHEMA", "DATABASE_URL"};
  spec.log_path = dir + "/log";
  kgate::ChildProcess process(spec);
  Run run;
  run.status = process.wait(std::chrono::seconds(10)).value_or(-1);
  run.output = process.log_tail(64 * 1024);
  kgate::testfw::remove_temp_dir(dir);
  return run;
}

TEST(AppCommandLine, HelpListsEveryOptionWithItsEnvironmentVariable) {
  auto help = run_todo_app({"--help"});
  ASSERT_EQ(help.status, 0) << help.output;
  for (const auto& [option, env] : std::vector<std::pair<std::string, std::string>>{
           {"--user-id-format", "TODO_USER_ID_FORMAT"},
           {"--login-form", "TODO_LOGIN_FORM"},
           {"--email-policy", "TODO_EMAIL_POLICY"},
           {"--require-registered-users", "TODO_REQUIRE_REGISTERED_USERS"},
           {"--task-schema", "TODO_TASK_SCHEMA"},
           {"--title-max", "TODO_TITLE_MAX"},
           {"--description-max", "TODO_DESCRIPTION_MAX"},
           {"--chat-reply", "TODO_CHAT_REPLY"},
           {"--rate-limit", "TODO_RATE_LIMIT"},
           {"--body-limit-status", "TODO_BODY_LIMIT_STATUS"},
           {"--lax-types", "TODO_LAX_TYPES"},
           {"--drain-quiet", "TODO_DRAIN_QUIET"},
           {"--log-request-read", "TODO_LOG_REQUEST_READ"}}) {
    auto at = help.output.find(option);
    ASSERT_NE(at, std::string::npos) << option;
    EXPECT_NE(help.output.find("Env:" + env, at), std::string::npos) << option;
  }
  // The fault names are listed too.
  for (const char* fault :
       {"debug-routes", "default-secret", "bytes-error", "int-overflow", "broken-register",
        "auth-500", "create-fails", "delete-fails", "no-graceful-shutdown", "lying-readiness",
        "state-in-memory", "unready-new-pods"}) {
    EXPECT_NE(help.output.find(fault), std::string::npos) << fault;
  }
}

TEST(AppCommandLine, BadDriftValuesAreUsageErrorsNamingTheOption) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"--rate-limit", "lots"}, "--rate-limit"},
      {{"--rate-limit", "0/1h"}, "--rate-limit"},
      {{"--rate-limit", "5/fortnight"}, "fortnight"},
      {{"--user-id-format", "int"}, "--user-id-format"},
      {{"--task-schema", "bool"}, "--task-schema"},
      {{"--body-limit-status", "400"}, "--body-limit-status"},
      {{"--title-max", "0"}, "--title-max"},
      {{"--chat-reply", "xml"}, "--chat-reply"},
      {{"--email-policy", "lenient"}, "--email-policy"},
      {{"--drain-quiet", "soon"}, "--drain-quiet"},
  };
  for (const auto& [args, named] : bad) {
    auto run = run_todo_app(args);
    EXPECT_EQ(run.status, 2) << args[0] << " " << args[1] << ": " << run.output;
    EXPECT_NE(run.output.find(named), std::string::npos) << run.output;
  }
  auto from_env = run_todo_app({}, {{"TODO_RATE_LIMIT", "lots"}});
  EXPECT_EQ(from_env.status, 2);
  EXPECT_NE(from_env.output.find("TODO_RATE_LIMIT"), std::string::npos) << from_env.output;
  EXPECT_EQ(run_todo_app({}, {{"TODO_TASK_SCHEMA", "bogus"}}).status, 2);
}

}  // namespace
}  // namespace apptest
