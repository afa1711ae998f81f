// The check model: checks declared as data, outcomes decided from what a check recorded, suite
// fixtures around a suite's checks, timeouts, and selection. A small synthetic suite, compiled
// into this test binary only, plays every case.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kgate/check.hpp"
#include "kgate/gate.hpp"
#include "kgate/runner.hpp"
#include "kgate/wait.hpp"

namespace kgate {
namespace {

using namespace std::chrono_literals;

// --- the synthetic suite ---------------------------------------------------------------------

std::vector<std::string>& fixture_log() {
  static std::vector<std::string> log;
  return log;
}

// Records when it starts and stops, and measures something over the suite.
class RecordingFixture : public SuiteFixture {
 public:
  std::string name() const override { return "recording"; }
  void start(RunContext& run, SuiteResult& out) override {
    fixture_log().push_back("start");
    started_ = run.now();
    out.events.push_back({started_, "start", "fixture/recording", "live traffic began"});
  }
  void stop(RunContext& run, SuiteResult& out) noexcept override {
    fixture_log().push_back("stop");
    out.charts.push_back(
        {"Live traffic", "req/s", {}, {{"sent", {started_, run.now()}, {20, 21}}}});
    out.scalars.push_back({"availability", 99.5, "%"});
  }
  int seen = 0;

 private:
  double started_ = 0;
};

class SyntheticOutcomes : public Check {
 public:
  static constexpr GroupInfo group{"synthetic", "Outcomes"};
  using Check::Check;
};

KGATE_CHECK(SyntheticOutcomes, Passes, {.title = "passes"}) {
  KGATE_EXPECT(1 + 1 == 2) << "arithmetic";
}

KGATE_CHECK(SyntheticOutcomes, FindsTwoThings, {.title = "records two findings and goes on"}) {
  KGATE_EXPECT(false) << "first finding";
  KGATE_EXPECT(false) << "second finding";
}

KGATE_CHECK(SyntheticOutcomes, RequireStops, {.title = "stops at a required condition"}) {
  KGATE_REQUIRE(false) << "required thing missing";
  KGATE_EXPECT(false) << "never reached";
}

// A real finding in step 1, then the target rate-limits step 5: the finding stands.
KGATE_CHECK(SyntheticOutcomes, FindingThenRateLimited, {.title = "finding, then 429"}) {
  KGATE_EXPECT(false) << "step 1 found a real problem";
  throw CheckStopped{CheckStopped::Inconclusive, "target rate-limited POST /x (429)"};
}

KGATE_CHECK(SyntheticOutcomes, RateLimited, {.title = "rate-limited before deciding"}) {
  throw CheckStopped{CheckStopped::Inconclusive, "target rate-limited GET /x (429)"};
}

KGATE_CHECK(SyntheticOutcomes, SkipsWithReason, {.title = "does not apply"}) {
  KGATE_SKIP() << "no such thing here";
}

KGATE_CHECK(SyntheticOutcomes, SetupFails, {.title = "cannot set up"}) {
  KGATE_SETUP_ERROR() << "could not create the victim task";
}

KGATE_CHECK(SyntheticOutcomes, Crashes, {.title = "throws"}) {
  throw std::runtime_error("unexpected answer shape");
}

KGATE_CHECK(SyntheticOutcomes, LowFinding,
            {.title = "a low-severity finding", .severity = Severity::Low, .reference = "TEST-1"}) {
  KGATE_EXPECT(false) << "a small problem";
}

KGATE_CHECK(SyntheticOutcomes, NeedsSecret, {.title = "needs the secret", .needs = kNeedsSecret}) {
  KGATE_EXPECT(false) << "must not run without a secret";
}

KGATE_CHECK(SyntheticOutcomes, Disruptive, {.title = "disrupts", .needs = kDisruptive}) {}

// Waits for a condition that never comes: only its timeout ends it.
KGATE_CHECK(SyntheticOutcomes, TakesForever, {.title = "outlives its timeout"}) {
  c().progress("waiting for Godot");
  wait_until(
      [](std::string* why) {
        *why = "not yet";
        return false;
      },
      1h);
  KGATE_EXPECT(false) << "the wait gave up: " << (c().stop_requested() ? "stopped" : "?");
}

class SyntheticMeasures : public Check {
 public:
  static constexpr GroupInfo group{"synthetic", "Measures"};
  using Check::Check;
};

KGATE_CHECK(SyntheticMeasures, Timeline,
            {.title = "measures and tells what happened", .tags = {"timeline"}}) {
  auto& traffic = c().fixture<RecordingFixture>();
  ++traffic.seen;
  const double t0 = c().now();
  c().measure("recovery", 1.25, "s");
  c().property("victim", "pod/todo-1");
  c().event_at(t0 + 0.2, "Ready", "pod/todo-2", "replacement ready");
  c().event_at(t0 + 0.1, "delete", "pod/todo-1", "sent");  // out of order: kept sorted
  c().chart({"Requests", "req/s", {}, {{"ok", {t0, t0 + 1}, {20, 19}}}, true});
  c().threshold({"availability >= 99%", "99.5 %", true});
  c().publish(42);
}

KGATE_CHECK(SyntheticMeasures, ReadsAnother,
            {.title = "reads the result of Timeline",
             .depends_on = {"synthetic.Measures.Timeline"}}) {
  const int* v = c().result_of<int>("synthetic.Measures.Timeline");
  KGATE_REQUIRE(v && *v == 42) << "did not get Timeline's result";
}

KGATE_SUITE(synthetic, {.name = "synthetic",
                        .title = "Synthetic",
                        .description = "the check model's test suite",
                        .order = 100,
                        .fixtures =
                            [](const Config&) {
                              std::vector<std::unique_ptr<SuiteFixture>> f;
                              f.push_back(std::make_unique<RecordingFixture>());
                              return f;
                            },
                        .fail_on = [](const Config&) { return std::string("medium"); }});

// A suite whose fixture cannot start: its checks are errors that name it.
class BrokenFixture : public SuiteFixture {
 public:
  std::string name() const override { return "broken"; }
  void start(RunContext&, SuiteResult&) override {
    throw std::runtime_error("port-forward refused");
  }
  void stop(RunContext&, SuiteResult&) noexcept override {}
};
class BrokenOnly : public Check {
 public:
  static constexpr GroupInfo group{"broken", "Only"};
  using Check::Check;
};
KGATE_CHECK(BrokenOnly, Check, {.title = "never runs"}) {}
KGATE_SUITE(broken,
            {.name = "broken", .title = "Broken", .order = 101, .fixtures = [](const Config&) {
               std::vector<std::unique_ptr<SuiteFixture>> f;
               f.push_back(std::make_unique<BrokenFixture>());
               return f;
             }});

// --- helpers -----------------------------------------------------------------------------------

const CheckResult* find(const ChecksRun& r, const std::string& id) {
  for (const auto& c : r.checks)
    if (c.id == id) return &c;
  return nullptr;
}

class CheckModel : public ::testing::Test {
 protected:
  ChecksRun run(const Selection& sel, bool suites_named = false) {
    Config cfg;
    cfg.target.backend = "http://127.0.0.1:9";
    cfg.auth.mint.secret_env = "KGATE_TEST_NO_SUCH_VARIABLE";
    cfg.suite_check_timeouts["synthetic"] = 400ms;
    RunContext context(cfg);
    RunOptions o;
    o.suites_named = suites_named;
    return run_checks(context, select(sel), o);
  }
  static Selection suites(std::vector<std::string> s) {
    Selection sel;
    sel.suites = std::move(s);
    return sel;
  }
};

TEST_F(CheckModel, RegistryIsSoundAndIsTheOneListOfSuites) {
  EXPECT_EQ(registry_problems(), "");
  auto names = suite_names();
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names[names.size() - 2], "synthetic");
  const CheckDef* low = find_check("synthetic.Outcomes.LowFinding");
  ASSERT_NE(low, nullptr);
  EXPECT_EQ(low->info.severity, Severity::Low);
  EXPECT_EQ(low->info.reference, "TEST-1");
  EXPECT_EQ(low->tags, (std::vector<std::string>{"outcomes"}));
  EXPECT_EQ(low->file, "runner_test.cpp") << "no build-machine paths";
}

TEST_F(CheckModel, OutcomesFollowWhatTheCheckRecorded) {
  Selection sel = suites({"synthetic"});
  sel.tags = {"outcomes"};
  auto r = run(sel);
  auto status = [&](const std::string& name) {
    const CheckResult* c = find(r, "synthetic.Outcomes." + name);
    return c ? std::string(to_string(c->status)) : "absent";
  };
  auto message = [&](const std::string& name) {
    const CheckResult* c = find(r, "synthetic.Outcomes." + name);
    return c ? c->message : "";
  };
  EXPECT_EQ(status("Passes"), "passed");
  EXPECT_EQ(status("FindsTwoThings"), "failed");
  EXPECT_EQ(message("FindsTwoThings"), "first finding (+1 more finding)");
  EXPECT_EQ(find(r, "synthetic.Outcomes.FindsTwoThings")->detail,
            "first finding\nsecond finding\n");
  EXPECT_EQ(status("RequireStops"), "failed");
  EXPECT_EQ(find(r, "synthetic.Outcomes.RequireStops")->detail, "") << "nothing after a require";
  EXPECT_EQ(status("FindingThenRateLimited"), "failed") << "a finding seen stays a finding";
  EXPECT_EQ(message("FindingThenRateLimited"), "step 1 found a real problem");
  EXPECT_EQ(status("RateLimited"), "inconclusive");
  EXPECT_EQ(message("RateLimited"), "target rate-limited GET /x (429)");
  EXPECT_EQ(status("SkipsWithReason"), "skipped");
  EXPECT_EQ(message("SkipsWithReason"), "no such thing here");
  EXPECT_EQ(status("SetupFails"), "error");
  EXPECT_EQ(status("Crashes"), "error");
  EXPECT_NE(message("Crashes").find("unexpected answer shape"), std::string::npos);
  EXPECT_EQ(status("LowFinding"), "warning") << "below the suite's floor (medium)";
  EXPECT_EQ(status("NeedsSecret"), "skipped");
  EXPECT_NE(message("NeedsSecret").find("signing secret"), std::string::npos);
  EXPECT_EQ(status("Disruptive"), "skipped") << "not chosen by name";
  EXPECT_EQ(status("TakesForever"), "failed");
  EXPECT_EQ(message("TakesForever"),
            "timed out after 400ms; first finding: the wait gave up: stopped");
}

TEST_F(CheckModel, InconclusiveAndSkippedGateOnlyWithFailOnSkip) {
  RunResult run;
  CheckResult inconclusive;
  inconclusive.status = CheckStatus::Inconclusive;
  run.checks = {CheckResult{}, inconclusive};
  decide(run);
  EXPECT_EQ(run.verdict, "PASS") << "an inconclusive check is not a failure...";
  EXPECT_EQ(run.count(CheckStatus::Passed), 1) << "...and not counted as passed";
  run.fail_on_skip = true;
  decide(run);
  EXPECT_EQ(run.verdict, "FAIL");
  EXPECT_EQ(run.exit_code, 1);
  run.fail_on_skip = false;
  CheckResult error;
  error.status = CheckStatus::Error;
  run.checks.push_back(error);
  decide(run);
  EXPECT_EQ(run.verdict, "FAIL") << "a check that could not be carried out fails the gate";
  run.aborted = true;
  decide(run);
  EXPECT_EQ(run.exit_code, 130);
}

TEST_F(CheckModel, DisruptiveChecksRunOnlyWhenTheirSuiteIsNamed) {
  Selection sel = suites({"synthetic"});
  sel.filters = {"synthetic.Outcomes.Disruptive"};
  EXPECT_EQ(find(run(sel, true), "synthetic.Outcomes.Disruptive")->status, CheckStatus::Passed);
}

TEST_F(CheckModel, FixturesWrapTheSuiteAndMeasurementsAreTyped) {
  fixture_log().clear();
  Selection sel = suites({"synthetic"});
  sel.tags = {"timeline"};
  auto r = run(sel);
  EXPECT_EQ(fixture_log(), (std::vector<std::string>{"start", "stop"}));
  const CheckResult* c = find(r, "synthetic.Measures.Timeline");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, CheckStatus::Passed) << c->message;
  ASSERT_EQ(c->events.size(), 2u);
  EXPECT_EQ(c->events[0].kind, "delete") << "events sorted by time";
  EXPECT_EQ(c->scalars.at(0).unit, "s");
  EXPECT_TRUE(c->charts.at(0).timeline);
  EXPECT_EQ(c->thresholds.at(0).expression, "availability >= 99%");
  ASSERT_EQ(r.suites.size(), 1u);
  EXPECT_EQ(r.suites[0].name, "synthetic");
  EXPECT_EQ(r.suites[0].scalars.at(0).name, "availability");
  EXPECT_EQ(r.suites[0].charts.at(0).series.at(0).values.size(), 2u);
}

TEST_F(CheckModel, ADependencyIsPulledInAndHandsItsResultOver) {
  Selection sel = suites({"synthetic"});
  sel.filters = {"synthetic.Measures.ReadsAnother"};
  auto selected = select(sel);
  ASSERT_EQ(selected.size(), 2u);
  EXPECT_EQ(selected[0]->id, "synthetic.Measures.Timeline");
  auto r = run(sel);
  EXPECT_EQ(find(r, "synthetic.Measures.ReadsAnother")->status, CheckStatus::Passed);
}

TEST_F(CheckModel, AFixtureThatCannotStartMakesItsChecksErrors) {
  auto r = run(suites({"broken"}));
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_EQ(r.checks[0].status, CheckStatus::Error);
  EXPECT_NE(r.checks[0].message.find("port-forward refused"), std::string::npos);
  ASSERT_EQ(r.suites.size(), 1u);
  EXPECT_NE(r.suites[0].error.find("port-forward refused"), std::string::npos);
}

TEST(Selection, CriteriaNarrowAndCompose) {
  auto ids = [](const Selection& s) {
    std::vector<std::string> out;
    for (const auto* c : select(s)) out.push_back(c->id);
    return out;
  };
  Selection s;
  s.suites = {"synthetic"};
  const auto all = ids(s);
  s.filters = {"synthetic.Outcomes.Low*", "synthetic.Outcomes.Passes"};
  EXPECT_EQ(ids(s), (std::vector<std::string>{"synthetic.Outcomes.Passes",
                                              "synthetic.Outcomes.LowFinding"}));
  s.min_severity = Severity::Low;
  EXPECT_EQ(ids(s), (std::vector<std::string>{"synthetic.Outcomes.LowFinding"}));
  s.suites = {"broken"};
  EXPECT_TRUE(ids(s).empty()) << "a filter narrows the chosen suites, never replaces them";
  EXPECT_GT(all.size(), 10u);
  EXPECT_EQ(s.describe(),
            "suites broken; filter synthetic.Outcomes.Low*,synthetic.Outcomes.Passes; "
            "severity >= low");
}

TEST(Selection, GlobMatching) {
  EXPECT_TRUE(glob_match("smoke.Chat.*", "smoke.Chat.AddTaskByNaturalLanguage"));
  EXPECT_TRUE(glob_match("*.Tls.*", "security.Tls.CertificateIsCurrent"));
  EXPECT_TRUE(glob_match("load.Thresholds.p9? < 500ms", "load.Thresholds.p95 < 500ms"));
  EXPECT_FALSE(glob_match("smoke.Chat", "smoke.Chat.AddTask"));
  EXPECT_FALSE(glob_match("Smoke*", "smoke.Chat.AddTask")) << "case matters";
}

}  // namespace
}  // namespace kgate
