// Trustworthy verdicts (issue 13): kgate against the reference app made to behave the way real,
// independently written backends did. A run that could not test must not pass; setup failures
// are not findings; drift is absorbed by the profile and auth keys; holes are found. Each story:
// start the app as that backend would run, run kgate as CI would, read the outcome.
#include <gtest/gtest.h>

#include <set>

#include "framework/todo_app.hpp"
#include "integration/kgate_cli.hpp"

namespace kgate::test {
namespace {

using testfw::TodoApp;
using testfw::TodoAppOptions;

constexpr const char* kSecret = "kgate-verdict-it-secret-7c2e5a90d41b36f8";

class VerdictTrust : public ::testing::Test {
 protected:
  void start_app(std::vector<std::string> faults = {}, std::vector<std::string> args = {},
                 std::string secret = kSecret) {
    TodoAppOptions a;
    a.role = "api";
    a.secret = secret;
    a.faults = std::move(faults);
    a.extra_args = std::move(args);
    api_ = std::make_unique<TodoApp>(a);
  }

  // kgate run against the api, with a config (YAML, may be empty) and more arguments.
  KgateRun kgate(const std::string& yaml, std::vector<std::string> extra,
                 const std::string& secret = kSecret) {
    KgateOptions o;
    o.args = {"run", "--target", api_->url()};
    if (!yaml.empty()) {
      o.args.push_back("--config");
      o.args.push_back(write_temp_file("kgate.yaml", yaml));
    }
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    if (!secret.empty()) o.env = {{"BETTER_AUTH_SECRET", secret}};
    return run_kgate(o);
  }

  static std::set<std::string> with_status(const KgateRun& run, const std::string& status) {
    std::set<std::string> out;
    for (const auto& c : run.results["checks"])
      if (c.value("status", "") == status) out.insert(c.value("id", ""));
    return out;
  }

  std::unique_ptr<TodoApp> api_;
};

const char* kLogin =
    "auth:\n  mode: login\n  login:\n    register_path: /api/auth/register\n"
    "    login_path: /api/auth/login\n";

// --- A gate must not pass when kgate could not test -------------------------------------------

// A signup answering 500: the identities fail, and that is one failing preflight check that
// names the step, the URL, the status and the body; exit 1, and the report is not green.
TEST_F(VerdictTrust, BrokenSignupFailsTheRunNamingTheStep) {
  start_app({"broken-register"});
  auto run = kgate(kLogin, {"--suites", "smoke,security"}, "");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status_of("preflight.Auth.Identities"), "failed");
  const std::string why = run.message_of("preflight.Auth.Identities");
  EXPECT_NE(why.find("step 'register': POST " + api_->url() + "/api/auth/register answered 500"),
            std::string::npos)
      << why;
  EXPECT_EQ(with_status(run, "passed").count("smoke.Tasks.FullTaskFlow"), 0u);
  EXPECT_NE(run.html.find("id=\"verdict\">FAIL</h1>"), std::string::npos);
}

// A register refusing the e-mail domain (email-validator's special-use names): the login's 422
// is reported together with the register answer that says why; the default domain passes.
TEST_F(VerdictTrust, RefusedEmailDomainShowsTheRealCause) {
  start_app({}, {"--email-policy", "strict"});
  auto run = kgate(std::string(kLogin) + "  email: kgate-{label}-{random}@kgate.test\n",
                   {"--suites", "smoke", "--tags", "tasks"}, "");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  const std::string why = run.message_of("preflight.Auth.Identities");
  EXPECT_NE(why.find("step 'login'"), std::string::npos) << why;
  EXPECT_NE(why.find("before it, step 'register'"), std::string::npos) << why;
  EXPECT_NE(why.find("special-use or reserved name"), std::string::npos) << why;

  auto fine = kgate(kLogin, {"--suites", "smoke", "--tags", "tasks"}, "");
  EXPECT_EQ(fine.exit_code, 0) << fine.output;
  EXPECT_EQ(fine.status_of("smoke.Tasks.FullTaskFlow"), "passed");
}

// When most checks gave no answer, the report says so and does not look green.
TEST_F(VerdictTrust, MostlySkippedRunIsNotGreen) {
  start_app();
  auto run = kgate("", {"--suites", "smoke", "--tags", "health,routing"});
  ASSERT_EQ(run.exit_code, 0) << run.output;  // nothing failed: skips do not gate by default
  EXPECT_NE(run.html.find("class=\"v-partial\""), std::string::npos);
  EXPECT_NE(run.html.find("this run verified little"), std::string::npos);
  EXPECT_NE(run.output.find("NOTE: only"), std::string::npos) << run.output;
}

// --- Setup failures are not findings -----------------------------------------------------------

// The app cannot create tasks at all: the checks that need a victim task say they could not be
// set up (error), never that the API is insecure.
TEST_F(VerdictTrust, ChecksThatCannotSetUpAreErrorsNotFindings) {
  start_app({"create-fails"});
  auto run = kgate("suites:\n  security:\n    max_rps: 0\n", {"--suites", "security"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  for (const char* id : {"security.Auth.AlgNoneIsRefused", "security.Isolation.OthersUrlIsRefused",
                         "security.Validation.HostileStringsAreStoredLiterally"}) {
    EXPECT_EQ(run.status_of(id), "error") << id << ": " << run.message_of(id);
    EXPECT_NE(run.message_of(id).find("could not set up"), std::string::npos) << id;
  }
  EXPECT_TRUE(with_status(run, "failed").empty()) << run.output;
}

// A 500 for every bad token is its own medium finding, not "the API accepts requests without a
// token" (critical).
TEST_F(VerdictTrust, ServerErrorsAreNotAcceptance) {
  start_app({"auth-500"});
  auto run =
      kgate("suites:\n  security:\n    max_rps: 0\n", {"--suites", "security", "--tags", "auth"});
  EXPECT_EQ(with_status(run, "failed"),
            std::set<std::string>{"security.Auth.BadCredentialsGetA4xxNotA5xx"})
      << run.output;
  EXPECT_EQ(run.check("security.Auth.BadCredentialsGetA4xxNotA5xx").value("severity", ""),
            "medium");
  EXPECT_EQ(run.message_of("security.Auth.NoTokenIsRefused"), "") << "passed: nothing accepted";
}

// What kgate created and could not delete is reported, by id and title.
TEST_F(VerdictTrust, CleanupFailuresAreReported) {
  start_app({"delete-fails"});
  auto run = kgate("", {"--suites", "smoke", "--tags", "chat"});
  const auto chat = run.check("smoke.Chat.AddTaskByNaturalLanguage");
  EXPECT_EQ(chat.value("status", ""), "warning") << run.output;
  EXPECT_NE(chat.value("message", "").find("passed, but cleanup failed: left behind task"),
            std::string::npos)
      << chat.dump(2);
  EXPECT_NE(chat["properties"].value("left behind", "").find("answered 500"), std::string::npos);
}

// A finding seen before the target rate-limits the check stays a finding: the sweep finds the
// task endpoints open (no-auth), then the chat endpoint answers 429 past the retry budget (the
// rate-limit fault refuses the app's first chat call). Before the check model, the 429 turned
// the whole check into a skip.
TEST_F(VerdictTrust, FindingThenRateLimitStaysAFailure) {
  start_app({"no-auth", "rate-limit"});
  auto run = kgate("auth:\n  rate_limit_retries: 0\nsuites:\n  security:\n    max_rps: 0\n",
                   {"--suites", "security", "--filter", "security.Auth.NoTokenIsRefused"});
  const auto check = run.check("security.Auth.NoTokenIsRefused");
  EXPECT_EQ(check.value("status", ""), "failed") << run.output;
  EXPECT_NE(check.value("message", "").find("does not authenticate"), std::string::npos);
  EXPECT_NE(check.value("detail", "").find("then: target rate-limited POST"), std::string::npos)
      << check.dump(2);
}

// Redaction hides secret values, not words.
TEST_F(VerdictTrust, TitlesAreNotRedacted) {
  start_app();
  auto run = kgate("", {"--suites", "security", "--filter", "security.Auth.Malformed*"});
  EXPECT_NE(run.html.find("Every endpoint refuses a malformed bearer token"), std::string::npos);
  EXPECT_NE(run.junit.find("malformed bearer token"), std::string::npos);
}

// --- Drift real apps show ------------------------------------------------------------------------

struct Drift {
  const char* name;
  std::vector<std::string> app_args;
  std::vector<std::string> filters;
  std::string failing;  // with kgate's defaults: this check fails (or the preflight does)
  const char* why;      // ...saying this
  std::string yaml;     // the profile/auth keys that absorb the drift: then it passes
  bool login = false;   // kgate logs in (the app's own endpoints) rather than minting
};

class VerdictDrift : public VerdictTrust, public ::testing::WithParamInterface<Drift> {};

TEST_P(VerdictDrift, DefaultsShowItAndTheProfileAbsorbsIt) {
  const auto& d = GetParam();
  start_app({}, d.app_args);
  std::vector<std::string> args{"--suites", "smoke,security"};
  for (const auto& f : d.filters) args.insert(args.end(), {"--filter", f});
  const std::string suites = "suites:\n  security:\n    max_rps: 0\n";
  const std::string secret = d.login ? "" : kSecret;
  auto strict = kgate(std::string(d.login ? kLogin : "") + suites, args, secret);
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_EQ(strict.status_of(d.failing), "failed") << strict.output;
  EXPECT_NE(strict.message_of(d.failing).find(d.why), std::string::npos)
      << strict.message_of(d.failing);
  auto fitted = kgate(suites + d.yaml, args, secret);
  EXPECT_EQ(fitted.exit_code, 0) << fitted.output;
  EXPECT_TRUE(with_status(fitted, "failed").empty()) << fitted.output;
}

INSTANTIATE_TEST_SUITE_P(
    RealAppDrift, VerdictDrift,
    ::testing::Values(Drift{"uuid_user_ids",
                            {"--user-id-format", "uuid"},
                            {"smoke.Tasks.*"},
                            "smoke.Tasks.FullTaskFlow",
                            "answered 422",
                            "auth:\n  mint:\n    user_id_format: uuid\n"},
                      Drift{"form_login",
                            {"--login-form"},
                            {"smoke.Tasks.*"},
                            "preflight.Auth.Identities",
                            "step 'login'",
                            std::string(kLogin) + "    format: form\n",
                            true},
                      Drift{"users_table",
                            {"--require-registered-users"},
                            {"smoke.Tasks.*"},
                            "smoke.Tasks.FullTaskFlow",
                            "auth.mint.sign_up",
                            "auth:\n  mint:\n    sign_up: login\n  login:\n    register_path: "
                            "/api/auth/register\n"},
                      Drift{"status_field",
                            {"--task-schema", "status"},
                            {"smoke.Tasks.*"},
                            "smoke.Tasks.FullTaskFlow",
                            "has no 'completed'",
                            "profile:\n  completion: status\n"},
                      Drift{"own_limits",
                            {"--title-max", "500", "--description-max", "5000"},
                            {"security.Validation.InvalidTasksAreRejected"},
                            "security.Validation.InvalidTasksAreRejected",
                            "201-character title",
                            "profile:\n  limits:\n    title_max: 500\n    description_max: 5000\n"},
                      Drift{"chat_text_only",
                            {"--chat-reply", "text"},
                            {"smoke.Chat.*"},
                            "smoke.Chat.AddTaskByNaturalLanguage",
                            "no conversation_id",
                            "profile:\n  chat_conversation: false\n"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// Lax validators and 422 for big bodies are not findings.
TEST_F(VerdictTrust, LaxValidationAnd422ForLargeBodiesAreNotFindings) {
  start_app({}, {"--lax-types", "--body-limit-status", "422"});
  auto run = kgate("suites:\n  security:\n    max_rps: 0\n",
                   {"--suites", "security", "--tags", "validation"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.status_of("security.Validation.InvalidTasksAreRejected"), "passed");
  EXPECT_EQ(run.status_of("security.Validation.OversizedBodyIsRejected"), "passed");
}

// A request budget per window: kgate paces the whole run under it and says how many 429s it saw.
TEST_F(VerdictTrust, RequestBudgetKeepsTheRunUnderTheLimit) {
  start_app({}, {"--rate-limit", "30/3s"});
  auto run = kgate("target:\n  max_requests: 30/3s\n", {"--suites", "smoke"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(with_status(run, "inconclusive").empty()) << run.output;
  EXPECT_NE(run.output.find("429 answers: 0"), std::string::npos) << run.output;
}

// --- Holes real apps had -------------------------------------------------------------------------

// A weak secret kgate holds (mint mode) is judged: too short, little entropy.
TEST_F(VerdictTrust, WeakSigningSecretIsAFinding) {
  start_app({}, {}, "secret123");
  auto run = kgate("", {"--suites", "security", "--tags", "auth"}, "secret123");
  EXPECT_EQ(with_status(run, "failed"),
            std::set<std::string>{"security.Auth.SigningSecretIsStrong"})
      << run.output;
  EXPECT_NE(run.message_of("security.Auth.SigningSecretIsStrong").find("9 bytes long"),
            std::string::npos);
  EXPECT_EQ(run.output.find("secret123"), std::string::npos) << "the secret is never printed";
}

// --- Small things
// ---------------------------------------------------------------------------------

TEST_F(VerdictTrust, FiltersTakeTheNamesKgatePrints) {
  start_app();
  auto run = kgate("", {"--suites", "smoke", "--filter", "smoke.Chat.*"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.results["checks"].size(), 1u);
  EXPECT_EQ(run.status_of("smoke.Chat.AddTaskByNaturalLanguage"), "passed");
  EXPECT_EQ(run.results.value("selection", ""), "suites smoke; filter smoke.Chat.*");
}

TEST(KgateHelp, SubcommandsShowTheirOwnExamples) {
  auto init = run_kgate(std::vector<std::string>{"init", "--help"});
  EXPECT_EQ(init.exit_code, 0);
  EXPECT_NE(init.output.find("kgate init -o kgate.yaml"), std::string::npos) << init.output;
  EXPECT_EQ(init.output.find("kgate load http"), std::string::npos) << init.output;
}

}  // namespace
}  // namespace kgate::test
