#pragma once
// A run with every kind of check and every awkward character the writers must survive, shared
// by the unit tests and the consumer tests.
#include <string>

#include "kgate/redact.hpp"
#include "kgate/result.hpp"

namespace kgate::testing {

inline constexpr const char* kPlantedSecret = "kgate-planted-secret-123";
// header {"alg":"HS256","typ":"JWT"}, payload {"sub":"user-1"}, signature "signature"
inline constexpr const char* kJwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl";
inline constexpr const char* kAwkward = "a<b & c>d \"q\" 'a' \x01\x1b\x7f end";
inline constexpr const char* kNonAscii = "Grüße — 日本語 ✓ 🚀";

inline RunResult sample_run() {
  register_secret(kPlantedSecret);
  const std::string secret = kPlantedSecret;
  const std::string jwt = kJwt;

  RunResult run;
  run.tool_version = "0.1.0";
  run.target = "https://todo.example.test/?token=" + secret;
  run.started_at = "2024-05-01T12:00:00Z";
  run.started_epoch_ms = 1714564800000;
  run.duration_seconds = 42.5;
  run.suites = {"smoke", "security", "load"};  // "load" selected but no check ran
  run.exit_code = 1;
  run.verdict = "FAIL";

  CheckResult health;
  health.suite = "smoke";
  health.classname = "smoke.Health";
  health.name = "BackendHealth";
  health.title = "Backend /health answers 200 healthy";
  health.status = CheckStatus::Passed;
  health.seconds = 0.0421;
  health.id = "smoke.Health.BackendHealth";
  health.properties = {{"body", std::string("ok ") + kNonAscii}};
  health.scalars = {{"latency", 12.5, "ms"}};
  health.thresholds = {{"latency < 500ms", "12.5 ms", true}};
  health.evidence.push_back({"GET", "https://todo.example.test/health", "Accept: */*", 200,
                             R"({"status":"healthy"})", 12.5, ""});
  // Charts as the load suite draws them: lines over time and bars over labels; a timeline.
  health.charts.push_back(
      {"Throughput <over time>",
       "req/s",
       {},
       {{"answered", {1, 2, 3}, {10, 20, 30}}, {"failed", {1, 2, 3}, {0, 1, 0}}},
       true});
  health.charts.push_back(
      {"Latency distribution", "ms", {"p50", "p99"}, {{"latency", {}, {1.5, 9}}}});
  health.events = {{1.5, "delete", "pod/todo-<1>", "sent by kgate"},
                   {2.5, "Ready", "pod/todo-2", "replacement ready"}};
  run.checks.push_back(health);

  CheckResult idor;
  idor.suite = "security";
  idor.classname = "security.Authz";
  idor.name = "NoCrossUserRead";
  idor.title = std::string("Users cannot read other users' todos ") + kNonAscii;
  idor.status = CheckStatus::Failed;
  idor.seconds = 1.25;
  idor.message = std::string("<script>alert(\"x&y\")</script> leaked with ") + secret;
  idor.detail = std::string("suites/security/authz.cpp:42: expected 403, got 200\n") + kAwkward +
                "\nsuites/security/authz.cpp:57: body holds another user's todo";
  idor.severity = "high";
  idor.reference = "OWASP API1:2023";
  idor.properties = {
      {"status", "200"}, {"expected_status", "403"}, {"token", jwt}, {"awkward", kAwkward}};
  idor.evidence.push_back({"GET", "https://todo.example.test/api/todos/17",
                           "Authorization: Bearer " + jwt + "\nX-Api-Key: " + secret, 200,
                           "{\"id\":17,\"title\":\"<b>Alice's</b> & Bob\",\"owner\":\"alice\"}",
                           8.75, "other user's todo returned; secret " + secret});
  idor.evidence.push_back({"DELETE", "https://todo.example.test/api/todos/17", "", 0, "", 3000,
                           "timeout after 3s: no answer"});
  run.checks.push_back(idor);

  CheckResult admin;
  admin.suite = "smoke";
  admin.classname = "smoke.Admin";
  admin.name = "AdminLogin";
  admin.title = "Admin can log in";
  admin.status = CheckStatus::Skipped;
  admin.message = "no admin credentials <configured> & none given";
  run.checks.push_back(admin);

  // A suite that was not selected (e.g. added by a plugin): listed after the selected ones.
  CheckResult extra;
  extra.suite = "extra";
  extra.classname = "extra.Misc";
  extra.name = std::string("Split") + "Secret";
  extra.title = "Secret split by a control character";
  extra.status = CheckStatus::Failed;
  extra.seconds = 0.5;
  extra.message = "kgate-planted\x01-secret-123 must not survive control-character stripping";
  extra.scalars = {{"p95", 812, "ms"}};
  extra.thresholds = {{"p95 < 500ms", "812 ms", false}};
  run.checks.push_back(extra);
  return run;
}

// A realistic run, as a release manager would see it: the example in docs/report-example.png.
inline RunResult example_run() {
  RunResult run;
  run.tool_version = "0.1.0";
  run.target = "https://todo.staging.example.com";
  run.started_at = "2024-05-01T09:30:12Z";
  run.started_epoch_ms = 1714555812000;
  run.duration_seconds = 97.42;
  run.suites = {"smoke", "security", "load", "resilience"};
  run.exit_code = 1;
  run.verdict = "FAIL";
  run.checks.reserve(16);  // check() hands out references into the vector
  const auto check = [&run](const char* suite, const char* classname, const char* name,
                            const char* title, CheckStatus status, double seconds) -> CheckResult& {
    CheckResult c;
    c.suite = suite;
    c.classname = classname;
    c.name = name;
    c.title = title;
    c.status = status;
    c.seconds = seconds;
    run.checks.push_back(c);
    return run.checks.back();
  };
  const std::string api = run.target + "/api/u-7f3a";

  auto& health =
      check("smoke", "smoke.Health", "BackendHealth",
            "Backend /health answers 200 with a healthy status", CheckStatus::Passed, 0.031);
  health.scalars = {{"latency", 18.4, "ms"}};
  health.evidence.push_back({"GET", run.target + "/health", "", 200,
                             R"({"status":"healthy","database":"ok"})", 18.4, ""});
  check("smoke", "smoke.Health", "FrontendPage", "The frontend serves its HTML page",
        CheckStatus::Passed, 0.044);
  auto& flow =
      check("smoke", "smoke.Tasks", "FullTaskFlow",
            "Create, list, get, update, complete and delete a task", CheckStatus::Passed, 0.212);
  flow.evidence.push_back({"POST", api + "/tasks",
                           "Content-Type: application/json\n{\"title\":\"kgate smoke\"}", 201,
                           R"({"id":41,"title":"kgate smoke","completed":false})", 23.1, ""});
  auto& budget =
      check("smoke", "smoke.Latency", "EveryCallWithinBudget",
            "Every smoke call answers within the latency budget", CheckStatus::Failed, 1.93);
  budget.message = "GET /api/{user_id}/tasks took 812 ms; the budget is 500 ms";
  budget.detail =
      "call 'list tasks' took 812 ms, budget 500 ms\n"
      "call 'get task' took 644 ms, budget 500 ms";
  budget.scalars = {
      {"calls", 24, ""}, {"slowest", 812, "ms"}, {"median", 87, "ms"}, {"budget", 500, "ms"}};
  budget.evidence.push_back({"GET", api + "/tasks", "", 200, R"([{"id":41,"title":"kgate smoke"}])",
                             812.4, "slowest call of the check"});

  auto& alg = check("security", "security.Jwt", "RejectsAlgNone",
                    "Tokens signed with alg=none are refused", CheckStatus::Passed, 0.018);
  alg.severity = "critical";
  alg.reference = "OWASP API2:2023";
  auto& idor = check("security", "security.Authz", "NoCrossUserRead",
                     "A user cannot read another user's tasks", CheckStatus::Failed, 0.094);
  idor.severity = "high";
  idor.reference = "OWASP API1:2023";
  idor.message = "alice read bob's tasks: GET /api/u-bob/tasks returned 200, expected 403 or 404";
  idor.detail =
      "Expected status in {403, 404}, actual: 200\n"
      "the body holds 3 tasks owned by u-bob";
  idor.properties = {{"status", "200"}, {"expected_status", "403|404"}};
  idor.evidence.push_back(
      {"GET", run.target + "/api/u-bob/tasks",
       "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LWFsaWNlIn0.c2ln", 200,
       R"([{"id":17,"title":"bob's private task","user_id":"u-bob"}, ...])", 11.7,
       "token of u-alice, URL of u-bob"});
  auto& rate = check("security", "security.RateLimit", "LoginIsRateLimited",
                     "Repeated failed logins are rate limited", CheckStatus::Skipped, 0);
  rate.message = "rate limiting is disabled on this target (RATE_LIMIT=off)";
  rate.severity = "medium";
  rate.reference = "OWASP API4:2023";
  auto& headers = check("security", "security.Headers", "SecurityHeaders",
                        "Responses carry HSTS, nosniff and a CSP", CheckStatus::Passed, 0.027);
  headers.severity = "low";
  headers.reference = "OWASP API8:2023";

  auto& p95 =
      check("load", "load.Latency", "P95UnderBudget",
            "p95 latency of the task list stays under 300 ms at 50 rps", CheckStatus::Passed, 60.3);
  p95.scalars = {{"requests", 3000, "requests"}, {"rps", 49.8, "req/s"}, {"p50", 96.2, "ms"},
                 {"p95", 212.0, "ms"},           {"p99", 288.4, "ms"},   {"error_rate", 0.13, "%"}};
  p95.thresholds = {{"p95 < 300ms", "212 ms", true}};
  {
    Chart rps{"Throughput", "req/s", {}, {{"answered", {}, {}}}};
    Chart lat{"Latency from the intended start", "ms", {}, {{"p95", {}, {}}}};
    for (int i = 0; i < 60; ++i) {
      rps.series[0].t.push_back(10 + i);
      rps.series[0].values.push_back(48 + (i % 5));
      lat.series[0].t.push_back(10 + i);
      lat.series[0].values.push_back(180 + 8 * (i % 7));
    }
    p95.charts = {rps, lat};
  }
  auto& errors = check("load", "load.Errors", "ErrorRateUnderOnePercent",
                       "Error rate stays under 1% at 50 rps", CheckStatus::Passed, 0.002);
  errors.thresholds = {{"error_rate < 1%", "0.13%", true}};

  auto& restart =
      check("resilience", "resilience.Pods", "SurvivesBackendRestart",
            "Tasks survive a rolling restart of the backend", CheckStatus::Passed, 34.8);
  restart.scalars = {{"unavailable", 0, "s"}, {"recovery", 6.2, "s"}};
  {
    Chart traffic{
        "Requests during the rollout", "req/s", {}, {{"ok", {}, {}}, {"failed", {}, {}}}, true};
    for (int i = 0; i < 35; ++i) {
      traffic.series[0].t.push_back(72 + i);
      traffic.series[0].values.push_back(20);
      traffic.series[1].t.push_back(72 + i);
      traffic.series[1].values.push_back(0);
    }
    restart.charts = {traffic};
    restart.events = {{73.1, "restart", "deployment/todo-backend", "restartedAt annotation set"},
                      {74.0, "Created", "pod/todo-backend-7c9f-x2", ""},
                      {79.2, "Ready", "pod/todo-backend-7c9f-x2", ""},
                      {80.0, "Terminating", "pod/todo-backend-5d1e-q8", ""},
                      {105.9, "Complete", "deployment/todo-backend", "every pod replaced"}};
  }
  check("resilience", "resilience.Db", "SurvivesDatabaseFailover",
        "The app recovers from a database failover", CheckStatus::Skipped, 0)
      .message = "needs a replicated PostgreSQL; the chart runs a single instance";
  return run;
}

}  // namespace kgate::testing
