// The runner: suite by suite, fixtures around the suite's checks, one check at a time on this
// thread while a watchdog thread enforces its timeout and keeps its progress visible.
#include "kgate/runner.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "kgate/check.hpp"
#include "kgate/duration.hpp"
#include "kgate/redact.hpp"

namespace kgate {
namespace {

using Clock = std::chrono::steady_clock;

std::string first_line(const std::string& s) {
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

std::string seconds_text(Millis d) {
  return format_duration(d);
}

// Console output shared by the runner (results) and the watchdog (the live line).
class Console {
 public:
  explicit Console(bool live) : live_(live) {}

  void live(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (!live_) return;
    std::cout << "\r\033[K" << text.substr(0, 150) << std::flush;
    shown_ = true;
  }
  void line(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (shown_) std::cout << "\r\033[K";
    shown_ = false;
    std::cout << text << std::endl;
  }
  bool is_live() const { return live_; }

 private:
  std::mutex mutex_;
  bool live_;
  bool shown_ = false;
};

// Watches one running check: past its deadline it asks the check to stop; meanwhile it shows
// what the check reports (a live line on a terminal, a log line every 5 s otherwise).
class Watchdog {
 public:
  Watchdog(RunContext& run, CheckContext& check, Console& console, Millis timeout)
      : run_(run), check_(check), console_(console), timeout_(timeout), started_(Clock::now()) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  bool timed_out() const { return timed_out_; }

 private:
  void loop() {
    auto next_log = started_ + std::chrono::seconds(5);
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return done_; })) {
      const auto now = Clock::now();
      const auto elapsed = std::chrono::duration_cast<Millis>(now - started_);
      if (timeout_.count() > 0 && elapsed >= timeout_ && !timed_out_) {
        timed_out_ = true;
        run_.request_stop("timed out after " + seconds_text(timeout_));
      }
      const std::string progress = check_.progress_text();
      const std::string text = "  RUN   " + check_.id() + " " +
                               std::to_string(elapsed.count() / 1000) + "s" +
                               (progress.empty() ? "" : "  " + progress);
      if (console_.is_live()) {
        console_.live(redact(text));
      } else if (now >= next_log) {
        console_.line(redact(text));
        next_log = now + std::chrono::seconds(5);
      }
    }
  }

  RunContext& run_;
  CheckContext& check_;
  Console& console_;
  Millis timeout_;
  Clock::time_point started_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::atomic<bool> timed_out_{false};
  std::thread thread_;
};

// Why the run cannot meet a check's needs, or "".
std::string unmet_needs(const CheckDef& def, RunContext& run, const RunOptions& options) {
  const Config& cfg = run.config();
  const unsigned n = def.info.needs;
  if ((n & kDisruptive) && !options.suites_named)
    return "disruptive: runs only when its suite is chosen by name (--suites " + def.suite + ")";
  if ((n & kNeedsCluster) && !cfg.kubernetes.configured)
    return "needs a Kubernetes target: no kubernetes: section in the configuration (release or "
           "deployments, namespace, kubeconfig)";
  if ((n & kNeedsFrontend) && cfg.target.frontend.empty())
    return "no frontend URL configured (target.frontend)";
  if ((n & kNeedsIngress) && cfg.target.ingress.empty())
    return "no ingress URL configured (target.ingress)";
  if (n & kNeedsHttps) {
    bool https = false;
    for (const auto* u : {&cfg.target.backend, &cfg.target.frontend, &cfg.target.ingress})
      https = https || u->rfind("https://", 0) == 0;
    if (!https) return "no https target (TLS checks apply to https URLs only)";
  }
  if ((n & kNeedsSecret) && run.signing_secret().empty())
    return "needs the app's signing secret (set $" + cfg.auth.mint.secret_env + ")";
  for (const char* label : {"alice", "bob"}) {
    const bool needed = std::string(label) == "alice"
                            ? (n & (kNeedsIdentity | kNeedsTwoIdentities)) != 0
                            : (n & kNeedsTwoIdentities) != 0;
    if (!needed) continue;
    if (std::string err = run.identity_error(label); !err.empty())
      return std::string("identity '") + label + "' unavailable (see preflight.Auth): " + err;
  }
  return "";
}

bool below_floor(const CheckDef& def, const Config& cfg) {
  const SuiteDef* suite = find_suite(def.suite);
  if (!suite || !suite->fail_on || def.info.severity == Severity::None) return false;
  auto floor = parse_severity(suite->fail_on(cfg));
  return floor && def.info.severity < *floor;
}

CheckResult run_one(const CheckDef& def, RunContext& run, const RunOptions& options,
                    Console& console) {
  const double started = run.now();
  CheckContext cc(run, &def);
  if (std::string why = unmet_needs(def, run, options); !why.empty()) {
    CheckResult r = cc.take_result();
    r.status = CheckStatus::Skipped;
    r.message = why;
    r.started_s = started;
    return r;
  }

  enum class End { Completed, Stopped, NoAnswer, Crashed } end = End::Completed;
  CheckStopped stopped{CheckStopped::Fail, ""};
  std::string crash;
  bool timed_out = false;
  run.clear_stop();
  set_current_check(&cc);
  {
    Watchdog watchdog(run, cc, console, check_timeout(run.config(), def.suite));
    try {
      auto check = def.make(cc);
      check->run();
    } catch (const CheckStopped& s) {
      end = End::Stopped;
      stopped = s;
    } catch (const http::TransportError& e) {
      end = End::NoAnswer;
      crash = e.what();
    } catch (const std::exception& e) {
      end = End::Crashed;
      crash = e.what();
    }
    timed_out = watchdog.timed_out();
  }
  const std::string stop_reason = run.stop_reason();
  run.clear_stop();
  // Cleanups run even when the check was stopped; they get a fresh, bounded chance.
  std::vector<std::string> left = cc.run_cleanups();
  set_current_check(nullptr);

  const auto findings = cc.findings();
  CheckResult r = cc.take_result();
  r.started_s = started;
  r.seconds = run.now() - started;
  for (const auto& f : findings)
    r.detail += f.message + (options.verbose ? "  [" + f.where + "]" : "") + "\n";
  const bool found = !findings.empty();
  // The one-line message names the first finding and says how many more the report holds, so
  // a console or a CI summary does not read as one problem when there were several.
  std::string finding = found ? first_line(findings.front().message) : "";
  if (findings.size() > 1)
    finding += " (+" + std::to_string(findings.size() - 1) + " more finding" +
               (findings.size() > 2 ? "s" : "") + ")";

  if (timed_out) {
    r.status = CheckStatus::Failed;
    r.message = stop_reason + (found ? "; first finding: " + finding : "");
  } else if (interrupted() && end != End::Completed) {
    r.status = found ? CheckStatus::Failed : CheckStatus::Inconclusive;
    r.message = found ? finding : "interrupted while running";
  } else {
    switch (end) {
      case End::Completed:
        r.status = found ? CheckStatus::Failed : CheckStatus::Passed;
        r.message = finding;
        break;
      case End::Stopped:
        if (found || stopped.kind == CheckStopped::Fail) {
          r.status = CheckStatus::Failed;
          r.message = found ? finding : first_line(stopped.reason);
          if (found && stopped.kind != CheckStopped::Fail)
            r.detail += "then: " + stopped.reason + "\n";
        } else if (stopped.kind == CheckStopped::Skip) {
          r.status = CheckStatus::Skipped;
          r.message = stopped.reason;
        } else if (stopped.kind == CheckStopped::Inconclusive) {
          r.status = CheckStatus::Inconclusive;
          r.message = stopped.reason;
        } else {
          r.status = CheckStatus::Error;
          r.message = stopped.reason;
        }
        break;
      case End::NoAnswer:
        r.status = found ? CheckStatus::Failed : CheckStatus::Error;
        r.message = found ? finding : "the target did not answer: " + crash;
        if (found) r.detail += "then the target did not answer: " + crash + "\n";
        break;
      case End::Crashed:
        r.status = found ? CheckStatus::Failed : CheckStatus::Error;
        r.message = found ? finding : "the check could not be carried out: " + crash;
        if (found) r.detail += "then: " + crash + "\n";
        break;
    }
  }
  if (r.status == CheckStatus::Failed && below_floor(def, run.config()))
    r.status = CheckStatus::Warning;
  if (!left.empty()) {
    std::string what;
    for (const auto& l : left) what += (what.empty() ? "" : "; ") + l;
    r.properties.push_back({"left behind", what});
    r.detail += "cleanup failed, left behind: " + what + "\n";
    if (r.status == CheckStatus::Passed) {
      // The check's verdict holds, but the app now carries kgate's data: say so, loudly.
      r.status = CheckStatus::Warning;
      r.message = "passed, but cleanup failed: left behind " + what;
    }
  }
  if (r.detail == r.message + "\n") r.detail.clear();
  return r;
}

void print_result(Console& console, const CheckResult& r, bool verbose) {
  static const char* tags[] = {"PASS", "FAIL", "WARN", "SKIP", "INCONC", "ERROR"};
  std::string line = std::string("  ") + tags[static_cast<int>(r.status)] + "  " + r.id + " (" +
                     std::to_string(static_cast<long>(r.seconds * 1000)) + " ms)";
  if (r.status != CheckStatus::Passed) line += "\n        " + r.message;
  if (verbose && !r.detail.empty()) line += "\n" + r.detail;
  console.line(redact(line));
}

}  // namespace

Millis check_timeout(const Config& config, const std::string& suite) {
  if (auto it = config.suite_check_timeouts.find(suite); it != config.suite_check_timeouts.end())
    return it->second;
  if (const SuiteDef* s = find_suite(suite); s && s->default_check_timeout)
    return std::max(config.check_timeout, s->default_check_timeout(config));
  return config.check_timeout;
}

ChecksRun run_checks(RunContext& run, const std::vector<const CheckDef*>& selected,
                     const RunOptions& options) {
  ChecksRun out;
  Console console(options.live_line);
  // Blocking calls (HTTP, wait_until) give up when the running check is told to stop.
  http::set_interrupt_check(&stop_requested_anywhere);
  std::size_t i = 0;
  while (i < selected.size() && !interrupted()) {
    const std::string suite_name = selected[i]->suite;
    std::size_t end = i;
    while (end < selected.size() && selected[end]->suite == suite_name) ++end;
    const SuiteDef* suite = find_suite(suite_name);

    // The suite's fixtures, started in order and always stopped in reverse.
    SuiteResult suite_result;
    suite_result.name = suite_name;
    suite_result.title = suite ? suite->title : "";
    std::vector<std::unique_ptr<SuiteFixture>> fixtures;
    std::vector<SuiteFixture*> started;
    std::string fixture_error;
    if (suite && suite->fixtures) {
      try {
        fixtures = suite->fixtures(run.config());
        for (auto& f : fixtures) {
          console.line("  suite " + suite_name + ": starting " + f->name());
          f->start(run, suite_result);
          started.push_back(f.get());
        }
      } catch (const std::exception& e) {
        fixture_error = "suite fixture could not start: " + std::string(e.what());
        suite_result.error = fixture_error;
      }
    }
    run.set_fixtures(started);
    for (; i < end; ++i) {
      if (interrupted()) break;
      const CheckDef& def = *selected[i];
      CheckResult r;
      if (!fixture_error.empty()) {
        CheckContext cc(run, &def);
        r = cc.take_result();
        r.status = CheckStatus::Error;
        r.message = "could not set up: " + fixture_error;
        r.started_s = run.now();
      } else {
        r = run_one(def, run, options, console);
      }
      print_result(console, r, options.verbose);
      out.checks.push_back(std::move(r));
    }
    run.set_fixtures({});
    for (auto it = started.rbegin(); it != started.rend(); ++it) {
      console.line("  suite " + suite_name + ": stopping " + (*it)->name());
      (*it)->stop(run, suite_result);
    }
    if (!fixtures.empty() || !suite_result.error.empty())
      out.suites.push_back(std::move(suite_result));
    i = end;
  }
  return out;
}

}  // namespace kgate
