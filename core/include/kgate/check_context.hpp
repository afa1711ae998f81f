#pragma once
// What checks run in. RunContext is the run: configuration, the HTTP client with 429 handling,
// test identities, the run's clock, the results checks hand to each other, the suites' running
// fixtures. CheckContext is one check's view of it: everything it sends is kept as evidence,
// what it measures is recorded typed, what it creates is cleaned up after it. The runner makes
// both and passes the CheckContext in; nothing reaches a check through a global.
#include <any>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "kgate/config.hpp"
#include "kgate/http.hpp"
#include "kgate/identity.hpp"
#include "kgate/result.hpp"

namespace kgate {

struct CheckDef;
class SuiteFixture;

// Thrown by assertion macros and by the context to stop a check with an outcome. Deliberately
// not a std::exception: a check's own catch (const std::exception&) must not swallow it.
struct CheckStopped {
  enum Kind { Fail, Skip, Inconclusive, SetupError } kind;
  std::string reason;
};

// A finding a check recorded: its words, and where in the source (shown in verbose output).
struct Finding {
  std::string message;
  std::string where;  // file:line
};

class RunContext {
 public:
  RunContext(Config cfg, std::string secret_override = "");
  ~RunContext();
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  const Config& config() const { return cfg_; }
  // The app's HS256 secret when kgate has it (embedded default, or auth.mint.secret_env set),
  // whatever the auth mode; "" otherwise.
  const std::string& signing_secret() const { return secret_; }
  std::string describe_auth() const;

  // Sends a request; honours 429 (Retry-After, bounded by auth.rate_limit_*). `evidence`, when
  // given, receives each exchange. Returns the last answer (a 429 when the budget ran out: see
  // rate_limited). Throws http::TransportError when there is no answer.
  struct Sent {
    http::Response response;
    bool rate_limited = false;  // still 429 after the retry budget
    std::string rate_limit_note;
  };
  Sent send(const http::Request& request, std::vector<Evidence>* evidence);
  // Caps the request rate of send() (0: no cap).
  void pace(double max_rps);

  // Error answers (4xx/5xx) of every request sent through the run, so far (the last 500): the
  // leak check reads them all, not only its own probes.
  struct SeenError {
    std::string method, url;
    int status = 0;
    std::string body;  // the first 4 KiB
  };
  std::vector<SeenError> errors_seen() const;
  // 429 answers seen in the run (retried or not).
  int rate_limited_answers() const { return rate_limited_answers_; }

  // Identities by label, acquired once per run; throws IdentityUnavailable naming the step.
  const Identity& identity(const std::string& label);
  // The failure of an identity already tried, or "" (the preflight reports it).
  std::string identity_error(const std::string& label) const;

  // The run's clock: seconds since it started, and when that was.
  double now() const;
  double started_epoch_ms() const { return epoch_ms_; }

  // Results one check hands to those that depend on it (the load run to its thresholds).
  void publish(const std::string& check_id, std::any value) {
    artifacts_[check_id] = std::move(value);
  }
  const std::any* artifact(const std::string& check_id) const {
    auto it = artifacts_.find(check_id);
    return it == artifacts_.end() ? nullptr : &it->second;
  }

  // The fixtures of the suite that is running (set by the runner).
  void set_fixtures(std::vector<SuiteFixture*> fixtures) { fixtures_ = std::move(fixtures); }
  const std::vector<SuiteFixture*>& fixtures() const { return fixtures_; }

  // The running check ran past its timeout, or Ctrl-C: blocking calls give up.
  bool stop_requested() const;
  void request_stop(std::string why);
  void clear_stop();
  std::string stop_reason() const;

 private:
  Config cfg_;
  http::Client client_;
  std::unique_ptr<IdentityProvider> provider_;
  std::map<std::string, Identity> identities_;
  std::map<std::string, std::string> identity_errors_;
  std::string secret_;
  std::chrono::nanoseconds min_interval_{0};
  std::chrono::steady_clock::time_point last_send_{};
  std::chrono::nanoseconds budget_interval_{0};  // target.max_requests spread over its window
  std::chrono::steady_clock::time_point last_budgeted_{};
  mutable std::mutex seen_mutex_;
  std::vector<SeenError> errors_seen_;
  std::atomic<int> rate_limited_answers_{0};
  std::chrono::steady_clock::time_point t0_;
  double epoch_ms_ = 0;
  std::map<std::string, std::any> artifacts_;
  std::vector<SuiteFixture*> fixtures_;
  mutable std::mutex stop_mutex_;
  std::string stop_reason_;
};

// One check's view of the run.
class CheckContext {
 public:
  // `def` is null for work that is not a check (kgate load's todo mix from the command line).
  CheckContext(RunContext& run, const CheckDef* def);
  ~CheckContext();
  CheckContext(const CheckContext&) = delete;
  CheckContext& operator=(const CheckContext&) = delete;

  RunContext& run() { return run_; }
  const Config& config() const { return run_.config(); }
  const std::string& signing_secret() const { return run_.signing_secret(); }
  const CheckDef* def() const { return def_; }

  // HTTP, kept as evidence. A 429 past the retry budget stops the check as inconclusive (a
  // finding recorded before stays a failure).
  http::Response send(const http::Request& request);
  http::Response send(const std::string& method, const std::string& url, const std::string& token,
                      const std::string& json_body = "");
  void pace(double max_rps) { run_.pace(max_rps); }

  // An identity by label. When it cannot be had, the check stops: as an error naming the
  // failed step (login answered 422 ...), never as a finding.
  const Identity& identity(const std::string& label);

  // Cleanup: actions run after the check, whatever its outcome, newest first. A failed cleanup is
  // reported as a warning naming what was left behind.
  void defer(std::string what, std::function<void()> action);
  // Runs the cleanups; returns what could not be cleaned up.
  std::vector<std::string> run_cleanups();

  // What the check measured, typed. Safe to call from threads the check started.
  void property(const std::string& name, const std::string& value);
  void measure(const std::string& name, double value, const std::string& unit);
  void chart(Chart chart);
  void event(std::string kind, std::string object, std::string message = "");
  void event_at(double t, std::string kind, std::string object, std::string message = "");
  void threshold(ThresholdResult t);
  void table(Table t);
  // A line of progress for the terminal's live line (and a log line every few seconds in CI).
  void progress(std::string text);
  std::string progress_text() const;

  // Seconds since the run started (the axis of series and events).
  double now() const { return run_.now(); }
  bool stop_requested() const { return run_.stop_requested(); }

  // Findings recorded so far (the runner turns them into the outcome).
  void add_finding(Finding f);
  std::vector<Finding> findings() const;

  // A fixture of the running suite, by type; throws (stopping the check as a setup error) when
  // the suite has none of that type running.
  template <typename T>
  T& fixture() {
    for (auto* f : run_.fixtures())
      if (auto* t = dynamic_cast<T*>(f)) return *t;
    throw CheckStopped{CheckStopped::SetupError,
                       std::string("no running suite fixture of type ") + typeid(T).name()};
  }
  // The result another check published (nullptr when it did not run or published none).
  template <typename T>
  const T* result_of(const std::string& check_id) const {
    const std::any* a = run_.artifact(check_id);
    return a ? std::any_cast<T>(a) : nullptr;
  }
  template <typename T>
  void publish(T value) {
    run_.publish(id(), std::move(value));
  }
  std::string id() const;

  // Everything recorded, moved out when the check ends.
  CheckResult take_result();

 private:
  RunContext& run_;
  const CheckDef* def_;
  mutable std::mutex mutex_;
  CheckResult result_;
  std::vector<Finding> findings_;
  std::vector<std::pair<std::string, std::function<void()>>> cleanups_;
  std::string progress_;
};

// Something a suite needs around its checks: live traffic during a resilience run, watches
// that feed a timeline, a port-forward, a Helm release. Started before the suite's first
// selected check, stopped after its last, on failure and on Ctrl-C. What it measures attaches
// to the suite's result.
class SuiteFixture {
 public:
  virtual ~SuiteFixture() = default;
  virtual std::string name() const = 0;
  // Throws when it cannot start: the suite's checks are then reported as errors naming it.
  virtual void start(RunContext& run, SuiteResult& out) = 0;
  // Must be bounded and must not throw; records its measurements into `out`.
  virtual void stop(RunContext& run, SuiteResult& out) noexcept = 0;
};

// The check running on this thread (for the assertion macros only), or null.
CheckContext* current_check();
void set_current_check(CheckContext* c);

bool interrupted();  // Ctrl-C was pressed: remaining checks skip
// Ctrl-C, or the running check asked to stop: what blocking calls poll (http, wait_until).
bool stop_requested_anywhere();
// Called from the signal handler (async-signal-safe); returns how many signals came before.
int note_interrupt();

}  // namespace kgate
