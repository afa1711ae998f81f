#pragma once
// Fault switches: each one makes the app deliberately wrong in exactly one way, so kgate's
// checks can be shown to catch that defect. Enabled with `--fault NAME` (repeatable) or
// TODO_FAULTS=a,b. This table is the single list of faults; faults.cpp holds their names.
//
// clang-format off
// | name                | role | effect                                                         |
// |---------------------|------|----------------------------------------------------------------|
// | no-auth             | api  | requests without a valid token pass as the URL's user          |
// | no-owner-check      | api  | no sub == user_id check; by-id queries ignore the owner        |
// | alg-none            | api  | unsigned tokens (alg "none") are accepted                      |
// | slow                | both | /api/* answers delayed by TODO_FAULT_SLOW_MS (default 1500)    |
// | errors-5xx          | both | a share TODO_FAULT_ERROR_RATE (default 0.3) of /api/* gets 500 |
// | leaky-errors        | both | errors carry a fake Python traceback with SQL; Server and      |
// |                     |      | X-Powered-By name uvicorn/FastAPI                              |
// | no-security-headers | both | nosniff, frame, CSP, referrer and no-store headers omitted     |
// | permissive-cors     | both | any Origin is reflected with credentials allowed               |
// | lying-health        | api  | /health and /ready say healthy, every database operation fails |
// | bad-health-body     | both | /health (web: /api/health) answers 200 {"status":"starting"}   |
// | broken-toggle       | api  | PATCH .../complete answers 200 without changing `completed`    |
// | chat-no-tool        | api  | chat answers politely but never calls a tool                   |
// | no-proxy            | web  | /api/* is answered 404 instead of being forwarded              |
// | broken-page         | web  | GET / answers 500                                              |
// | no-validation       | api  | title/description length limits are not enforced               |
// | crash-on-bad-json   | api  | malformed JSON bodies answer 500 instead of 422                |
// | rate-limit          | api  | every other POST .../chat answers 429 with Retry-After: 1      |
// | no-signature-check  | api  | token signatures are not verified (any key, any bytes)         |
// | no-expiry-check     | api  | exp and nbf are ignored                                        |
// | lax-token-source    | api  | tokens also taken from ?access_token=, X-Access-Token and any  |
// |                     |      | Authorization scheme                                           |
// | mass-assignment     | api  | POST .../tasks honours a user_id in the body as the owner      |
// | no-body-limit       | both | request bodies up to 64 MiB are read (the limit is 1 MiB)      |
// | sql-injection       | api  | SQLite only: the task title is pasted into the INSERT's SQL    |
// clang-format on
#include <bitset>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace todo {

enum class Fault {
  NoAuth,
  NoOwnerCheck,
  AlgNone,
  Slow,
  Errors5xx,
  LeakyErrors,
  NoSecurityHeaders,
  PermissiveCors,
  LyingHealth,
  BadHealthBody,
  BrokenToggle,
  ChatNoTool,
  NoProxy,
  BrokenPage,
  NoValidation,
  CrashOnBadJson,
  RateLimit,
  NoSignatureCheck,
  NoExpiryCheck,
  LaxTokenSource,
  MassAssignment,
  NoBodyLimit,
  SqlInjection,
  Count_
};

// All fault names, in the order of the enum.
const std::vector<std::string_view>& fault_names();

class Faults {
 public:
  bool has(Fault f) const { return set_.test(static_cast<std::size_t>(f)); }
  void enable(Fault f) { set_.set(static_cast<std::size_t>(f)); }
  bool any() const { return set_.any(); }
  std::vector<std::string> names() const;

  // Tuning for `slow` and `errors-5xx`, read from the environment at startup.
  std::chrono::milliseconds slow_delay{1500};
  double error_rate = 0.3;

 private:
  std::bitset<static_cast<std::size_t>(Fault::Count_)> set_;
};

// Builds the set from names (CLI and TODO_FAULTS combined). Throws std::invalid_argument naming
// the unknown fault and listing the valid ones.
Faults parse_faults(const std::vector<std::string>& names);

}  // namespace todo
