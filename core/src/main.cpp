// kgate: one binary, its suites, one verdict. See README.md and docs/.
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "kgate/audit_command.hpp"
#include "kgate/check.hpp"
#include "kgate/cluster_command.hpp"
#include "kgate/collect_command.hpp"
#include "kgate/config.hpp"
#include "kgate/criteria.hpp"
#include "kgate/distributed_load.hpp"
#include "kgate/duration.hpp"
#include "kgate/embedded.hpp"
#include "kgate/gate.hpp"
#include "kgate/http.hpp"
#include "kgate/load_command.hpp"
#include "kgate/redact.hpp"
#include "kgate/registry.hpp"
#include "kgate/reports.hpp"
#include "kgate/runner.hpp"
#include "kgate/url.hpp"

namespace kgate {
namespace {

void on_signal(int) {
  // A second Ctrl-C means "now": leave without reports.
  if (note_interrupt() >= 1) ::_exit(kExitInterrupted);
}

// Every log line passes through redact() before it reaches stderr.
class RedactingSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    std::string line = redact(std::string_view(buf.data(), buf.size()));
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

void setup_logging(bool verbose) {
  auto logger = std::make_shared<spdlog::logger>("kgate", std::make_shared<RedactingSink>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s + ",") {
    if (ch == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (ch != ' ') {
      cur += ch;
    }
  }
  return out;
}

std::string joined(const std::vector<std::string>& v, const char* sep = ", ") {
  return fmt::format("{}", fmt::join(v, sep));
}

// "a, b and c"
std::string words(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i)
    out += (i == 0 ? "" : i + 1 == v.size() ? " and " : ", ") + v[i];
  return out;
}

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

struct SelectArgs {
  std::string suites, tags, severity;
  std::vector<std::string> filters;
};

struct RunArgs {
  std::string config_path, criteria_path, target, frontend, ingress;
  SelectArgs select;
  std::string junit, html, json, report_dir;
  bool insecure = false, verbose = false, fail_on_skip = false, dry_run = false;
  bool results_block = false;  // print the results as a log block at the end (kgate collect)
};

void add_select_options(CLI::App* c, SelectArgs& a) {
  c->add_option("-s,--suites", a.suites, "comma-separated suites: " + joined(suite_names(), ","));
  c->add_option("--tags", a.tags, "comma-separated tags (groups such as health, auth)");
  c->add_option("--filter", a.filters,
                "glob over check ids as `kgate list` prints them, e.g. 'smoke.Chat.*' "
                "(repeatable; narrows --suites and --tags)");
  c->add_option("--severity", a.severity,
                "only checks of at least this severity: info, low, medium, high, critical");
}

// The selection from the command line over the config's defaults. Unknown suites and
// severities are usage errors.
Selection selection_from(const SelectArgs& a, const Config& cfg) {
  Selection sel;
  sel.suites_named = !a.suites.empty();
  sel.suites = a.suites.empty() ? cfg.suites : split_list(a.suites);
  const auto known = suite_names();
  for (const auto& s : sel.suites) {
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      std::string hint = suggest(s, known);
      throw ConfigError("--suites: unknown suite '" + s + "' (suites: " + joined(known) + ")" +
                        (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
  }
  sel.tags = split_list(a.tags);
  for (const auto& f : a.filters)
    for (const auto& part : split_list(f)) sel.filters.push_back(part);
  if (!a.severity.empty()) {
    sel.min_severity = parse_severity(a.severity);
    if (!sel.min_severity)
      throw ConfigError("--severity: '" + a.severity +
                        "' is not one of info, low, medium, high, critical");
  }
  return sel;
}

// Does the target answer at all? One deadline, target.reachable_within, for every URL together:
// no attempt outlives it. "" when everything answered.
std::string preflight(const Config& cfg) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + cfg.target.reachable_within;
  std::vector<std::string> urls{join_url(cfg.target.backend, cfg.profile.health_path)};
  if (!cfg.target.frontend.empty())
    urls.push_back(join_url(cfg.target.frontend, cfg.profile.frontend_health_path));
  if (!cfg.target.ingress.empty())
    urls.push_back(join_url(cfg.target.ingress, cfg.profile.frontend_page_path));
  for (const auto& url : urls) {
    std::string last_error = "no attempt was made";
    for (;;) {
      if (interrupted()) return "";
      const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
      // An attempt with almost no time left could only time out: keep the real reason instead.
      if (left < Millis(50))
        return url + " is not reachable within " +
               std::to_string(cfg.target.reachable_within.count()) + " ms: " + last_error;
      http::ClientOptions o;
      o.connect_timeout = std::min(cfg.target.connect_timeout, left);
      o.request_timeout = std::min(cfg.target.request_timeout, left);
      o.verify_tls = !cfg.target.insecure;
      o.ca_file = cfg.target.ca_file;
      try {
        http::Client(o).send({"GET", url, {}, {}});  // any HTTP answer means reachable
        break;
      } catch (const http::TransportError& e) {
        last_error = e.what();
      }
      std::this_thread::sleep_for(std::min(
          Millis(250), std::chrono::duration_cast<Millis>(deadline - Clock::now()) - Millis(50)));
    }
  }
  return "";
}

// Test identities are the base of most checks: when kgate cannot get them, the run could not
// test, and that is a failure, never a row of quiet skips.
std::optional<CheckResult> identity_preflight(RunContext& run,
                                              const std::vector<const CheckDef*>& selected) {
  bool one = false, two = false;
  for (const auto* c : selected) {
    one = one || (c->info.needs & (kNeedsIdentity | kNeedsTwoIdentities));
    two = two || (c->info.needs & kNeedsTwoIdentities);
  }
  if (!one) return std::nullopt;
  CheckContext cc(run, nullptr);
  CheckResult r;
  const double started = run.now();
  std::vector<std::string> failures;
  for (const char* label : {"alice", "bob"}) {
    if (std::string(label) == "bob" && !two) continue;
    try {
      run.identity(label);
    } catch (const IdentityUnavailable& e) {
      failures.push_back(std::string("identity '") + label + "': " + e.what());
    }
  }
  r = cc.take_result();
  r.id = "preflight.Auth.Identities";
  r.suite = "preflight";
  r.classname = "preflight.Auth";
  r.name = "Identities";
  r.title =
      "kgate obtains the test identities the selected checks need (" + run.describe_auth() + ")";
  r.started_s = started;
  r.seconds = run.now() - started;
  if (failures.empty()) return std::nullopt;  // a passing preflight is not worth a row
  r.status = CheckStatus::Failed;
  r.message = "kgate could not obtain test identities, so it could not test: " + failures[0];
  for (const auto& f : failures) r.detail += f + "\n";
  return r;
}

void write_reports(const RunResult& run, const ReportsConfig& paths) {
  reports::write_junit(run, paths.junit);
  reports::write_html(run, paths.html);
  reports::write_json(run, paths.json);
  std::cout << "reports: " << paths.junit << ", " << paths.html << ", " << paths.json << std::endl;
}

Config load_run_config(const RunArgs& a) {
  Config cfg;
  if (!a.config_path.empty()) cfg = load_config(a.config_path);
  if (!a.criteria_path.empty()) {
    if (!cfg.criteria.items.empty())
      std::cout << "kgate: criteria from " << a.criteria_path << " (instead of "
                << cfg.criteria.file << "'s criteria:)" << std::endl;
    cfg.criteria = load_criteria_file(a.criteria_path);
  }
  auto set_url = [](const std::string& flag, const std::string& value, std::string& out) {
    if (value.empty()) return;
    try {
      Url::parse(value);
    } catch (const std::exception& e) {
      throw ConfigError("--" + flag + ": " + e.what());
    }
    out = value;
    while (out.size() > 1 && out.back() == '/') out.pop_back();
  };
  set_url("target", a.target, cfg.target.backend);
  set_url("frontend", a.frontend, cfg.target.frontend);
  set_url("ingress", a.ingress, cfg.target.ingress);
  if (a.insecure) cfg.target.insecure = true;
  if (a.fail_on_skip) cfg.fail_on_skip = true;
  if (a.dry_run) cfg.dry_run = true;
  if (!a.report_dir.empty()) {
    cfg.reports.junit = a.report_dir + "/junit.xml";
    cfg.reports.html = a.report_dir + "/report.html";
    cfg.reports.json = a.report_dir + "/results.json";
  }
  if (!a.junit.empty()) cfg.reports.junit = a.junit;
  if (!a.html.empty()) cfg.reports.html = a.html;
  if (!a.json.empty()) cfg.reports.json = a.json;
  return cfg;
}

// Criteria that name checks the run does not select can only end NOT VERIFIED: say so before
// anything runs, with the suites that would verify them.
void note_unselected(const std::vector<ResolvedCriterion>& criteria,
                     const std::vector<const CheckDef*>& selected) {
  std::set<std::string> chosen, missing, suites;
  for (const auto* c : selected) chosen.insert(c->id);
  for (const auto& rc : criteria) {
    std::vector<std::string> ids = rc.check_ids;
    for (const auto& f : rc.figures) ids.insert(ids.end(), f.check_ids.begin(), f.check_ids.end());
    for (const auto& id : ids)
      if (!chosen.count(id) && missing.insert(id).second) suites.insert(find_check(id)->suite);
  }
  if (missing.empty()) return;
  std::cout << "note: the criteria name " << missing.size()
            << " check(s) this run does not select (suites "
            << joined(std::vector<std::string>(suites.begin(), suites.end()), ",")
            << "): the criteria resting on them will be NOT VERIFIED" << std::endl;
}

int cmd_run(const RunArgs& a) {
  Config cfg = load_run_config(a);
  register_dynamic_checks(cfg);
  // Criteria are checked against the registry before anything is contacted: a mistyped check id
  // is a configuration error (exit 2), never a criterion that quietly cannot be met.
  const auto criteria = resolve_criteria(cfg.criteria);
  const Selection sel = selection_from(a.select, cfg);
  const auto selected = select(sel);
  if (selected.empty()) {
    std::cerr << "kgate: no check matched the selection (" << sel.describe()
              << "); `kgate list` shows what exists" << std::endl;
    return kExitUsage;
  }
  std::vector<std::string> selected_ids;
  for (const auto* c : selected) selected_ids.push_back(c->id);

  RunResult run;
  run.tool_version = KGATE_VERSION;
  run.started_at = now_iso();
  run.suites = sel.suites;
  run.selection = sel.describe();
  run.fail_on_skip = cfg.fail_on_skip;
  auto t0 = std::chrono::steady_clock::now();
  if (!criteria.empty()) {
    note_unselected(criteria, selected);
    auto& so = run.signoff;
    so.config_file = a.config_path;
    if (!a.config_path.empty()) so.config_sha256 = file_sha256(a.config_path);
    so.criteria_file = cfg.criteria.file;
    so.criteria_sha256 = file_sha256(cfg.criteria.file);
    so.versions.push_back({"kgate", KGATE_VERSION});
    add_cluster_versions(cfg.kubernetes, so);
    std::string versions;
    for (const auto& v : so.versions)
      versions += (versions.empty() ? "" : ", ") + v.name + " " + v.value;
    std::cout << "versions: " << redact(versions)
              << (so.versions_note.empty() ? "" : "; " + redact(so.versions_note)) << std::endl;
  }
  auto judge_criteria = [&] {
    if (!criteria.empty()) run.criteria = decide_criteria(criteria, run, selected_ids);
  };

  // A run of Kubernetes-only suites (the audit) needs no HTTP target.
  const bool needs_target = std::any_of(selected.begin(), selected.end(), [](const CheckDef* c) {
    const SuiteDef* s = find_suite(c->suite);
    return !s || s->needs_target;
  });
  std::unique_ptr<EmbeddedApp> embedded;
  std::string secret;
  if (cfg.target.backend.empty() && needs_target) {
    std::cout << "kgate: no target given: starting the embedded reference todo-app" << std::endl;
    try {
      embedded = std::make_unique<EmbeddedApp>();
    } catch (const std::exception& e) {
      std::cerr << "kgate: " << redact(e.what()) << std::endl;
      return kExitUnreachable;
    }
    cfg.target.backend = embedded->backend_url();
    if (cfg.target.frontend.empty()) cfg.target.frontend = embedded->frontend_url();
    secret = embedded->secret();
    // kgate's own loopback child is not a live target: no need to spare it.
    cfg.security.max_rps = 0;
  }
  run.target =
      !cfg.target.backend.empty() ? cfg.target.backend
      : cfg.kubernetes.configured
          ? "Kubernetes " +
                (cfg.kubernetes.release.empty() ? std::string("namespace")
                                                : "release " + cfg.kubernetes.release) +
                (cfg.kubernetes.namespace_.empty() ? "" : " in " + cfg.kubernetes.namespace_)
          : "no target";
  std::cout << "kgate " << KGATE_VERSION << ": " << selected.size() << " checks (" << sel.describe()
            << ") against " << run.target << std::endl;

  auto finish = [&](int code_if_written) {
    run.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int code = code_if_written;
    try {
      write_reports(run, cfg.reports);
    } catch (const std::exception& e) {
      std::cerr << "kgate: cannot write reports: " << e.what() << std::endl;
      code = kExitReportsFailed;
    }
    // Last in the log, for `kgate collect` (a helm test pod's results travel through its log).
    if (a.results_block) {
      std::cerr << std::flush;
      std::cout << std::flush;
      std::cout << results_block(run) << std::flush;
    }
    return code;
  };

  if (std::string err = cfg.target.backend.empty() ? "" : preflight(cfg);
      !err.empty() && !interrupted()) {
    CheckResult pre;
    pre.id = "preflight.Target.Reachable";
    pre.suite = "preflight";
    pre.classname = "preflight.Target";
    pre.name = "Reachable";
    pre.title = "The target answers HTTP";
    pre.status = CheckStatus::Error;
    pre.message = err;
    run.checks.push_back(pre);
    run.verdict = "ERROR";
    run.exit_code = kExitUnreachable;
    judge_criteria();  // every criterion is NOT VERIFIED, and the report says why
    std::cerr << "kgate: target unreachable: " << redact(err) << std::endl;
    return finish(kExitUnreachable);
  }

  {
    RunContext context(cfg, secret);
    std::cout << "auth: " << context.describe_auth() << std::endl;
    if (auto pre = identity_preflight(context, selected)) {
      std::cout << "  FAIL  " << pre->id << "\n        " << redact(pre->message) << std::endl;
      run.checks.push_back(std::move(*pre));
    }
    RunOptions options;
    options.verbose = a.verbose;
    options.live_line = ::isatty(STDOUT_FILENO);
    options.suites_named = sel.suites_named;
    ChecksRun done = run_checks(context, selected, options);
    for (auto& c : done.checks) run.checks.push_back(std::move(c));
    run.suite_results = std::move(done.suites);
    run.started_epoch_ms = context.started_epoch_ms();
    run.properties.push_back({"auth", context.describe_auth()});
    run.properties.push_back({"429 answers", std::to_string(context.rate_limited_answers())});
    if (cfg.target.max_requests > 0)
      run.properties.push_back(
          {"request budget", std::to_string(cfg.target.max_requests) + " per " +
                                 format_duration(cfg.target.max_requests_window)});
    std::cout << "429 answers: " << context.rate_limited_answers() << std::endl;
  }
  if (embedded) embedded->stop();
  run.aborted = interrupted();
  if (run.aborted) run.abort_reason = "interrupted by signal; results are partial";
  judge_criteria();
  decide(run);
  print_summary(run, std::cout, ::isatty(STDOUT_FILENO));
  return finish(run.exit_code);
}

struct ListArgs {
  std::string config_path;
  SelectArgs select;
  bool json = false;
  bool figures = false;
};

// The figures release criteria can name (CheckInfo::figures), with their short forms.
int list_figures(const std::vector<const CheckDef*>& shown) {
  std::set<std::string> ids;
  for (const auto* c : shown) ids.insert(c->id);
  std::vector<FigureRow> rows;
  for (auto& r : figure_catalog())
    if (ids.count(r.check_id)) rows.push_back(std::move(r));
  std::size_t w = 6, ws = 10, wu = 4;
  for (const auto& r : rows) {
    w = std::max(w, r.reference.size());
    ws = std::max(ws, r.short_form.size() + 12);
    wu = std::max(wu, r.unit.size());
  }
  std::cout << fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", "FIGURE", w, "UNIT", wu, "SHORT FORM",
                           ws, "RECORDED BY");
  for (const auto& r : rows)
    std::cout << fmt::format(
        "{:<{}}  {:<{}}  {:<{}}  {}\n", r.reference, w, r.unit, wu,
        r.short_form + (r.sharing > 1 ? fmt::format(" ({} checks)", r.sharing) : ""), ws,
        r.check_title);
  std::cout << rows.size() << " figures; a criterion names one as <check id or glob>.<figure> or "
            << "<suite>.<figure>, e.g. figures: [\"load.p95 < 300ms\"] (docs/criteria.md)\n";
  return 0;
}

// The registry as a table or JSON; nothing runs and nothing is contacted.
int cmd_list(const ListArgs& a) {
  Config cfg;
  if (!a.config_path.empty()) cfg = load_config(a.config_path);
  register_dynamic_checks(cfg);
  const bool selecting = !a.select.suites.empty() || !a.select.tags.empty() ||
                         !a.select.filters.empty() || !a.select.severity.empty();
  std::vector<const CheckDef*> shown;
  if (selecting) {
    SelectArgs all = a.select;
    if (all.suites.empty()) all.suites = joined(suite_names(), ",");
    shown = select(selection_from(all, cfg));
  } else {
    shown = checks();
  }
  if (a.figures && !a.json) return list_figures(shown);
  if (a.json) {
    nlohmann::ordered_json suites = nlohmann::ordered_json::array();
    for (const auto& s : kgate::suites())
      suites.push_back({{"name", s.name}, {"title", s.title}, {"description", s.description}});
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto* c : shown)
      list.push_back({{"id", c->id},
                      {"suite", c->suite},
                      {"group", c->group},
                      {"name", c->name},
                      {"title", c->info.title},
                      {"severity", to_string(c->info.severity)},
                      {"reference", c->info.reference},
                      {"tags", c->tags},
                      {"needs", needs_text(c->info.needs)},
                      {"depends_on", c->info.depends_on},
                      {"figures", [&] {
                         nlohmann::ordered_json f = nlohmann::ordered_json::array();
                         for (const auto& x : c->info.figures)
                           f.push_back({{"name", x.name}, {"unit", x.unit}});
                         return f;
                       }()}});
    std::cout << nlohmann::ordered_json{{"suites", suites}, {"checks", list}}.dump(2) << "\n";
    return 0;
  }
  std::size_t w = 5, wr = 9, wn = 5;
  for (const auto* c : shown) {
    w = std::max(w, c->id.size());
    wr = std::max(wr, c->info.reference.size());
    wn = std::max(wn, needs_text(c->info.needs).size());
  }
  std::cout << fmt::format("{:<{}}  {:<8}  {:<{}}  {:<{}}  {}\n", "CHECK", w, "SEVERITY",
                           "REFERENCE", wr, "NEEDS", wn, "TITLE");
  for (const auto* c : shown)
    std::cout << fmt::format("{:<{}}  {:<8}  {:<{}}  {:<{}}  {}\n", c->id, w,
                             to_string(c->info.severity), c->info.reference, wr,
                             needs_text(c->info.needs), wn, c->info.title);
  std::cout << shown.size() << " checks";
  if (!selecting) std::cout << " in " << kgate::suites().size() << " suites";
  std::cout << "\n";
  return 0;
}

}  // namespace
}  // namespace kgate

int main(int argc, char** argv) {
  using namespace kgate;
  if (std::string problems = registry_problems(); !problems.empty()) {
    std::cerr << "kgate: internal error in the check registry:\n" << problems;
    return 70;
  }
  CLI::App app{"kgate " KGATE_VERSION
               ": a release gate for a todo app on Kubernetes.\n"
               "Runs the " +
                   words(suite_names()) + " suites against the app and gives one verdict.",
               "kgate"};
  app.set_version_flag("--version", KGATE_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  kgate run                                   # embedded reference app on loopback\n"
      "  kgate run --target http://localhost:7860    # a running backend; secret from "
      "$BETTER_AUTH_SECRET\n"
      "  kgate run --config kgate.yaml --suites smoke --report-dir out\n"
      "  kgate list --suites security --severity high\n"
      "  kgate validate --config kgate.yaml\n"
      "  kgate init > kgate.yaml\n"
      "  kgate load http://localhost:7860/health --rate 2000 --duration 30s\n"
      "  kgate cluster-info --context kind-kgate\n"
      "  helm test todo; kgate collect --release todo     # the helm test pod's reports\n"
      "Exit codes: 0 pass, 1 a gate failed, 2 usage or configuration error,\n"
      "            3 target unreachable, 4 reports not written, 130 interrupted.");

  RunArgs ra;
  auto* run = app.add_subcommand("run", "Run suites against the target and gate on the result");
  run->add_option("-c,--config", ra.config_path,
                  "kgate.yaml to use (see docs/config-reference.md)");
  run->add_option("--criteria", ra.criteria_path,
                  "release criteria file (criteria: ...; docs/criteria.md); replaces the "
                  "config's criteria:");
  run->add_option("-t,--target", ra.target, "backend base URL (overrides target.backend)");
  run->add_option("--frontend", ra.frontend, "frontend base URL (overrides target.frontend)");
  run->add_option("--ingress", ra.ingress, "ingress base URL (overrides target.ingress)");
  add_select_options(run, ra.select);
  run->add_option("--junit", ra.junit, "JUnit XML path");
  run->add_option("--html", ra.html, "HTML report path");
  run->add_option("--json", ra.json, "JSON results path");
  run->add_option("--report-dir", ra.report_dir, "write junit.xml, report.html, results.json here");
  run->add_flag("--fail-on-skip", ra.fail_on_skip,
                "skipped and inconclusive checks fail the gate (run.fail_on_skip)");
  run->add_flag("--dry-run", ra.dry_run,
                "disruptive checks (resilience) print what they would delete, evict, restart or "
                "scale and change nothing; the other checks run as usual");
  run->add_flag("-k,--insecure", ra.insecure, "skip TLS certificate verification");
  run->add_flag("-v,--verbose", ra.verbose, "print every finding with its source, debug logs");
  run->add_flag("--results-block", ra.results_block,
                "end the output with the results as a marked block (for `kgate collect`, when "
                "kgate runs in a helm test pod)");
  run->footer(
      "Examples:\n"
      "  kgate run --target http://localhost:7860 --frontend http://localhost:3000\n"
      "  kgate run --config kgate.yaml --suites security --severity high --report-dir out\n"
      "  kgate run --config kgate.yaml --filter 'smoke.Tasks.*' --filter 'smoke.Chat.*'\n"
      "  kgate run --config kgate.yaml --suites resilience --dry-run");

  std::string validate_path, validate_criteria;
  auto* validate = app.add_subcommand(
      "validate", "Check a configuration file (and criteria) without touching a target");
  validate->add_option("-c,--config,config", validate_path, "the file");
  validate->add_option("--criteria", validate_criteria,
                       "a criteria file: every check id, glob and figure must exist");
  validate->footer(
      "Examples:\n  kgate validate --config kgate.yaml\n"
      "  kgate validate --config kgate.yaml --criteria criteria.yaml");

  std::string init_out, init_criteria;
  bool init_force = false;
  auto* init = app.add_subcommand("init", "Write a commented starter kgate.yaml");
  init->add_option("-o,--output", init_out, "file to write (default: standard output)");
  init->add_flag("-f,--force", init_force, "overwrite an existing file");
  init->add_option("--criteria", init_criteria,
                   "write a starter criteria file instead: seeds (the seeds' release checklists "
                   "mapped to kgate's checks)");
  init->footer(
      "Examples:\n  kgate init > kgate.yaml\n  kgate init -o kgate.yaml --force\n"
      "  kgate init --criteria seeds -o criteria.yaml");

  ListArgs la_list;
  auto* list = app.add_subcommand(
      "list", "List the checks with their metadata (runs nothing, contacts nothing)");
  list->add_option("-c,--config", la_list.config_path,
                   "include the checks this config adds (one per load threshold)");
  add_select_options(list, la_list.select);
  list->add_flag("--json", la_list.json, "as JSON: suites and checks with their metadata");
  list->add_flag("--figures", la_list.figures,
                 "the figures release criteria can name (docs/criteria.md)");
  list->footer(
      "Examples:\n  kgate list\n  kgate list --suites security --severity critical\n"
      "  kgate list --json --config kgate.yaml");

  LoadArgs la;
  auto* load = add_load_command(app, la);
  ClusterArgs ca;
  auto* cluster_info = add_cluster_info_command(app, ca);
  AuditArgs aa;
  auto* audit = add_audit_command(app, aa);
  auto* load_worker = add_load_worker_command(app);
  CollectArgs collect_args;
  auto* collect = add_collect_command(app, collect_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }

  setup_logging(ra.verbose);
  http::set_interrupt_check(&stop_requested_anywhere);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    if (*run) return cmd_run(ra);
    if (*load) return cmd_load(la);
    if (*load_worker) return cmd_load_worker();
    if (*cluster_info) return cmd_cluster_info(ca);
    if (*audit) return cmd_audit(aa);
    if (*collect) return cmd_collect(collect_args);
    if (*list) return cmd_list(la_list);
    if (*validate) {
      if (validate_path.empty() && validate_criteria.empty()) {
        std::cerr << "kgate validate: give --config FILE, --criteria FILE, or both" << std::endl;
        return kExitUsage;
      }
      Config c;
      if (!validate_path.empty()) c = load_config(validate_path);
      if (!validate_criteria.empty()) c.criteria = load_criteria_file(validate_criteria);
      register_dynamic_checks(c);
      const auto criteria = resolve_criteria(c.criteria);
      std::string what;
      if (!validate_path.empty())
        what = validate_path + ": valid (suites " + joined(c.suites, ",") + ", auth " +
               c.auth.mode + ")";
      if (!criteria.empty()) {
        int required = 0;
        for (const auto& rc : criteria) required += rc.spec.required;
        what += (what.empty() ? "" : "; ") +
                fmt::format("{}: {} criteria valid ({} required, {} advisory)", c.criteria.file,
                            criteria.size(), required, criteria.size() - required);
      }
      std::cout << what << std::endl;
      return 0;
    }
    if (*init) {
      const std::string text =
          init_criteria.empty() ? starter_config() : starter_criteria(init_criteria);
      if (init_out.empty()) {
        std::cout << text;
        return 0;
      }
      if (std::filesystem::exists(init_out) && !init_force) {
        std::cerr << "kgate: " << init_out << " exists (use --force to overwrite)" << std::endl;
        return kExitUsage;
      }
      reports::write_file_atomically(init_out, text);
      std::cout << "wrote " << init_out << std::endl;
      return 0;
    }
  } catch (const ConfigError& e) {
    std::cerr << "kgate: configuration error: " << redact(e.what()) << std::endl;
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "kgate: " << redact(e.what()) << std::endl;
    return kExitUsage;
  }
  return kExitUsage;
}
