#pragma once
// The run context that checks use: configuration, HTTP with evidence, identities, and cleanup of
// everything a check created. One per run; checks reach it through kgate::ctx().
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kgate/config.hpp"
#include "kgate/http.hpp"
#include "kgate/identity.hpp"
#include "kgate/result.hpp"

namespace kgate {

// The check being run: what it records beyond pass/fail.
struct CheckRecord {
  std::string title;
  std::string severity;
  std::string owasp;
  std::vector<Property> properties;
  std::vector<Evidence> evidence;
  std::vector<Chart> charts;
  bool rate_limited = false;  // the target answered 429 past the retry budget
  std::string rate_limit_note;
};

class RunContext {
 public:
  RunContext(Config cfg, std::string secret_override = "");
  ~RunContext();

  const Config& config() const { return cfg_; }

  // Sends a request, records it as evidence of the current check, honours 429 (Retry-After,
  // bounded by auth.rate_limit_*). Throws http::TransportError when there is no answer.
  http::Response send(const http::Request& request);
  // A request with a bearer token (and a JSON body when json is not empty).
  http::Response send(const std::string& method, const std::string& url, const std::string& token,
                      const std::string& json_body = "");

  // Caps the request rate (0: no cap): suites that must stay gentle on a live target pace
  // their calls; the wait is bounded by the cap and ends early on Ctrl-C.
  void pace(double max_rps);

  // Identities by label, acquired once per run.
  const Identity& identity(const std::string& label);

  // Cleanup: actions run after the current check, whatever its outcome, newest first.
  void defer(std::string what, std::function<void()> action);
  void run_cleanups();

  // The current check's record (set up by the runner).
  CheckRecord& check() { return record_; }
  void begin_check();
  CheckRecord end_check();

  std::string describe_auth() const;

  // The app's HS256 secret when kgate has it (embedded default, or the auth.mint.secret_env
  // variable is set), whatever the auth mode; "" otherwise. The security suite signs the tokens
  // only the secret can make (expired, not yet valid) with it.
  const std::string& signing_secret() const { return secret_; }

 private:
  Config cfg_;
  http::Client client_;
  std::unique_ptr<IdentityProvider> provider_;
  std::map<std::string, Identity> identities_;
  std::map<std::string, std::string> identity_errors_;
  std::vector<std::pair<std::string, std::function<void()>>> cleanups_;
  CheckRecord record_;
  std::string secret_;
  std::chrono::nanoseconds min_interval_{0};
  std::chrono::steady_clock::time_point last_send_{};
};

// The run's context (valid while the runner runs).
RunContext& ctx();
void set_ctx(RunContext* c);

}  // namespace kgate
