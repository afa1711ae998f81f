// kgate: one binary, four suites, one verdict. See README.md and docs/.
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

#include "kgate/audit_command.hpp"
#include "kgate/check.hpp"
#include "kgate/cluster_command.hpp"
#include "kgate/config.hpp"
#include "kgate/embedded.hpp"
#include "kgate/gate.hpp"
#include "kgate/http.hpp"
#include "kgate/load_command.hpp"
#include "kgate/redact.hpp"
#include "kgate/reports.hpp"
#include "kgate/runner.hpp"
#include "kgate/url.hpp"
#include "kgate/wait.hpp"

#include <fmt/ranges.h>

namespace kgate {
namespace {

constexpr int kExitReportsFailed = 4;

void on_signal(int) {
  // A second Ctrl-C means "now": leave without reports.
  if (note_interrupt() >= 1) ::_exit(kExitInterrupted);
}

bool interrupt_check() {
  return interrupted();
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

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

struct RunArgs {
  std::string config_path, target, frontend, ingress, suites, tags, filter;
  std::string junit, html, json, report_dir;
  bool insecure = false, verbose = false, fail_on_skip = false;
};

// Is the target answering at all? Bounded by target.reachable_within. "" when it is.
std::string preflight(const Config& cfg) {
  http::ClientOptions o;
  o.connect_timeout = std::min(cfg.target.connect_timeout, cfg.target.reachable_within);
  o.request_timeout = std::min(cfg.target.request_timeout, cfg.target.reachable_within);
  o.verify_tls = !cfg.target.insecure;
  o.ca_file = cfg.target.ca_file;
  http::Client client(o);
  std::vector<std::string> urls{cfg.target.backend + cfg.profile.health_path};
  if (!cfg.target.frontend.empty())
    urls.push_back(cfg.target.frontend + cfg.profile.frontend_health_path);
  if (!cfg.target.ingress.empty())
    urls.push_back(cfg.target.ingress + cfg.profile.frontend_page_path);
  for (const auto& url : urls) {
    auto w = wait_until(
        [&](std::string*) {
          if (interrupt_check()) return true;
          client.send({"GET", url, {}, {}});  // any HTTP answer means reachable
          return true;
        },
        cfg.target.reachable_within, std::chrono::milliseconds(250));
    if (!w.ok)
      return url + " is not reachable within " +
             std::to_string(cfg.target.reachable_within.count()) + " ms: " + w.last_error;
  }
  return "";
}

void write_reports(const RunResult& run, const ReportsConfig& paths) {
  reports::write_junit(run, paths.junit);
  reports::write_html(run, paths.html);
  reports::write_json(run, paths.json);
  std::cout << "reports: " << paths.junit << ", " << paths.html << ", " << paths.json << std::endl;
}

int cmd_run(const RunArgs& a) {
  Config cfg;
  if (!a.config_path.empty()) cfg = load_config(a.config_path);
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
  if (!a.report_dir.empty()) {
    cfg.reports.junit = a.report_dir + "/junit.xml";
    cfg.reports.html = a.report_dir + "/report.html";
    cfg.reports.json = a.report_dir + "/results.json";
  }
  if (!a.junit.empty()) cfg.reports.junit = a.junit;
  if (!a.html.empty()) cfg.reports.html = a.html;
  if (!a.json.empty()) cfg.reports.json = a.json;
  RunOptions options;
  options.suites = a.suites.empty() ? cfg.suites : split_list(a.suites);
  for (const auto& s : options.suites) {
    static const std::vector<std::string> known{"smoke", "security", "resilience", "load"};
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      std::string hint = suggest(s, known);
      throw ConfigError("--suites: unknown suite '" + s + "'" +
                        (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
  }
  options.tags = split_list(a.tags);
  options.filter = a.filter;
  options.verbose = a.verbose;

  RunResult run;
  run.tool_version = KGATE_VERSION;
  run.started_at = now_iso();
  run.suites = options.suites;
  auto t0 = std::chrono::steady_clock::now();

  std::unique_ptr<EmbeddedApp> embedded;
  std::string secret;
  if (cfg.target.backend.empty()) {
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
  run.target = cfg.target.backend;
  std::cout << "kgate " << KGATE_VERSION << ": suites "
            << fmt::format("{}", fmt::join(options.suites, ",")) << " against "
            << cfg.target.backend << std::endl;

  if (std::string err = preflight(cfg); !err.empty() && !interrupt_check()) {
    CheckResult pre;
    pre.suite = "preflight";
    pre.classname = "preflight.Target";
    pre.name = "Reachable";
    pre.title = "The target answers HTTP";
    pre.status = CheckStatus::Failed;
    pre.message = err;
    run.checks.push_back(pre);
    run.verdict = "ERROR";
    run.exit_code = kExitUnreachable;
    run.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "kgate: target unreachable: " << redact(err) << std::endl;
    try {
      write_reports(run, cfg.reports);
    } catch (const std::exception& e) {
      std::cerr << "kgate: " << e.what() << std::endl;
    }
    return kExitUnreachable;
  }

  {
    RunContext c(cfg, secret);
    std::cout << "auth: " << c.describe_auth() << std::endl;
    run.checks = run_checks(c, options);
  }
  if (embedded) embedded->stop();
  run.aborted = interrupt_check();
  if (run.aborted) run.abort_reason = "interrupted by signal; results are partial";
  run.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  decide(run, cfg.fail_on_skip || a.fail_on_skip);
  if (run.checks.empty() && !run.aborted) {
    std::cerr << "kgate: no check matched the selection (suites/tags/filter)" << std::endl;
    run.verdict = "ERROR";
    run.exit_code = kExitUsage;
  }
  print_summary(run, std::cout, ::isatty(STDOUT_FILENO));
  try {
    write_reports(run, cfg.reports);
  } catch (const std::exception& e) {
    std::cerr << "kgate: cannot write reports: " << e.what() << std::endl;
    return kExitReportsFailed;
  }
  return run.exit_code;
}

}  // namespace
}  // namespace kgate

int main(int argc, char** argv) {
  using namespace kgate;
  CLI::App app{
      "kgate " KGATE_VERSION
      ": a release gate for a todo app on Kubernetes.\n"
      "Runs smoke, security, resilience and load suites against the app and gives one verdict.",
      "kgate"};
  app.set_version_flag("--version", KGATE_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  kgate run                                   # embedded reference app on loopback\n"
      "  kgate run --target http://localhost:7860    # a running backend; secret from "
      "$BETTER_AUTH_SECRET\n"
      "  kgate run --config kgate.yaml --suites smoke --report-dir out\n"
      "  kgate validate --config kgate.yaml\n"
      "  kgate init > kgate.yaml\n"
      "  kgate load http://localhost:7860/health --rate 2000 --duration 30s\n"
      "  kgate cluster-info --context kind-kgate\n"
      "Exit codes: 0 pass, 1 a gate failed, 2 usage or configuration error,\n"
      "            3 target unreachable, 4 reports not written, 130 interrupted.");

  RunArgs ra;
  auto* run = app.add_subcommand("run", "Run suites against the target and gate on the result");
  run->add_option("-c,--config", ra.config_path,
                  "kgate.yaml to use (see docs/config-reference.md)");
  run->add_option("-t,--target", ra.target, "backend base URL (overrides target.backend)");
  run->add_option("--frontend", ra.frontend, "frontend base URL (overrides target.frontend)");
  run->add_option("--ingress", ra.ingress, "ingress base URL (overrides target.ingress)");
  run->add_option("-s,--suites", ra.suites,
                  "comma-separated suites: smoke,security,resilience,load");
  run->add_option("--tags", ra.tags, "comma-separated groups within the suites, e.g. health,tasks");
  run->add_option("--filter", ra.filter, "GoogleTest filter on check names, e.g. 'SmokeTasks.*'");
  run->add_option("--junit", ra.junit, "JUnit XML path");
  run->add_option("--html", ra.html, "HTML report path");
  run->add_option("--json", ra.json, "JSON results path");
  run->add_option("--report-dir", ra.report_dir, "write junit.xml, report.html, results.json here");
  run->add_flag("--fail-on-skip", ra.fail_on_skip,
                "a skipped check fails the gate (run.fail_on_skip)");
  run->add_flag("-k,--insecure", ra.insecure, "skip TLS certificate verification");
  run->add_flag("-v,--verbose", ra.verbose, "print failure details and debug logs");

  std::string validate_path;
  auto* validate =
      app.add_subcommand("validate", "Check a configuration file without touching a target");
  validate->add_option("-c,--config,config", validate_path, "the file")->required();

  std::string init_out;
  bool init_force = false;
  auto* init = app.add_subcommand("init", "Write a commented starter kgate.yaml");
  init->add_option("-o,--output", init_out, "file to write (default: standard output)");
  init->add_flag("-f,--force", init_force, "overwrite an existing file");

  auto* list = app.add_subcommand("list", "List the checks compiled into kgate");

  LoadArgs la;
  auto* load = add_load_command(app, la);
  ClusterArgs ca;
  auto* cluster_info = add_cluster_info_command(app, ca);
  AuditArgs aa;
  auto* audit = add_audit_command(app, aa);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }

  setup_logging(ra.verbose);
  http::set_interrupt_check(&interrupt_check);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    if (*run) return cmd_run(ra);
    if (*load) return cmd_load(la);
    if (*cluster_info) return cmd_cluster_info(ca);
    if (*audit) return cmd_audit(aa);
    if (*validate) {
      Config c = load_config(validate_path);
      std::cout << validate_path << ": valid (suites "
                << fmt::format("{}", fmt::join(c.suites, ",")) << ", auth " << c.auth.mode << ")"
                << std::endl;
      return 0;
    }
    if (*init) {
      if (init_out.empty()) {
        std::cout << starter_config();
        return 0;
      }
      if (std::filesystem::exists(init_out) && !init_force) {
        std::cerr << "kgate: " << init_out << " exists (use --force to overwrite)" << std::endl;
        return kExitUsage;
      }
      reports::write_file_atomically(init_out, starter_config());
      std::cout << "wrote " << init_out << std::endl;
      return 0;
    }
    if (*list) {
      for (const auto& name : list_checks()) std::cout << name << "\n";
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
