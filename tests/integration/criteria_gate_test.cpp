// Release criteria end to end (issue 20): kgate run --criteria against the reference app, as a
// release manager's CI would. A criteria file met; one not met because of a fault; one not
// verified because its suite was not selected; a typo'd check id is exit 2 naming its place;
// the HTML opens with the criteria table (headless Chromium: present, no console message); and
// junitparser reads the `criteria` testsuite.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "framework/todo_app.hpp"
#include "integration/kgate_cli.hpp"
#include "kgate/process.hpp"

namespace kgate::test {
namespace {

namespace fs = std::filesystem;
using testfw::TodoApp;
using testfw::TodoAppOptions;

constexpr const char* kSecret = "kgate-criteria-it-secret-5b1e0c7a93d2f468";

// Two required criteria the smoke suite proves (one with a figure), one advisory item that only
// a person can check. Line 4 is the first check id (the typo story below edits it).
const char* kCriteria =
    "criteria:\n"
    "  - id: tasks-complete\n"
    "    text: \"Complete task\"\n"
    "    checks: [smoke.Tasks.FullTaskFlow]\n"
    "    source: \"seed 001 §5.1\"\n"
    "  - id: health-checks\n"
    "    text: \"Test health checks\"\n"
    "    checks: [smoke.Health.BackendHealth, smoke.Health.HealthReflectsService]\n"
    "    figures: [\"smoke.Health.BackendHealth.latency < 5s\"]\n"
    "  - id: images-scanned\n"
    "    text: \"Images scanned (no critical vulnerabilities)\"\n"
    "    manual: \"attach the scanner's report\"\n"
    "    level: advisory\n";

// A required criterion on the security suite: with --suites smoke it cannot be verified.
const char* kSecurityCriterion =
    "  - id: security-configuration\n"
    "    text: \"Validate security configurations\"\n"
    "    checks: [\"security.Auth.*\"]\n";

class CriteriaGate : public ::testing::Test {
 protected:
  void start_app(std::vector<std::string> faults = {}) {
    TodoAppOptions a;
    a.role = "api";
    a.secret = kSecret;
    a.faults = std::move(faults);
    api_ = std::make_unique<TodoApp>(a);
  }

  KgateRun kgate(const std::string& criteria, std::vector<std::string> extra) {
    KgateOptions o;
    o.args = {"run", "--target", api_ ? api_->url() : "http://127.0.0.1:9", "--criteria",
              write_temp_file("criteria.yaml", criteria)};
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    o.env = {{"BETTER_AUTH_SECRET", kSecret}};
    return run_kgate(o);
  }

  // id -> verdict of every criterion in results.json.
  static std::map<std::string, std::string> verdicts(const KgateRun& run) {
    std::map<std::string, std::string> out;
    for (const auto& c : run.results["criteria"]) out[c.value("id", "")] = c.value("verdict", "");
    return out;
  }
  static std::set<std::string> failed_checks(const KgateRun& run) {
    std::set<std::string> out;
    for (const auto& c : run.results["checks"])
      if (c.value("status", "") == "failed") out.insert(c.value("id", ""));
    return out;
  }
  static std::string reason(const KgateRun& run, const std::string& id) {
    for (const auto& c : run.results["criteria"])
      if (c.value("id", "") == id) return c.value("reason", "");
    return "";
  }

  std::unique_ptr<TodoApp> api_;
};

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST_F(CriteriaGate, MetOnAHealthyApp) {
  start_app();
  auto run = kgate(kCriteria, {"--suites", "smoke"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(verdicts(run),
            (std::map<std::string, std::string>{{"tasks-complete", "met"},
                                                {"health-checks", "met"},
                                                {"images-scanned", "not verified"}}));
  EXPECT_HAS(run.output, "release criteria: all 2 required criteria met");
  EXPECT_HAS(reason(run, "health-checks"), "smoke.Health.BackendHealth latency ");
  EXPECT_HAS(reason(run, "images-scanned"), "manual review: attach the scanner's report");
  EXPECT_EQ(run.results["verdict"], "PASS");
  EXPECT_EQ(run.results["signoff"]["criteria_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(run.results["signoff"]["versions"][0]["name"], "kgate");
}

// broken-toggle: completing a task does not complete it. Exactly the task flow fails, and so
// exactly the criterion resting on it is not met; the gate fails with the criteria line.
TEST_F(CriteriaGate, NotMetWhenAFaultBreaksWhatItRestsOn) {
  start_app({"broken-toggle"});
  auto run = kgate(kCriteria, {"--suites", "smoke"});
  ASSERT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(failed_checks(run), std::set<std::string>{"smoke.Tasks.FullTaskFlow"});
  EXPECT_EQ(verdicts(run),
            (std::map<std::string, std::string>{{"tasks-complete", "not met"},
                                                {"health-checks", "met"},
                                                {"images-scanned", "not verified"}}));
  EXPECT_HAS(reason(run, "tasks-complete"), "smoke.Tasks.FullTaskFlow failed: step 'complete'");
  EXPECT_HAS(run.output,
             "RELEASE CRITERIA NOT MET: 1 of 2 required criteria not met or not verified: "
             "tasks-complete (not met)");

  // The HTML opens with the criteria table (after the verdict banner, above the suites), and its
  // row links to the failed check's card.
  const auto criteria = run.html.find("<section id=\"criteria\">");
  ASSERT_NE(criteria, std::string::npos);
  EXPECT_LT(run.html.find("id=\"verdict\">FAIL</h1>"), criteria);
  EXPECT_LT(criteria, run.html.find("<section id=\"suites\">"));
  EXPECT_LT(criteria, run.html.find("<article class=\"check"));
  EXPECT_HAS(run.html, "<tr id=\"criterion-tasks-complete\">");
  EXPECT_HAS(run.html, "\"><code>smoke.Tasks.FullTaskFlow</code></a>: failed");

  // junitparser reads the criteria testsuite: one testcase per criterion, failure text = why.
  const fs::path python = [] {
    const char* v = std::getenv("KGATE_VENV");
    if (v && *v) return fs::is_regular_file(v) ? fs::path(v) : fs::path(v) / "bin" / "python";
    const char* home = std::getenv("HOME");
    return fs::path(home ? home : "/root") / ".cache" / "kgate" / "venv" / "bin" / "python";
  }();
  ASSERT_EQ(::access(python.c_str(), X_OK), 0)
      << python
      << " not found: run scripts/setup.sh (the venv with junitparser), or set KGATE_VENV";
  const nlohmann::json expected = {
      {"tasks-complete",
       {{"status", "failed"}, {"type", "not met"}, {"message_contains", "step 'complete'"}}},
      {"health-checks", {{"status", "passed"}}},
      {"images-scanned", {{"status", "skipped"}, {"message_contains", "manual review"}}}};
  ProcessSpec py;
  py.program = python.string();
  py.args = {std::string(KGATE_TEST_SOURCE_DIR) + "/tests/integration/check_criteria_junit.py",
             run.dir + "/junit.xml", write_temp_file("expected.json", expected.dump())};
  CommandOptions limits;
  limits.timeout = std::chrono::seconds(60);
  const CommandResult parsed = run_command(py, limits);
  EXPECT_EQ(parsed.status, 0) << parsed.out << parsed.err;
  std::cout << parsed.out;

  // Headless Chromium renders it: the criteria table is in the DOM first, and the page logs
  // nothing to the console (no error, no CSP violation).
  std::optional<std::string> browser;
  if (const char* b = std::getenv("KGATE_CHROMIUM"); b && *b) browser = b;
  for (const char* name : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (!browser && ::access(name, X_OK) == 0) browser = name;
  if (!browser) GTEST_SKIP() << "Chromium is not installed (apt-get install chromium)";
  const std::string profile = run.dir + "/chromium-profile";
  auto chrome = [&](std::vector<std::string> more) {
    ProcessSpec c;
    c.program = *browser;
    c.args = {"--headless",
              "--no-sandbox",
              "--disable-gpu",
              "--no-first-run",
              "--disable-background-networking",
              "--disable-component-update",
              "--disable-extensions",
              "--enable-logging=stderr",
              "--v=0",
              "--user-data-dir=" + profile};
    c.args.insert(c.args.end(), more.begin(), more.end());
    c.args.push_back("file://" + run.dir + "/report.html");
    c.new_process_group = true;  // the browser's helpers go with it
    CommandOptions o;
    o.timeout = std::chrono::seconds(60);
    o.max_stdout = 64u << 20;
    o.max_stderr = 4u << 20;  // every console line, not only the tail
    return run_command(c, o);
  };
  const std::string png = run.dir + "/criteria.png";
  const CommandResult shot = chrome({"--screenshot=" + png, "--window-size=1280,1600"});
  const CommandResult dom = chrome({"--dump-dom"});
  ASSERT_EQ(dom.status, 0) << dom.err;
  ASSERT_TRUE(fs::exists(png)) << shot.err;
  EXPECT_GT(fs::file_size(png), 10000u) << "the screenshot looks empty";
  const auto in_dom = dom.out.find("<section id=\"criteria\">");
  ASSERT_NE(in_dom, std::string::npos) << dom.out.substr(0, 2000);
  EXPECT_LT(in_dom, dom.out.find("<section id=\"suites\">"));
  EXPECT_HAS(dom.out, "NOT MET</span>");
  for (const auto* log : {&shot.err, &dom.err}) {
    std::stringstream lines(*log);
    for (std::string line; std::getline(lines, line);)
      EXPECT_TRUE(line.find("CONSOLE") == std::string::npos &&
                  line.find("Content Security Policy") == std::string::npos &&
                  line.find("Uncaught") == std::string::npos)
          << "console message: " << line;
  }
}

// The security suite is not selected: the required criterion on it is NOT VERIFIED, never met,
// and it fails the gate although no check failed. kgate says so before it runs anything.
TEST_F(CriteriaGate, NotVerifiedWhenItsSuiteIsNotSelected) {
  start_app();
  auto run = kgate(std::string(kCriteria) + kSecurityCriterion, {"--suites", "smoke"});
  ASSERT_EQ(run.exit_code, 1) << run.output;
  EXPECT_TRUE(failed_checks(run).empty()) << run.output;
  EXPECT_EQ(verdicts(run)["security-configuration"], "not verified");
  EXPECT_EQ(verdicts(run)["tasks-complete"], "met");
  EXPECT_HAS(reason(run, "security-configuration"), "not selected in this run");
  EXPECT_HAS(run.output, "the criteria resting on them will be NOT VERIFIED");
  EXPECT_HAS(run.output,
             "RELEASE CRITERIA NOT MET: 1 of 3 required criteria not met or not "
             "verified: security-configuration (not verified)");
  EXPECT_HAS(run.html, "1 required release criterion not met or not verified (no check failed)");
  // Selected, the same criterion is decided.
  auto both = kgate(std::string(kCriteria) + kSecurityCriterion, {"--suites", "smoke,security"});
  EXPECT_EQ(both.exit_code, 0) << both.output;
  EXPECT_EQ(verdicts(both)["security-configuration"], "met") << both.output;
}

// Ctrl-C mid-run: the reports are still written, with the criteria; what had not run is NOT
// VERIFIED (never met), and the run is ABORTED.
TEST_F(CriteriaGate, InterruptedRunStillReportsItsCriteria) {
  TodoAppOptions a;
  a.role = "api";
  a.secret = kSecret;
  a.faults = {"slow"};
  a.env = {{"TODO_FAULT_SLOW_MS", "1500"}};
  api_ = std::make_unique<TodoApp>(a);
  KgateOptions o;
  o.args = {"run",
            "--target",
            api_->url(),
            "--suites",
            "smoke",
            "--criteria",
            write_temp_file("criteria.yaml", kCriteria)};
  o.env = {{"BETTER_AUTH_SECRET", kSecret}};
  o.interrupt_marker = "smoke.Health.BackendHealth";  // the first check has finished
  auto run = run_kgate(o);
  EXPECT_EQ(run.exit_code, 130) << run.output;
  EXPECT_EQ(run.results.value("verdict", ""), "ABORTED") << run.output;
  EXPECT_EQ(verdicts(run)["tasks-complete"], "not verified") << run.output;
  EXPECT_HAS(run.junit, "<testsuite name=\"criteria\"");
  EXPECT_HAS(run.html, "<section id=\"criteria\">");
}

// A typo'd check id: a configuration error naming file:line:column, exit 2, before any target
// is contacted (the target here answers nothing: reaching it would be exit 3).
TEST_F(CriteriaGate, TypoedCheckIdIsAConfigErrorWithItsPlace) {
  std::string typo = kCriteria;
  typo.replace(typo.find("smoke.Tasks.FullTaskFlow"), 24, "smoke.Tasks.FullTaskFlw");
  auto run = kgate(typo, {"--suites", "smoke"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_HAS(run.output,
             "criteria.yaml:4:14: unknown check 'smoke.Tasks.FullTaskFlw': did you "
             "mean 'smoke.Tasks.FullTaskFlow'?");
  // kgate validate says the same, and the seeds' starter file validates.
  KgateOptions v;
  v.args = {"validate", "--criteria", write_temp_file("criteria.yaml", typo)};
  auto validated = run_kgate(v);
  EXPECT_EQ(validated.exit_code, 2);
  EXPECT_HAS(validated.output, "criteria.yaml:4:14: unknown check");
  const std::string seeds = fs::path(write_temp_file("x", "")).parent_path() / "seeds.yaml";
  KgateOptions init;
  init.args = {"init", "--criteria", "seeds", "-o", seeds};
  ASSERT_EQ(run_kgate(init).exit_code, 0);
  v.args = {"validate", "--criteria", seeds};
  auto starter = run_kgate(v);
  EXPECT_EQ(starter.exit_code, 0) << starter.output;
  EXPECT_HAS(starter.output, "criteria valid");
}

}  // namespace
}  // namespace kgate::test
