// The api role against a real PostgreSQL: CRUD, chat persistence, restarts of the app and of
// the database, and injection strings stored literally.
#include <csignal>
#include <future>
#include <memory>

#include <kgate/wait.hpp>

#include "framework/postgres.hpp"
#include "support.hpp"

namespace apptest {
namespace {

using kgate::testfw::json_body;
using kgate::testfw::PostgresServer;

// One PostgreSQL cluster for the whole binary; each story uses its own users.
class PostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresServer::available()) return;
    pg_ = new PostgresServer();
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    if (!pg_) GTEST_SKIP() << "PostgreSQL is not installed (" << PostgresServer::bin_dir() << ")";
  }
  static TodoAppOptions options() {
    TodoAppOptions o;
    o.database = pg_->url();
    return o;
  }
  static PostgresServer* pg_;
};
PostgresServer* PostgresTest::pg_ = nullptr;

TEST_F(PostgresTest, CrudAgainstPostgres) {
  TodoApp app(options());
  EXPECT_NE(app.log().find("storage: postgresql"), std::string::npos) << app.log();
  EXPECT_EQ(ApiClient(app.url()).get("/ready").status, 200);
  const std::string user = fresh_user("pg-crud");
  auto client = client_for(app, user);

  auto task = create_task(client, user, {{"title", "Buy groceries"}, {"description", "milk"}});
  EXPECT_EQ(task["user_id"], user);
  EXPECT_EQ(task["completed"], false);
  EXPECT_EQ(task["description"], "milk");
  const std::string created = task["created_at"];
  ASSERT_EQ(created.size(), std::string("2025-01-01T00:00:00.000000Z").size()) << created;
  EXPECT_EQ(created.back(), 'Z');
  const long long id = task["id"];

  EXPECT_EQ(json_body(client.get(task_path(user, id))), task);
  auto updated =
      client.put(task_path(user, id), {{"title", "Buy fruit"}, {"description", nullptr}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(json_body(updated)["title"], "Buy fruit");
  EXPECT_TRUE(json_body(updated)["description"].is_null());
  EXPECT_EQ(json_body(client.patch(task_path(user, id) + "/complete"))["completed"], true);

  create_task(client, user, {{"title", "apple pie"}});
  create_task(client, user, {{"title", "Zebra crossing"}});
  auto titles = [&](const std::string& query) {
    std::vector<std::string> out;
    for (const auto& t : json_body(client.get(tasks_path(user) + query))) out.push_back(t["title"]);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(titles(""), (V{"Buy fruit", "apple pie", "Zebra crossing"}));
  EXPECT_EQ(titles("?sort=title"), (V{"apple pie", "Buy fruit", "Zebra crossing"}));
  EXPECT_EQ(titles("?status=completed"), (V{"Buy fruit"}));
  EXPECT_EQ(titles("?status=pending&sort=title"), (V{"apple pie", "Zebra crossing"}));

  // Other users see nothing and change nothing.
  const std::string other = fresh_user("pg-other");
  auto as_other = client_for(app, other);
  EXPECT_EQ(as_other.get(task_path(other, id)).status, 404);
  EXPECT_EQ(as_other.del(task_path(other, id)).status, 404);
  EXPECT_EQ(as_other.get(tasks_path(user)).status, 403);

  EXPECT_EQ(client.del(task_path(user, id)).status, 204);
  EXPECT_EQ(client.get(task_path(user, id)).status, 404);
  EXPECT_EQ(pg_->query_value("SELECT count(*) FROM tasks WHERE user_id = '" + user + "'"), "2");
}

TEST_F(PostgresTest, InjectionStringsAreStoredLiterally) {
  TodoApp app(options());
  const std::string user = fresh_user("pg-o'reilly");
  auto client = client_for(app, user);
  const std::string evil = "x'); DROP TABLE tasks; --";
  const std::string evil_desc = "'; UPDATE tasks SET title = 'pwned'; --";
  auto task = create_task(client, user, {{"title", evil}, {"description", evil_desc}});
  EXPECT_EQ(task["title"], evil);
  auto fetched = json_body(client.get(task_path(user, task["id"])));
  EXPECT_EQ(fetched["title"], evil);
  EXPECT_EQ(fetched["description"], evil_desc);
  // The database holds the text itself, and its tables are intact.
  EXPECT_EQ(pg_->query_value("SELECT title FROM tasks WHERE id = " +
                             std::to_string(task["id"].get<long long>())),
            evil);
  EXPECT_EQ(pg_->query_value("SELECT count(*) FROM tasks WHERE title = 'pwned'"), "0");
  auto chat =
      client.post(chat_path(user), {{"message", "Add task: Robert'); DROP TABLE messages;--"}});
  ASSERT_EQ(chat.status, 200);
  EXPECT_EQ(json_body(chat)["tool_calls"][0]["result"]["title"],
            "Robert'); DROP TABLE messages;--");
  EXPECT_EQ(pg_->query_value("SELECT count(*) > 0 FROM messages"), "t");
}

TEST_F(PostgresTest, StateSurvivesAnAppRestart) {
  const std::string user = fresh_user("pg-restart");
  long long task_id = 0;
  long long conversation = 0;
  {
    TodoApp first(options());
    auto client = client_for(first, user);
    task_id = create_task(client, user, {{"title", "Persist me"}})["id"];
    auto chat = client.post(chat_path(user), {{"message", "Add a task to book flights"}});
    ASSERT_EQ(chat.status, 200);
    conversation = json_body(chat)["conversation_id"];
    EXPECT_EQ(first.stop(), 0);
  }
  // Stored as the contract says: conversations and messages with roles.
  EXPECT_EQ(pg_->query_value("SELECT user_id FROM conversations WHERE id = " +
                             std::to_string(conversation)),
            user);
  EXPECT_EQ(pg_->query_value("SELECT string_agg(role, ',' ORDER BY id) FROM messages WHERE "
                             "conversation_id = " +
                             std::to_string(conversation)),
            "user,assistant");

  TodoApp second(options());
  auto client = client_for(second, user);
  auto task = client.get(task_path(user, task_id));
  ASSERT_EQ(task.status, 200);
  EXPECT_EQ(json_body(task)["title"], "Persist me");
  auto resumed = client.post(
      chat_path(user), {{"conversation_id", conversation}, {"message", "Show me all my tasks"}});
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(json_body(resumed)["conversation_id"], conversation);
  EXPECT_EQ(json_body(resumed)["tool_calls"][0]["result"].size(), 2u);
  auto history = json_body(
      client.get("/api/" + user + "/conversations/" + std::to_string(conversation) + "/messages"));
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[2]["content"], "Show me all my tasks");
}

TEST_F(PostgresTest, TwoReplicasShareOneDatabase) {
  // Both create the schema at start (guarded by an advisory lock) and see each other's writes.
  auto a_future =
      std::async(std::launch::async, [] { return std::make_unique<TodoApp>(options()); });
  TodoApp b(options());
  auto a = a_future.get();
  const std::string user = fresh_user("pg-replica");
  auto via_a = client_for(*a, user);
  auto via_b = client_for(b, user);
  auto task = create_task(via_a, user, {{"title", "written by A"}});
  EXPECT_EQ(json_body(via_b.get(task_path(user, task["id"])))["title"], "written by A");
  EXPECT_EQ(json_body(via_b.patch(task_path(user, task["id"]) + "/complete"))["completed"], true);
  EXPECT_EQ(json_body(via_a.get(task_path(user, task["id"])))["completed"], true);
}

TEST_F(PostgresTest, RequireRegisteredUsersReadsTheUsersTable) {
  TodoAppOptions api_options = options();
  api_options.extra_args = {"--require-registered-users"};
  TodoApp api(api_options);
  const std::string ghost = fresh_user("pg-ghost");
  auto refused = client_for(api, ghost).post(tasks_path(ghost), {{"title", "orphan"}});
  EXPECT_EQ(refused.status, 500);
  EXPECT_EQ(json_body(refused), json({{"detail", "Internal Server Error"}}));
  EXPECT_EQ(pg_->query_value("SELECT count(*) FROM tasks WHERE user_id = '" + ghost + "'"), "0");
  EXPECT_NE(api.log().find("violates foreign key constraint \"tasks_user_id_fkey\""),
            std::string::npos)
      << api.log();

  // Register writes the row; the same id then has tasks.
  const std::string email = fresh_user("pg-member") + "@example.com";
  auto registered = register_account(api.url(), email);
  ASSERT_EQ(registered.status, 201) << registered.body;
  const std::string member = json_body(registered)["id"];
  EXPECT_EQ(pg_->query_value("SELECT email FROM users WHERE id = '" + member + "'"), email);
  auto as_member = client_for(api, member);
  create_task(as_member, member, {{"title", "a member's task"}});
  EXPECT_EQ(as_member.post(chat_path(member), {{"message", "What's pending?"}}).status, 200);

  // The web role's sign-up writes the same table.
  TodoAppOptions web_options;
  web_options.role = "web";
  web_options.database = pg_->url();
  web_options.extra_args = {"--require-registered-users"};
  TodoApp web(web_options);
  const std::string web_email = fresh_user("pg-browser") + "@example.com";
  auto signed_up = sign_up(web.url(), web_email);
  ASSERT_EQ(signed_up.status, 200) << signed_up.body;
  const std::string browser = json_body(signed_up)["user"]["id"];
  EXPECT_EQ(pg_->query_value("SELECT email FROM users WHERE id = '" + browser + "'"), web_email);
  EXPECT_EQ(client_for(api, browser).post(tasks_path(browser), {{"title", "from the web"}}).status,
            201);

  // leaky-errors shows PostgreSQL's own words.
  api_options.faults = {"leaky-errors"};
  TodoApp leaky(api_options);
  auto leaked = client_for(leaky, ghost).post(tasks_path(ghost), {{"title", "orphan"}});
  EXPECT_EQ(leaked.status, 500);
  EXPECT_NE(leaked.body.find("ForeignKeyViolation"), std::string::npos) << leaked.body;
  EXPECT_NE(leaked.body.find("is not present in table"), std::string::npos) << leaked.body;
}

TEST_F(PostgresTest, StateInMemoryIsNeitherStoredNorShared) {
  TodoAppOptions memory = options();
  memory.faults = {"state-in-memory"};
  TodoApp a(memory);
  TodoApp b(memory);
  const std::string user = fresh_user("pg-memory");
  auto via_a = client_for(a, user);
  auto task = create_task(via_a, user, {{"title", "only in A's memory"}});
  EXPECT_EQ(via_a.get(task_path(user, task["id"])).status, 200);
  ASSERT_EQ(via_a.post(chat_path(user), {{"message", "Add a task to stay put"}}).status, 200);
  auto via_b = client_for(b, user);
  EXPECT_EQ(via_b.get(task_path(user, task["id"])).status, 404);
  EXPECT_EQ(json_body(via_b.get(tasks_path(user))), json::array());
  EXPECT_EQ(pg_->query_value("SELECT count(*) FROM tasks WHERE user_id = '" + user + "'"), "0");
  EXPECT_EQ(pg_->query_value("SELECT count(*) FROM conversations WHERE user_id = '" + user + "'"),
            "0");
  // Readiness still asks the database it was given.
  EXPECT_EQ(ApiClient(a.url()).get("/ready").status, 200);
}

// unready-new-pods: the first replica takes the lock and is Ready; one started beside it stays
// 503 on /ready (its API still answers when reached directly) until the first exits, then it
// takes over.
TEST_F(PostgresTest, UnreadyNewPodsReadiesOnlyTheReplicaHoldingTheLock) {
  TodoAppOptions faulty = options();
  faulty.faults = {"unready-new-pods"};
  auto first = std::make_unique<TodoApp>(faulty);
  ApiClient first_probe(first->url());
  ASSERT_EQ(first_probe.get("/ready").status, 200);
  TodoApp added(faulty);
  ApiClient added_probe(added.url());
  auto unready = added_probe.get("/ready");
  EXPECT_EQ(unready.status, 503);
  EXPECT_EQ(json_body(unready)["status"], "waiting for the replica lock");
  EXPECT_EQ(added_probe.get("/health").status, 200);
  EXPECT_EQ(first_probe.get("/ready").status, 200) << "the holder stays ready";
  const std::string user = fresh_user("pg-unready");
  EXPECT_EQ(client_for(added, user).get(tasks_path(user)).status, 200);
  // An app without the fault on the same database is not affected by the lock.
  TodoApp honest(options());
  EXPECT_EQ(ApiClient(honest.url()).get("/ready").status, 200);

  EXPECT_EQ(first->stop(), 0);
  first.reset();
  auto took_over = kgate::wait_until(
      [&](std::string* why) {
        const int status = added_probe.get("/ready").status;
        *why = "/ready answered " + std::to_string(status);
        return status == 200;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(100));
  EXPECT_TRUE(took_over.ok) << took_over.last_error;
}

// Runs last in this binary's order: it stops and restarts the shared cluster.
TEST_F(PostgresTest, ZReadinessFollowsTheDatabaseAndTheAppReconnects) {
  TodoApp app(options());
  const std::string user = fresh_user("pg-outage");
  auto client = client_for(app, user);
  create_task(client, user, {{"title", "before the outage"}});

  pg_->stop();
  ApiClient probe(app.url());
  auto not_ready = kgate::wait_until(
      [&](std::string*) { return probe.get("/ready").status == 503; }, std::chrono::seconds(10));
  EXPECT_TRUE(not_ready.ok);
  EXPECT_EQ(probe.get("/health").status, 200);  // liveness does not depend on the database
  auto failed = client.get(tasks_path(user));
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body.find("connection"), std::string::npos) << failed.body;

  pg_->start();
  auto ready = kgate::wait_until([&](std::string*) { return probe.get("/ready").status == 200; },
                                 std::chrono::seconds(20));
  EXPECT_TRUE(ready.ok) << app.log();
  auto list = client.get(tasks_path(user));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json_body(list).size(), 1u);
  EXPECT_EQ(create_task(client, user, {{"title", "after the outage"}})["title"],
            "after the outage");
}

TEST(PostgresStartup, AppStartsWhileTheDatabaseIsDown) {
  if (!PostgresServer::available()) GTEST_SKIP() << "PostgreSQL is not installed";
  // Nothing listens on this port yet: the app starts, is live but not ready.
  const unsigned short port = kgate::free_loopback_port();
  TodoAppOptions options;
  options.database = "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/nowhere";
  TodoApp app(options);
  ApiClient probe(app.url());
  EXPECT_EQ(probe.get("/health").status, 200);
  EXPECT_EQ(probe.get("/ready").status, 503);
  auto r = client_for(app, "early").get(tasks_path("early"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("nowhere"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace apptest
