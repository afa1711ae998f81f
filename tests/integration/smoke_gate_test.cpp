// kgate end to end: the real kgate binary against the real reference app, healthy and faulty.
// Each story: start the app, run kgate as CI would, read the verdict and the reports.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "framework/todo_app.hpp"
#include "integration/kgate_cli.hpp"
#include "kgate/http.hpp"
#include "kgate/jwt.hpp"
#include "kgate/process.hpp"

namespace kgate::test {
namespace {

using testfw::TodoApp;
using testfw::TodoAppOptions;

constexpr const char* kSecret = "kgate-it-planted-secret-5d1e0c3b9a77";

class SmokeGate : public ::testing::Test {
 protected:
  // The app as deployed: an API service and a web front that forwards /api to it.
  void start_app(std::vector<std::string> api_faults = {}, std::vector<std::string> web_faults = {},
                 std::map<std::string, std::string> env = {}) {
    TodoAppOptions a;
    a.role = "api";
    a.secret = kSecret;
    a.faults = std::move(api_faults);
    a.env = env;
    api_ = std::make_unique<TodoApp>(a);
    TodoAppOptions w;
    w.role = "web";
    w.backend_url = api_->url();
    w.faults = std::move(web_faults);
    w.env = env;
    web_ = std::make_unique<TodoApp>(w);
  }

  KgateRun kgate(std::vector<std::string> extra = {}) {
    KgateOptions o;
    o.args = {"run", "--target", api_->url(), "--frontend", web_->url(), "--suites", "smoke"};
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    o.env = {{"BETTER_AUTH_SECRET", kSecret}};
    return run_kgate(o);
  }

  std::unique_ptr<TodoApp> api_, web_;
};

TEST_F(SmokeGate, PassesOnTheHardenedApp) {
  start_app();
  auto run = kgate();
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(run.failed().empty()) << run.output;
  for (const char* check :
       {"smoke.Health.BackendHealth", "smoke.Health.FrontendHealth", "smoke.Health.FrontendPage",
        "smoke.Health.HealthReflectsService", "smoke.Tasks.FullTaskFlow",
        "smoke.Chat.AddTaskByNaturalLanguage", "smoke.Routing.FrontendRoutesApi",
        "smoke.Latency.EveryCallWithinBudget"})
    EXPECT_EQ(run.status_of(check), "passed") << check << ": " << run.message_of(check);
  EXPECT_EQ(run.status_of("smoke.Routing.IngressRoutesApiAndPage"), "skipped");
  EXPECT_NE(run.message_of("smoke.Routing.IngressRoutesApiAndPage").find("target.ingress"),
            std::string::npos);
  EXPECT_EQ(run.results.value("verdict", ""), "PASS");
  EXPECT_NE(run.output.find("verdict: PASS (exit 0)"), std::string::npos) << run.output;
}

TEST_F(SmokeGate, IngressRoutesApiAndPage) {
  start_app();
  // The web front serves / and forwards /api: exactly what an Ingress in front of both does.
  auto run = kgate({"--ingress", web_->url(), "--tags", "routing"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status_of("smoke.Routing.IngressRoutesApiAndPage"), "passed") << run.output;
  EXPECT_EQ(run.status_of("smoke.Health.BackendHealth"), "absent")
      << "--tags routing selects only routing checks";
}

// An ingress that does not route /api, or whose page is broken: the ingress check fails, and only
// it (the frontend itself is healthy). A separate web instance plays the ingress.
TEST_F(SmokeGate, BrokenIngressFailsOnlyTheIngressCheck) {
  start_app();
  for (const char* fault : {"no-proxy", "broken-page"}) {
    TodoAppOptions w;
    w.role = "web";
    w.backend_url = api_->url();
    w.faults = {fault};
    TodoApp ingress(w);
    auto run = kgate({"--ingress", ingress.url(), "--tags", "routing,health"});
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_EQ(run.failed(), std::vector<std::string>{"smoke.Routing.IngressRoutesApiAndPage"})
        << fault << "\n"
        << run.output;
  }
}

struct FaultCase {
  const char* fault;
  const char* role;  // which service carries the fault
  const char* check;
  const char* message_part;  // what the failure must say
};

class SmokeFaults : public SmokeGate, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(SmokeFaults, TheMatchingCheckFailsAndSaysWhy) {
  const auto& f = GetParam();
  std::vector<std::string> fault{f.fault};
  std::map<std::string, std::string> env{{"TODO_FAULT_SLOW_MS", "300"}};
  start_app(std::string(f.role) == "api" ? fault : std::vector<std::string>{},
            std::string(f.role) == "web" ? fault : std::vector<std::string>{}, env);
  std::string budget_cfg =
      write_temp_file("kgate.yaml", "suites:\n  smoke:\n    latency_budget: 200ms\n");
  auto run = kgate({"--config", budget_cfg});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status_of(f.check), "failed") << run.output;
  EXPECT_NE(run.message_of(f.check).find(f.message_part), std::string::npos)
      << "message was: " << run.message_of(f.check);
  EXPECT_NE(run.junit.find("<failure"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    EachSmokeCheck, SmokeFaults,
    ::testing::Values(
        FaultCase{"bad-health-body", "api", "smoke.Health.BackendHealth", "status='starting'"},
        FaultCase{"bad-health-body", "web", "smoke.Health.FrontendHealth", "status='starting'"},
        FaultCase{"broken-page", "web", "smoke.Health.FrontendPage", "answered 500"},
        FaultCase{"lying-health", "api", "smoke.Health.HealthReflectsService",
                  "does not reflect the service"},
        FaultCase{"broken-toggle", "api", "smoke.Tasks.FullTaskFlow", "step 'complete'"},
        FaultCase{"chat-no-tool", "api", "smoke.Chat.AddTaskByNaturalLanguage", "no task titled"},
        FaultCase{"no-proxy", "web", "smoke.Routing.FrontendRoutesApi",
                  "not routed to the backend"},
        FaultCase{"slow", "api", "smoke.Latency.EveryCallWithinBudget", "budget 200 ms"}),
    [](const auto& param_info) {
      std::string n = std::string(param_info.param.role) + "_" + param_info.param.fault;
      for (auto& ch : n)
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST_F(SmokeGate, NoSecretOrTokenInAnyOutput) {
  start_app({"broken-toggle"});  // a failing run carries the most detail
  auto run = kgate({"--verbose"});
  ASSERT_EQ(run.exit_code, 1) << run.output;
  std::regex jwt_like("eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}\\.");
  for (const auto& [name, text] :
       std::map<std::string, std::string>{{"console", run.output},
                                          {"junit", run.junit},
                                          {"html", run.html},
                                          {"json", run.results.dump()}}) {
    EXPECT_FALSE(text.empty()) << name;
    EXPECT_EQ(text.find(kSecret), std::string::npos) << "the JWT secret leaked into " << name;
    EXPECT_FALSE(std::regex_search(text, jwt_like)) << "a token leaked into " << name;
  }
}

TEST_F(SmokeGate, DeletesWhatItCreatedEvenWhenACheckFailsMidway) {
  start_app({"broken-toggle"});
  // Fixed identities, so the test can look at their tasks afterwards.
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::string token = jwt::sign_hs256({{"sub", "kgate-it-owner"}, {"exp", now + 600}}, kSecret);
  std::string cfg = write_temp_file(
      "kgate.yaml", "auth:\n  mode: tokens\n  tokens:\n    - { user_id: kgate-it-owner, token: \"" +
                        token + "\" }\n");
  auto run = kgate({"--config", cfg});
  ASSERT_EQ(run.status_of("smoke.Tasks.FullTaskFlow"), "failed") << run.output;
  http::Client client;
  auto r = client.send({"GET",
                        api_->url() + "/api/kgate-it-owner/tasks",
                        {{"Authorization", "Bearer " + token}},
                        {}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[]") << "kgate left tasks behind";
}

TEST(KgateCli, UnreachableTargetExits3WithinTenSeconds) {
  auto run = run_kgate(std::vector<std::string>{"run", "--target", "http://127.0.0.1:9"});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_LT(run.took, std::chrono::seconds(10));
  EXPECT_NE(run.output.find("http://127.0.0.1:9/health"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Connection refused"), std::string::npos) << run.output;
  EXPECT_EQ(run.results.value("verdict", ""), "ERROR")
      << "reports are written for an unreachable target too";
}

// kgate list shows every check with its metadata and contacts nothing (the config names a
// target that does not exist and a cluster that is not there).
TEST(KgateCli, ListShowsTheMetadataWithoutContactingAnything) {
  std::string cfg = write_temp_file(
      "kgate.yaml",
      "target:\n  backend: http://127.0.0.1:9\nkubernetes:\n  kubeconfig: /nonexistent\n"
      "  release: todo\nsuites:\n  load:\n    thresholds: ['p99 < 1s']\n");
  auto run = run_kgate(std::vector<std::string>{"list", "--json", "--config", cfg});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_LT(run.took, std::chrono::seconds(3));
  const auto doc = nlohmann::json::parse(run.output);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& c : doc["checks"]) by_id[c["id"]] = c;
  const auto& alg = by_id.at("security.Auth.AlgNoneIsRefused");
  EXPECT_EQ(alg["severity"], "critical");
  EXPECT_EQ(alg["reference"], "OWASP API2:2023");
  EXPECT_EQ(alg["needs"], "identity");
  EXPECT_FALSE(alg["title"].get<std::string>().empty());
  EXPECT_EQ(by_id.at("load.Thresholds.p99 < 1s")["depends_on"],
            nlohmann::json({"load.Run.Scenario"}));
  for (const auto& [id, c] : by_id) EXPECT_FALSE(c["title"].get<std::string>().empty()) << id;
  auto table =
      run_kgate(std::vector<std::string>{"list", "--suites", "smoke", "--severity", "high"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.output.find("0 checks"), std::string::npos) << "smoke has no severities";
}

// Three unreachable URLs share one deadline: the preflight ends at target.reachable_within,
// not three times it (each URL used to get a fresh one).
TEST(KgateCli, PreflightHasOneDeadlineForEveryUrl) {
  std::string cfg = write_temp_file("kgate.yaml", "target:\n  reachable_within: 2s\n");
  auto run = run_kgate(std::vector<std::string>{
      "run", "--config", cfg, "--target", "http://127.0.0.1:9", "--frontend", "http://127.0.0.1:9",
      "--ingress", "http://127.0.0.1:9"});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  // 2 s of waiting plus the process's own start and reports; 3 × 2 s would be 6 s.
  EXPECT_LT(run.took, std::chrono::milliseconds(4000)) << run.output;
  EXPECT_NE(run.output.find("Connection refused"), std::string::npos) << run.output;
}

TEST(KgateCli, ConfigErrorExits2NamingFileLineColumn) {
  std::string cfg = write_temp_file(
      "kgate.yaml",
      "target:\n  backend: http://127.0.0.1:1\nsuites:\n  smoke:\n    latency_budjet: 1s\n");
  auto run = run_kgate(std::vector<std::string>{"run", "--config", cfg});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find(cfg + ":5:5: unknown key 'suites.smoke.latency_budjet' (did you mean "
                                  "'suites.smoke.latency_budget'?)"),
            std::string::npos)
      << run.output;
  run = run_kgate(std::vector<std::string>{"validate", cfg});
  EXPECT_EQ(run.exit_code, 2);
  run = run_kgate(std::vector<std::string>{"run", "--suites", "smoke,securty"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("did you mean 'security'"), std::string::npos) << run.output;
  run = run_kgate(std::vector<std::string>{"run", "--no-such-flag"});
  EXPECT_EQ(run.exit_code, 2);
}

TEST(KgateCli, EmbeddedDefaultRunsAgainstTheReferenceApp) {
  auto run = run_kgate(std::vector<std::string>{"run"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("starting the embedded reference todo-app"), std::string::npos);
  EXPECT_EQ(run.status_of("smoke.Tasks.FullTaskFlow"), "passed") << run.output;
  EXPECT_EQ(run.status_of("smoke.Routing.FrontendRoutesApi"), "passed") << run.output;
  // The embedded default is the hardened app: the security suite passes too.
  EXPECT_EQ(run.status_of("security.Isolation.OthersTaskByIdIsRefused"), "passed") << run.output;
  EXPECT_EQ(run.status_of("security.Auth.ExpiredTokenIsRefused"), "passed") << run.output;
  EXPECT_FALSE(run.junit.empty());
  EXPECT_FALSE(run.html.empty());
}

TEST_F(SmokeGate, InterruptStopsCleanlyAndStillWritesReports) {
  start_app({"slow"}, {}, {{"TODO_FAULT_SLOW_MS", "1500"}});
  KgateOptions o;
  o.args = {"run", "--target", api_->url(), "--suites", "smoke"};
  o.env = {{"BETTER_AUTH_SECRET", kSecret}};
  o.interrupt_marker = "smoke.Health.BackendHealth";  // the first check has finished
  auto run = run_kgate(o);
  EXPECT_EQ(run.exit_code, 130) << run.output;
  EXPECT_LT(run.took, std::chrono::seconds(20));
  EXPECT_EQ(run.results.value("aborted", false), true) << run.output;
  EXPECT_EQ(run.results.value("verdict", ""), "ABORTED");
  EXPECT_NE(run.html.find("ABORTED"), std::string::npos);
}

}  // namespace
}  // namespace kgate::test

namespace kgate::test {

// Better Auth as a Next.js frontend runs it: sign up, sign in with a cookie session, fetch an
// EdDSA JWT from the token endpoint; the api verifies it against the frontend's JWKS. kgate
// holds no secret at all in this mode.
TEST(KgateAuth, BetterAuthModeSignsInThroughTheFrontend) {
  const unsigned short web_port = free_loopback_port();
  TodoAppOptions a;
  a.role = "api";
  a.jwks_url = "http://127.0.0.1:" + std::to_string(web_port) + "/api/auth/jwks";
  TodoApp api(a);
  TodoAppOptions w;
  w.role = "web";
  w.backend_url = api.url();
  w.port = web_port;
  TodoApp web(w);
  std::string cfg = write_temp_file("kgate.yaml", "auth:\n  mode: better-auth\n");
  KgateOptions o;
  o.args = {"run",        "--config", cfg,        "--target", api.url(),
            "--frontend", web.url(),  "--suites", "smoke"};
  auto run = run_kgate(o);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status_of("smoke.Tasks.FullTaskFlow"), "passed") << run.output;
  EXPECT_EQ(run.status_of("smoke.Chat.AddTaskByNaturalLanguage"), "passed") << run.output;
}

}  // namespace kgate::test

namespace kgate::test {
namespace {

// An app with its own accounts (FastAPI's OAuth2 password flow): kgate registers fresh
// identities, logs in, reads the token from the configured JSON path and takes the user id
// from the answer. It is never given the secret.
// The api role alone, signing its own HS256 tokens at /api/auth/login.
TodoAppOptions api_with_accounts() {
  TodoAppOptions a;
  a.role = "api";
  a.secret = kSecret;
  return a;
}

TEST(KgateAuth, LoginModeRegistersAndLogsInThroughTheApi) {
  TodoApp api(api_with_accounts());
  std::string cfg = write_temp_file("kgate.yaml",
                                    "auth:\n"
                                    "  mode: login\n"
                                    "  login:\n"
                                    "    register_path: /api/auth/register\n"
                                    "    login_path: /api/auth/login\n"
                                    "    token_json_path: access_token\n"
                                    "    user_id_json_path: user.id\n");
  KgateOptions o;
  o.args = {"run", "--config", cfg, "--target", api.url(), "--suites", "smoke"};
  auto run = run_kgate(o);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status_of("smoke.Tasks.FullTaskFlow"), "passed") << run.output;
  EXPECT_NE(run.output.find("log in at /api/auth/login"), std::string::npos) << run.output;
}

TEST(KgateAuth, LoginModeWithAWrongTokenPathSaysWhereItLooked) {
  TodoApp api(api_with_accounts());
  std::string cfg = write_temp_file("kgate.yaml",
                                    "auth:\n  mode: login\n  login:\n"
                                    "    register_path: /api/auth/register\n"
                                    "    token_json_path: data.token\n");
  KgateOptions o;
  o.args = {"run", "--config", cfg, "--target", api.url(), "--suites", "smoke", "--tags", "tasks"};
  auto run = run_kgate(o);
  EXPECT_EQ(run.status_of("smoke.Tasks.FullTaskFlow"), "skipped") << run.output;
  EXPECT_NE(run.message_of("smoke.Tasks.FullTaskFlow").find("no token at 'data.token'"),
            std::string::npos)
      << run.message_of("smoke.Tasks.FullTaskFlow");
}

// The app limits chat: every other call answers 429 Retry-After: 1. kgate waits as asked and
// the check passes on the retry, with the 429 kept as evidence.
TEST_F(SmokeGate, RateLimitIsHonouredAndRetried) {
  start_app({"rate-limit"});
  auto run = kgate({"--tags", "chat"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status_of("smoke.Chat.AddTaskByNaturalLanguage"), "passed") << run.output;
  bool saw_429 = false;
  for (const auto& e :
       run.check("smoke.Chat.AddTaskByNaturalLanguage").value("evidence", nlohmann::json::array()))
    saw_429 = saw_429 || (e.value("status", 0) == 429 &&
                          e.value("note", "").find("rate limited") != std::string::npos);
  EXPECT_TRUE(saw_429) << run.check("smoke.Chat.AddTaskByNaturalLanguage").dump(2);
}

// Past the retry budget, rate limiting is reported as such: inconclusive with the reason, not
// failed and not passed; it fails the gate only when the gate says so (--fail-on-skip).
TEST_F(SmokeGate, PersistentRateLimitIsInconclusiveNotFailed) {
  start_app({"rate-limit"});
  std::string cfg = write_temp_file("kgate.yaml", "auth:\n  rate_limit_retries: 0\n");
  auto run = kgate({"--config", cfg, "--tags", "chat"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status_of("smoke.Chat.AddTaskByNaturalLanguage"), "inconclusive") << run.output;
  EXPECT_NE(run.message_of("smoke.Chat.AddTaskByNaturalLanguage").find("rate-limited POST"),
            std::string::npos)
      << run.message_of("smoke.Chat.AddTaskByNaturalLanguage");
  EXPECT_EQ(run.results["summary"].value("passed", -1), 0) << "inconclusive is not passed";
  EXPECT_NE(run.junit.find("<skipped message=\"inconclusive: target rate-limited POST"),
            std::string::npos)
      << run.junit;
  auto strict = kgate({"--config", cfg, "--tags", "chat", "--fail-on-skip"});
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_EQ(strict.status_of("smoke.Chat.AddTaskByNaturalLanguage"), "inconclusive");
}

}  // namespace
}  // namespace kgate::test

namespace kgate::test {
namespace {

// Without a frontend URL, the frontend's checks do not apply: fine for a developer, not for a
// release gate that must not pass on what it never checked.
TEST_F(SmokeGate, FailOnSkipTurnsUncheckedIntoAFailedGate) {
  start_app();
  KgateOptions o;
  o.args = {"run", "--target", api_->url(), "--suites", "smoke", "--tags", "health"};
  o.env = {{"BETTER_AUTH_SECRET", kSecret}};
  auto lenient = run_kgate(o);
  EXPECT_EQ(lenient.exit_code, 0) << lenient.output;
  EXPECT_EQ(lenient.status_of("smoke.Health.FrontendPage"), "skipped");
  o.args.push_back("--fail-on-skip");
  auto strict = run_kgate(o);
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_EQ(strict.status_of("smoke.Health.FrontendPage"), "skipped") << "still what it was";
  EXPECT_NE(strict.junit.find("(fails the gate: run.fail_on_skip)"), std::string::npos)
      << strict.junit;
  EXPECT_NE(strict.output.find("fail the gate (fail_on_skip)"), std::string::npos) << strict.output;
}

// Without the secret kgate cannot mint identities: the run could not test, and that fails it.
TEST_F(SmokeGate, NoIdentitiesIsAFailedRunNotAQuietSkip) {
  start_app();
  KgateOptions o;
  o.args = {"run", "--target", api_->url(), "--suites", "smoke"};
  auto run = run_kgate(o);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status_of("preflight.Auth.Identities"), "failed") << run.output;
  EXPECT_NE(run.message_of("preflight.Auth.Identities").find("BETTER_AUTH_SECRET"),
            std::string::npos)
      << run.message_of("preflight.Auth.Identities");
  EXPECT_EQ(run.status_of("smoke.Tasks.FullTaskFlow"), "skipped");
  EXPECT_NE(run.message_of("smoke.Tasks.FullTaskFlow").find("see preflight.Auth"),
            std::string::npos);
  EXPECT_EQ(run.status_of("smoke.Health.BackendHealth"), "passed") << "the rest still runs";
  EXPECT_NE(run.html.find("<h1 class=\"verdict\" id=\"verdict\">FAIL</h1>"), std::string::npos);
}

}  // namespace
}  // namespace kgate::test
