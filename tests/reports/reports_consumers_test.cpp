// Real consumers read the reports: junitparser (as CI plugins do) reads the JUnit XML, headless
// Chromium renders the HTML (no console message, no network request, the verdict in the DOM),
// and results.json is validated against docs/results-schema.json.
//
// Environment: KGATE_VENV (venv directory, or its python), KGATE_CHROMIUM (browser binary),
// KGATE_KEEP_REPORTS (a directory to copy the written reports and screenshots into).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kgate/process.hpp"
#include "kgate/redact.hpp"
#include "kgate/reports.hpp"
#include "reports/sample_run.hpp"

namespace fs = std::filesystem;
using kgate::RunResult;
namespace reports = kgate::reports;

namespace {

constexpr auto kProcessLimit = std::chrono::seconds(60);

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

fs::path source_dir() {
  return env_or("KGATE_SOURCE_DIR", KGATE_TEST_SOURCE_DIR);
}

bool is_executable(const fs::path& p) {
  return ::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p);
}

std::optional<fs::path> find_in_path(const std::string& name) {
  const std::string path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    if (is_executable(candidate)) return candidate;
  }
  return std::nullopt;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kgate-consumers-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct Outcome {
  int exit_code = -1;  // 128+signal when killed
  bool timed_out = false;
  std::string out;
  std::string err;
  std::string describe() const {
    return "exit " + std::to_string(exit_code) + (timed_out ? " (timed out)" : "") +
           "\n--- stdout ---\n" + out.substr(0, 4000) + "\n--- stderr ---\n" +
           err.substr(err.size() > 8000 ? err.size() - 8000 : 0);
  }
};

// Runs argv in its own process group with stdout and stderr captured; kills the whole group
// (the browser's helpers included) at the time limit, and once the main process exited.
Outcome run_bounded(const std::vector<std::string>& argv,
                    std::chrono::seconds limit = kProcessLimit) {
  kgate::ProcessSpec spec;
  spec.program = argv.at(0);
  spec.args.assign(argv.begin() + 1, argv.end());
  spec.new_process_group = true;
  kgate::CommandOptions options;
  options.timeout = limit;
  options.max_stdout = 256u << 20;  // a dumped DOM is a few MiB
  options.max_stderr = 1u << 20;
  Outcome o;
  try {
    const kgate::CommandResult r = kgate::run_command(spec, options);
    o.exit_code = r.status;
    o.timed_out = r.timed_out;
    o.out = r.out;
    o.err = r.err;
  } catch (const kgate::SpawnError& e) {
    o.exit_code = 127;  // as a shell says "not found"
    o.err = e.what();
  }
  return o;
}

// The venv's python: KGATE_VENV may name the venv directory (as scripts/setup.sh uses it) or
// the interpreter itself.
fs::path venv_python() {
  const char* env = std::getenv("KGATE_VENV");
  if (env && *env) {
    const fs::path p(env);
    if (is_executable(p)) return p;
    return p / "bin" / "python";
  }
  return fs::path(env_or("HOME", "/root")) / ".cache" / "kgate" / "venv" / "bin" / "python";
}

std::optional<fs::path> chromium() {
  const char* env = std::getenv("KGATE_CHROMIUM");
  if (env && *env) return is_executable(env) ? std::optional<fs::path>(env) : std::nullopt;
  for (const char* name : {"chromium", "chromium-browser", "google-chrome", "chrome"})
    if (auto p = find_in_path(name)) return p;
  return std::nullopt;
}

void keep(const fs::path& file, const std::string& as) {
  const char* dir = std::getenv("KGATE_KEEP_REPORTS");
  if (!dir || !*dir) return;
  fs::create_directories(dir);
  fs::copy_file(file, fs::path(dir) / as, fs::copy_options::overwrite_existing);
}

struct Written {
  fs::path junit, html, json;
};

Written write_all(const RunResult& run, const fs::path& dir, const std::string& stem) {
  Written w{dir / (stem + "-junit.xml"), dir / (stem + "-report.html"),
            dir / (stem + "-results.json")};
  reports::write_junit(run, w.junit.string());
  reports::write_html(run, w.html.string());
  reports::write_json(run, w.json.string());
  keep(w.junit, w.junit.filename().string());
  keep(w.html, w.html.filename().string());
  keep(w.json, w.json.filename().string());
  return w;
}

class ReportsConsumersTest : public ::testing::Test {
 protected:
  void SetUp() override { kgate::clear_secrets(); }
  void TearDown() override { kgate::clear_secrets(); }
  TempDir tmp_;
};

// The external processes below are bounded: a process that hangs is killed at the limit.
TEST_F(ReportsConsumersTest, ExternalProcessesAreBounded) {
  const auto start = std::chrono::steady_clock::now();
  const Outcome o = run_bounded({"sleep", "30"}, std::chrono::seconds(1));
  EXPECT_TRUE(o.timed_out);
  EXPECT_EQ(o.exit_code, 128 + SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  const Outcome ok = run_bounded({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_FALSE(ok.timed_out);
  EXPECT_EQ(ok.exit_code, 3);
  EXPECT_EQ(ok.out, "out\n");
  EXPECT_EQ(ok.err, "err\n");
}

// ------------------------------------------------------------------------------- junitparser

TEST_F(ReportsConsumersTest, JunitparserReadsTheJunitReport) {
  const fs::path python = venv_python();
  ASSERT_TRUE(is_executable(python))
      << python << " not found: run scripts/setup.sh (it creates the venv with junitparser), "
      << "or point KGATE_VENV at a venv that has junitparser";
  const Written w = write_all(kgate::testing::sample_run(), tmp_.path(), "sample");

  using nlohmann::json;
  const std::string target = "https://todo.example.test/?token=[REDACTED]";
  const json suite_props = {
      {"kgate.target", target}, {"kgate.version", "0.1.0"}, {"kgate.aborted", "false"}};
  json expected = {
      {"totals", {{"tests", 4}, {"failures", 2}, {"errors", 0}, {"skipped", 1}}},
      {"suites",
       {{{"name", "smoke"},
         {"tests", 2},
         {"failures", 0},
         {"skipped", 1},
         {"properties", suite_props}},
        {{"name", "security"},
         {"tests", 1},
         {"failures", 1},
         {"skipped", 0},
         {"properties", suite_props}},
        {{"name", "load"},
         {"tests", 0},
         {"failures", 0},
         {"skipped", 0},
         {"properties", suite_props}},
        {{"name", "extra"},
         {"tests", 1},
         {"failures", 1},
         {"skipped", 0},
         {"properties", suite_props}}}},
      {"cases",
       {{"smoke.Health.BackendHealth",
         {{"status", "passed"},
          {"properties",
           {{"latency", "12.5 ms"},
            {"threshold: latency < 500ms", "12.5 ms (met)"},
            {"body", std::string("ok ") + kgate::testing::kNonAscii},
            {"title", "Backend /health answers 200 healthy"}}},
          // The time series and the timeline, end to end.
          {"system_out_contains",
           {"chart: Throughput <over time> (req/s)",
            "answered: 3 points from 1s to 3s, min 10, max 30, last 30",
            "timeline:", "delete             pod/todo-<1>: sent by kgate"}}}},
        {"smoke.Admin.AdminLogin",
         {{"status", "skipped"}, {"message", "no admin credentials <configured> & none given"}}},
        {"security.Authz.NoCrossUserRead",
         {{"status", "failed"},
          {"message", "<script>alert(\"x&y\")</script> leaked with [REDACTED]"},
          {"text_contains",
           {"authz.cpp:42: expected 403, got 200", "a<b & c>d \"q\" 'a'  end", "authz.cpp:57"}},
          {"properties",
           {{"severity", "high"},
            {"reference", "OWASP API1:2023"},
            {"token", "[REDACTED]"},
            {"awkward", "a<b & c>d \"q\" 'a'  end"}}}}},
        {"extra.Misc.SplitSecret",
         {{"status", "failed"},
          {"message", "[REDACTED] must not survive control-character stripping"},
          {"properties", {{"p95", "812 ms"}, {"threshold: p95 < 500ms", "812 ms (not met)"}}}}}}}};
  const fs::path exp_path = tmp_.path() / "expected.json";
  write_text(exp_path, expected.dump(2));

  const fs::path script = source_dir() / "tests" / "reports" / "check_junit.py";
  const Outcome o =
      run_bounded({python.string(), script.string(), w.junit.string(), exp_path.string()});
  EXPECT_EQ(o.exit_code, 0) << o.describe();
  std::cout << o.out;

  // An aborted run: the testsuites-level property is visible to the consumer too.
  RunResult aborted = kgate::testing::sample_run();
  aborted.aborted = true;
  aborted.abort_reason = "interrupted by SIGTERM";
  aborted.verdict = "ABORTED";
  const Written a = write_all(aborted, tmp_.path(), "aborted");
  expected["root_properties"] = {{"kgate.aborted", "true"},
                                 {"kgate.abort_reason", "interrupted by SIGTERM"}};
  for (auto& s : expected["suites"]) s["properties"]["kgate.aborted"] = "true";
  write_text(exp_path, expected.dump(2));
  const Outcome oa =
      run_bounded({python.string(), script.string(), a.junit.string(), exp_path.string()});
  EXPECT_EQ(oa.exit_code, 0) << oa.describe();
}

// ------------------------------------------------------------------------------- Chromium

std::vector<std::string> chromium_args(const fs::path& browser, const fs::path& scratch,
                                       const std::string& profile) {
  return {browser.string(),
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--no-default-browser-check",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--disable-extensions",
          "--user-data-dir=" + (scratch / profile).string(),
          "--enable-logging=stderr",
          "--v=0"};
}

// Console messages (errors, CSP violations, uncaught exceptions) in Chromium's stderr log. The
// report has no script, so any console message at all is a problem.
std::vector<std::string> console_problems(const std::string& log) {
  std::vector<std::string> found;
  std::stringstream ss(log);
  std::string line;
  while (std::getline(ss, line)) {
    if (line.find(":CONSOLE") != std::string::npos || line.find("CONSOLE(") != std::string::npos ||
        line.find("Uncaught") != std::string::npos ||
        line.find("Refused to") != std::string::npos ||
        line.find("Content Security Policy") != std::string::npos)
      found.push_back(line);
  }
  return found;
}

// Requests the page made, from Chromium's NetLog: URL requests whose initiator is the page
// (file pages have an opaque, "null", initiator). Chromium's own background requests (update
// checks and the like, which --disable-background-networking does not fully stop) carry the
// initiator "not an origin" and no file:// isolation key, and are not the report's doing.
std::vector<std::string> page_requests(const fs::path& netlog_path) {
  std::string text = read_file(netlog_path);
  // Chromium may exit before closing the JSON array; repair the tail the way its viewer does.
  nlohmann::json log = nlohmann::json::parse(text, nullptr, false);
  if (log.is_discarded()) {
    while (!text.empty() &&
           (std::isspace(static_cast<unsigned char>(text.back())) || text.back() == ','))
      text.pop_back();
    text += "]}";
    log = nlohmann::json::parse(text, nullptr, false);
  }
  if (log.is_discarded()) throw std::runtime_error("unreadable NetLog " + netlog_path.string());
  int start_job = -1;
  for (const auto& [name, id] : log["constants"]["logEventTypes"].items())
    if (name == "URL_REQUEST_START_JOB") start_job = id.get<int>();
  std::vector<std::string> found;
  for (const auto& e : log["events"]) {
    if (e.value("type", -2) != start_job || !e.contains("params")) continue;
    const auto& p = e["params"];
    if (!p.contains("url")) continue;
    const std::string initiator = p.value("initiator", "");
    const std::string nik = p.value("network_isolation_key", "");
    if (initiator != "not an origin" || nik.find("file:") != std::string::npos)
      found.push_back(p["url"].get<std::string>() + " (initiator " + initiator + ")");
  }
  return found;
}

struct Rendered {
  Outcome screenshot;
  Outcome dom;
  std::vector<std::string> console;
  std::vector<std::string> requests;
  fs::path png;
};

Rendered render(const fs::path& browser, const fs::path& html, const fs::path& scratch,
                const std::string& name) {
  Rendered r;
  const std::string url = "file://" + html.string();
  r.png = scratch / (name + ".png");
  const fs::path netlog = scratch / (name + "-netlog.json");
  auto shot = chromium_args(browser, scratch, name + "-profile-1");
  shot.push_back("--log-net-log=" + netlog.string());
  shot.push_back("--screenshot=" + r.png.string());
  shot.push_back("--window-size=1280,2000");
  shot.push_back("--hide-scrollbars");
  shot.push_back(url);
  r.screenshot = run_bounded(shot);

  auto dom = chromium_args(browser, scratch, name + "-profile-2");
  dom.push_back("--dump-dom");
  dom.push_back(url);
  r.dom = run_bounded(dom);

  r.console = console_problems(r.screenshot.err);
  for (auto& line : console_problems(r.dom.err)) r.console.push_back(line);
  if (fs::exists(netlog)) r.requests = page_requests(netlog);
  if (fs::exists(r.png)) keep(r.png, name + ".png");
  return r;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST_F(ReportsConsumersTest, ChromiumRendersTheHtmlWithoutErrorsOrNetwork) {
  const auto browser = chromium();
  if (!browser)
    GTEST_SKIP() << "Chromium is not installed (apt-get install chromium, or set KGATE_CHROMIUM)";

  struct Case {
    std::string name;
    RunResult run;
    std::string verdict;
    int articles;
  };
  std::vector<Case> cases;
  cases.push_back({"sample", kgate::testing::sample_run(), "FAIL", 4});
  cases.push_back({"example", kgate::testing::example_run(), "FAIL", 12});
  RunResult aborted = kgate::testing::example_run();
  aborted.aborted = true;
  aborted.abort_reason = "interrupted by SIGINT";
  aborted.verdict = "ABORTED";
  aborted.checks.resize(5);
  cases.push_back({"aborted", aborted, "ABORTED", 5});
  RunResult passing = kgate::testing::example_run();
  std::erase_if(passing.checks,
                [](const kgate::CheckResult& c) { return c.status == kgate::CheckStatus::Failed; });
  passing.verdict = "PASS";
  passing.exit_code = 0;
  cases.push_back({"pass", passing, "PASS", 10});

  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Written w = write_all(c.run, tmp_.path(), c.name);
    const Rendered r = render(*browser, w.html, tmp_.path(), c.name);

    EXPECT_EQ(r.screenshot.exit_code, 0) << r.screenshot.describe();
    ASSERT_TRUE(fs::exists(r.png)) << r.screenshot.describe();
    EXPECT_GT(fs::file_size(r.png), 10000u) << "screenshot looks empty";
    EXPECT_TRUE(r.console.empty()) << "console messages:\n" << joined(r.console);
    EXPECT_TRUE(r.requests.empty()) << "the page made network requests:\n" << joined(r.requests);

    EXPECT_EQ(r.dom.exit_code, 0) << r.dom.describe();
    EXPECT_NE(r.dom.out.find("id=\"verdict\">" + c.verdict + "</h1>"), std::string::npos)
        << r.dom.describe();
    EXPECT_NE(r.dom.out.find("Summary by suite"), std::string::npos);
    std::size_t articles = 0;
    for (auto at = r.dom.out.find("<article class=\"check"); at != std::string::npos;
         at = r.dom.out.find("<article class=\"check", at + 1))
      ++articles;
    EXPECT_EQ(articles, static_cast<std::size_t>(c.articles));
    EXPECT_EQ(r.dom.out.find(kgate::testing::kPlantedSecret), std::string::npos);
    if (c.name == "sample") {  // the time series and the timeline, end to end
      EXPECT_NE(r.dom.out.find("<h4>Timeline</h4>"), std::string::npos);
      EXPECT_NE(r.dom.out.find("pod/todo-&lt;1&gt;"), std::string::npos);
      EXPECT_NE(r.dom.out.find("Throughput &lt;over time&gt;"), std::string::npos);
    }
  }
}

// The detectors above must be able to fail: a page with a console error, an uncaught
// exception, a CSP-blocked image and (without CSP) a real network request is caught.
TEST_F(ReportsConsumersTest, ChromiumDetectorsCatchPlantedProblems) {
  const auto browser = chromium();
  if (!browser)
    GTEST_SKIP() << "Chromium is not installed (apt-get install chromium, or set KGATE_CHROMIUM)";

  const fs::path csp = tmp_.path() / "planted-csp.html";
  write_text(
      csp,
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv="
      "\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'\">"
      "<title>t</title></head><body><img src=\"http://127.0.0.1:9/blocked.png\" alt=\"\">"
      "<script>console.error('planted-error'); throw new Error('planted-throw');</script>"
      "</body></html>");
  const Rendered a = render(*browser, csp, tmp_.path(), "planted-csp");
  const std::string console = joined(a.console);
  EXPECT_NE(console.find("planted-error"), std::string::npos) << a.screenshot.describe();
  EXPECT_NE(console.find("planted-throw"), std::string::npos) << a.screenshot.describe();
  EXPECT_NE(console.find("blocked.png"), std::string::npos) << a.screenshot.describe();

  const fs::path net = tmp_.path() / "planted-net.html";
  write_text(net,
             "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>t</title></head><body>"
             "<img src=\"http://127.0.0.1:9/fetched.png\" alt=\"\"></body></html>");
  const Rendered b = render(*browser, net, tmp_.path(), "planted-net");
  EXPECT_NE(joined(b.requests).find("http://127.0.0.1:9/fetched.png"), std::string::npos)
      << b.screenshot.describe();
}

// ------------------------------------------------------------------------------- JSON Schema

TEST_F(ReportsConsumersTest, ResultsJsonMatchesTheSchema) {
  const fs::path schema = source_dir() / "docs" / "results-schema.json";
  ASSERT_TRUE(fs::exists(schema)) << schema;
  const fs::path script = source_dir() / "tests" / "reports" / "check_results_json.py";

  // Prefer an interpreter that has jsonschema: the venv, then the system python3. Without it
  // the script falls back to its built-in validator for the keywords the schema uses.
  std::vector<fs::path> pythons;
  if (is_executable(venv_python())) pythons.push_back(venv_python());
  if (auto p = find_in_path("python3")) pythons.push_back(*p);
  ASSERT_FALSE(pythons.empty()) << "no python found";
  fs::path python = pythons.front();
  for (const auto& p : pythons) {
    if (run_bounded({p.string(), "-c", "import jsonschema"}).exit_code == 0) {
      python = p;
      break;
    }
  }

  RunResult aborted = kgate::testing::example_run();
  aborted.aborted = true;
  aborted.abort_reason = "interrupted";
  aborted.verdict = "ABORTED";
  for (const auto& [name, run] :
       std::vector<std::pair<std::string, RunResult>>{{"sample", kgate::testing::sample_run()},
                                                      {"example", kgate::testing::example_run()},
                                                      {"aborted", aborted},
                                                      {"empty", [] {
                                                         RunResult r;
                                                         r.verdict = "ERROR";
                                                         r.exit_code = 2;
                                                         return r;
                                                       }()}}) {
    SCOPED_TRACE(name);
    const Written w = write_all(run, tmp_.path(), name);
    const Outcome tool = run_bounded({python.string(), "-m", "json.tool", w.json.string()});
    EXPECT_EQ(tool.exit_code, 0) << tool.describe();
    const Outcome o =
        run_bounded({python.string(), script.string(), w.json.string(), schema.string()});
    EXPECT_EQ(o.exit_code, 0) << o.describe();
    std::cout << name << ": " << o.out;
  }
}

}  // namespace
