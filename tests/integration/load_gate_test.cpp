// The load suite end to end: `kgate run --suites load` drives the reference app and gates on
// each threshold; the slow and errors-5xx faults breach the matching thresholds; a misspelled
// metric stops the run before any load is sent. And `kgate load` as an ad-hoc tool.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include "framework/todo_app.hpp"
#include "integration/kgate_cli.hpp"

namespace kgate::test {
namespace {

using testfw::TodoApp;
using testfw::TodoAppOptions;

constexpr const char* kSecret = "kgate-load-it-secret-7c1d9e0f3a52";

// The list endpoint of a fresh identity, 100 rps for 2 s.
std::string load_yaml(const std::string& thresholds) {
  return "suites:\n"
         "  load:\n"
         "    path: /api/{user_id}/tasks\n"
         "    authenticated: true\n"
         "    rate: 100\n"
         "    duration: 2s\n"
         "    thresholds: " +
         thresholds + "\n";
}

KgateRun run_load_suite(const TodoApp& api, const std::string& yaml) {
  KgateOptions o;
  o.args = {"run",      "--config", write_temp_file("kgate.yaml", yaml), "--target", api.url(),
            "--suites", "load"};
  o.env = {{"BETTER_AUTH_SECRET", kSecret}};
  return run_kgate(o);
}

TodoApp start_api(std::vector<std::string> faults = {}, std::map<std::string, std::string> env = {},
                  std::string database = "") {
  TodoAppOptions a;
  a.role = "api";
  a.secret = kSecret;
  a.faults = std::move(faults);
  a.env = std::move(env);
  a.database = std::move(database);
  return TodoApp(a);
}

TEST(LoadGate, PassesWhenEveryThresholdHolds) {
  auto api = start_api();
  auto run = run_load_suite(api, load_yaml("['p95 < 500ms', 'error_rate < 1%', 'dropped == 0', "
                                           "'requests >= 150']"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status_of("load.Run.Scenario"), "passed") << run.output;
  for (const char* t : {"p95 < 500ms", "error_rate < 1%", "dropped == 0", "requests >= 150"})
    EXPECT_EQ(run.status_of(std::string("load.Thresholds.") + t), "passed") << t << run.output;
  // The measured value travels with each threshold into every report.
  auto check = run.check("load.Thresholds.p95 < 500ms");
  ASSERT_EQ(check["thresholds"].size(), 1u) << check.dump();
  EXPECT_EQ(check["thresholds"][0]["expression"], "p95 < 500ms");
  EXPECT_FALSE(check["thresholds"][0]["measured"].get<std::string>().empty());
  EXPECT_NE(run.junit.find("name=\"threshold: p95 &lt; 500ms\""), std::string::npos) << run.junit;
  // The run's measurements are typed: numbers with units, series on the run's clock.
  auto scenario = run.check("load.Run.Scenario");
  bool p95_in_ms = false;
  for (const auto& m : scenario["scalars"]) p95_in_ms |= m["name"] == "p95" && m["unit"] == "ms";
  EXPECT_TRUE(p95_in_ms) << scenario["scalars"].dump();
  EXPECT_FALSE(scenario["charts"][0]["series"][0]["t"].empty());
}

TEST(LoadGate, SlowFaultBreachesTheLatencyThreshold) {
  auto api = start_api({"slow"}, {{"TODO_FAULT_SLOW_MS", "200"}});
  auto run = run_load_suite(api, load_yaml("['p95 < 100ms', 'error_rate < 1%']"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status_of("load.Thresholds.p95 < 100ms"), "failed") << run.output;
  EXPECT_NE(run.message_of("load.Thresholds.p95 < 100ms").find("is not < 100ms"), std::string::npos)
      << run.message_of("load.Thresholds.p95 < 100ms");
  EXPECT_EQ(run.status_of("load.Thresholds.error_rate < 1%"), "passed");
}

TEST(LoadGate, ErrorFaultBreachesTheErrorRateThreshold) {
  auto api = start_api({"errors-5xx"}, {{"TODO_FAULT_ERROR_RATE", "0.3"}});
  auto run = run_load_suite(api, load_yaml("['error_rate < 1%', 'p95 < 500ms']"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status_of("load.Thresholds.error_rate < 1%"), "failed") << run.output;
  EXPECT_EQ(run.status_of("load.Thresholds.p95 < 500ms"), "passed") << run.output;
}

TEST(LoadGate, MisspelledMetricIsAConfigErrorNamingThePlace) {
  auto api = start_api();
  auto run = run_load_suite(api, load_yaml("['p95 < 500ms', 'eror_rate < 1%']"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  // thresholds is on line 7; the second item's text starts at column 34.
  EXPECT_NE(run.output.find("kgate.yaml:7:34"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("did you mean 'error_rate'"), std::string::npos) << run.output;
}

int count_tasks(const std::string& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_stmt* st = nullptr;
  int n = -1;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM tasks", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// The todo mix lists, creates, toggles and deletes real tasks as several identities, and leaves
// the database as it found it.
TEST(LoadGate, TodoMixWorksTheApiAndCleansUp) {
  std::string db = write_temp_file("todo.db", "");
  auto api = start_api({}, {}, "sqlite:///" + db);
  auto run = run_load_suite(api,
                            "suites:\n"
                            "  load:\n"
                            "    scenario: todo-mix\n"
                            "    identities: 3\n"
                            "    mix: { list: 40, create: 30, toggle: 20, delete: 10 }\n"
                            "    rate: 150\n"
                            "    duration: 2s\n"
                            "    thresholds: ['error_rate < 1%', 'completed >= 250']\n");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto check = run.check("load.Run.Scenario");
  for (const char* op : {"sent.list", "sent.create", "sent.toggle", "sent.delete"})
    EXPECT_GT(std::stoi(check["properties"].value(op, "0")), 10) << op << " " << check.dump();
  EXPECT_EQ(count_tasks(db), 0) << "every task the mix created is deleted after the run";
}

TEST(KgateLoad, AdHocRunWritesResultsAndGates) {
  auto api = start_api();
  std::string out = write_temp_file("results.json", "");
  auto ok = run_kgate({"load", api.url() + "/health", "--rate", "200", "--duration", "1s",
                       "--threshold", "p99 < 1s", "--out", out});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  auto results = nlohmann::json::parse(slurp(out));
  EXPECT_EQ(results["completed"], 200);
  EXPECT_EQ(results["thresholds"][0]["passed"], true);
  EXPECT_FALSE(results["latency"]["histogram"].get<std::string>().empty());
  auto breached = run_kgate({"load", api.url() + "/health", "--vus", "2", "--duration", "1s",
                             "--threshold", "requests > 100000000"});
  EXPECT_EQ(breached.exit_code, 1) << breached.output;
  auto bad = run_kgate({"load", api.url() + "/health", "--rate", "10", "--threshold", "p95 <"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  auto unreachable = run_kgate({"load", "http://127.0.0.1:9/", "--rate", "10", "--duration", "1s"});
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.output;
}

// The same mix ad hoc: identities minted from the secret, the database left as found; without
// the secret it says which variable is missing.
TEST(KgateLoad, TodoMixFromTheCommandLine) {
  std::string db = write_temp_file("todo.db", "");
  auto api = start_api({}, {}, "sqlite:///" + db);
  KgateOptions o;
  o.args = {"load",   api.url(), "--scenario", "todo-mix", "--identities", "2",
            "--rate", "100",     "--duration", "1s",       "--threshold",  "error_rate < 1%"};
  o.env = {{"BETTER_AUTH_SECRET", kSecret}};
  auto run = run_kgate(o);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("todo mix done"), std::string::npos) << run.output;
  EXPECT_EQ(count_tasks(db), 0);
  EXPECT_EQ(run.output.find(kSecret), std::string::npos) << "the secret must not be printed";
  o.env.clear();
  auto no_secret = run_kgate(o);
  EXPECT_EQ(no_secret.exit_code, 2) << no_secret.output;
  EXPECT_NE(no_secret.output.find("BETTER_AUTH_SECRET"), std::string::npos) << no_secret.output;
}

// --watch is read before any load is sent: a value that is not a Deployment is a usage error
// (2) naming the flag; an API that cannot be reached is 3, naming the object and namespace.
TEST(KgateLoad, WatchFailsClearlyBeforeAnyLoad) {
  auto bad = run_kgate(
      {"load", "http://127.0.0.1:9/", "--rate", "10", "--duration", "1s", "--watch", "pod/x"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--watch 'pod/x': only a Deployment can be watched"), std::string::npos)
      << bad.output;
  auto no_name =
      run_kgate({"load", "http://127.0.0.1:9/", "--rate", "10", "--watch", "deployment/"});
  EXPECT_EQ(no_name.exit_code, 2) << no_name.output;
  EXPECT_NE(no_name.output.find("name is missing"), std::string::npos) << no_name.output;
  // Nothing listens on port 9 of the loopback: the API is unreachable.
  const std::string kubeconfig =
      write_temp_file("kubeconfig",
                      "apiVersion: v1\n"
                      "kind: Config\n"
                      "clusters:\n"
                      "- name: c\n"
                      "  cluster: {server: 'https://127.0.0.1:9'}\n"
                      "users:\n"
                      "- name: u\n"
                      "  user: {token: watch-test-token-81f2}\n"
                      "contexts:\n"
                      "- name: x\n"
                      "  context: {cluster: c, user: u, namespace: shop}\n"
                      "current-context: x\n");
  auto down =
      run_kgate({"load", "http://127.0.0.1:9/", "--rate", "10", "--duration", "1s", "--watch",
                 "deployment/web", "--kubeconfig", kubeconfig, "--request-timeout", "2s"});
  EXPECT_EQ(down.exit_code, 3) << down.output;
  EXPECT_NE(down.output.find("--watch: cannot read deployment/web in namespace shop"),
            std::string::npos)
      << down.output;
  EXPECT_EQ(down.output.find("requests in"), std::string::npos) << "no load may be sent";
  EXPECT_EQ(down.output.find("watch-test-token-81f2"), std::string::npos) << down.output;
}

// A token in the target's query string (as some APIs take it) stays out of what kgate writes:
// the results file and the console.
TEST(KgateLoad, ResultsAndOutputCarryNoQueryCredential) {
  auto api = start_api();
  std::string out = write_temp_file("results.json", "");
  const std::string url = api.url() + "/health?access_token=query-secret-5e8b&probe=yes";
  auto run = run_kgate({"load", url, "--rate", "20", "--duration", "500ms", "--out", out});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  const std::string text = slurp(out);
  EXPECT_EQ(text.find("query-secret-5e8b"), std::string::npos) << text;
  EXPECT_EQ(run.output.find("query-secret-5e8b"), std::string::npos) << run.output;
  auto results = nlohmann::json::parse(text);
  EXPECT_EQ(results["target"],
            "GET " + api.url() + "/health?access_token=[REDACTED]&probe=[REDACTED]");
  EXPECT_EQ(results["completed"], 10);
}

}  // namespace
}  // namespace kgate::test

namespace kgate::test {
namespace {

// A run where nothing succeeded did not "drive the load and record how the target held up":
// it fails, saying so (it used to pass on answered 500s).
TEST(LoadGate, NothingSucceededFailsTheRun) {
  auto api = start_api({"errors-5xx"}, {{"TODO_FAULT_ERROR_RATE", "1.0"}});
  auto run = run_load_suite(api, load_yaml("['requests >= 1']"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status_of("load.Run.Scenario"), "failed");
  EXPECT_NE(run.message_of("load.Run.Scenario").find("not one of the"), std::string::npos)
      << run.message_of("load.Run.Scenario");
  EXPECT_EQ(run.status_of("load.Thresholds.requests >= 1"), "passed")
      << "the run happened: its thresholds are still judged";
}

// Tasks the todo mix cannot delete are reported as left behind; the run that happened is kept
// and its thresholds judged, never thrown away by a failed cleanup.
TEST(LoadGate, FailedCleanupKeepsTheRunAndSaysWhatWasLeft) {
  auto api = start_api({"delete-fails"});
  auto run = run_load_suite(api,
                            "suites:\n"
                            "  load:\n"
                            "    scenario: todo-mix\n"
                            "    identities: 2\n"
                            "    mix: { list: 50, create: 50, toggle: 0, delete: 0 }\n"
                            "    rate: 50\n"
                            "    duration: 1s\n"
                            "    thresholds: ['completed >= 20']\n");
  EXPECT_EQ(run.status_of("load.Thresholds.completed >= 20"), "passed") << run.output;
  auto check = run.check("load.Run.Scenario");
  EXPECT_EQ(check.value("status", ""), "warning") << check.dump(2);
  EXPECT_NE(check["properties"].value("left behind", "").find("answered 500"), std::string::npos)
      << check.dump(2);
}

}  // namespace
}  // namespace kgate::test
