#pragma once
// Fault switches: each one makes the app deliberately wrong in exactly one way, so kgate's
// checks can be shown to catch that defect. Enabled with `--fault NAME` (repeatable) or
// TODO_FAULTS=a,b. This table is the single list of faults; faults.cpp holds their names.
//
// clang-format off
// | name                 | role | effect                                                         |
// |----------------------|------|----------------------------------------------------------------|
// | no-auth              | api  | requests without a valid token pass as the URL's user          |
// | no-owner-check       | api  | no sub == user_id check; by-id queries ignore the owner        |
// | alg-none             | api  | unsigned tokens (alg "none") are accepted                      |
// | slow                 | both | /api/* answers delayed by TODO_FAULT_SLOW_MS (default 1500)    |
// | errors-5xx           | both | a share TODO_FAULT_ERROR_RATE (default 0.3) of /api/* gets 500 |
// | leaky-errors         | both | errors carry a fake Python traceback with SQL; Server and      |
// |                      |      | X-Powered-By name uvicorn/FastAPI                              |
// | no-security-headers  | both | nosniff, frame, CSP, referrer and no-store headers omitted     |
// | permissive-cors      | both | any Origin is reflected with credentials allowed               |
// | lying-health         | api  | /health and /ready say healthy, every database operation fails |
// | bad-health-body      | both | /health (web: /api/health) answers 200 {"status":"starting"}   |
// | broken-toggle        | api  | PATCH .../complete answers 200 without changing `completed`    |
// | chat-no-tool         | api  | chat answers politely but never calls a tool                   |
// | no-proxy             | web  | /api/* is answered 404 instead of being forwarded              |
// | broken-page          | web  | GET / answers 500                                              |
// | no-validation        | api  | title/description length limits are not enforced               |
// | crash-on-bad-json    | api  | malformed JSON bodies answer 500 instead of 422                |
// | rate-limit           | api  | every other POST .../chat answers 429 with Retry-After: 1      |
// | no-signature-check   | api  | token signatures are not verified (any key, any bytes)         |
// | no-expiry-check      | api  | exp and nbf are ignored                                        |
// | lax-token-source     | api  | tokens also taken from ?access_token=, X-Access-Token and any  |
// |                      |      | Authorization scheme                                           |
// | mass-assignment      | api  | POST .../tasks honours a user_id in the body as the owner      |
// | no-body-limit        | both | request bodies up to 64 MiB are read (the limit is 1 MiB)      |
// | sql-injection        | api  | SQLite only: the task title is pasted into the INSERT's SQL    |
// | debug-routes         | api  | GET /debug/config (secret's first/last 4 characters, length, a |
// |                      |      | DATABASE_URL with a password) and POST /debug/verify-token     |
// |                      |      | (claims of any token), both without auth, in /openapi.json     |
// | default-secret       | api  | tokens signed with the FastAPI docs' example SECRET_KEY are    |
// |                      |      | accepted as well as the real secret's                          |
// | bytes-error          | api  | a body that is not JSON on a JSON endpoint: 500 {"type":       |
// |                      |      | "TypeError","message":"Object of type bytes is not JSON ..."}  |
// | int-overflow         | api  | a task id of digits beyond int64: 500 "OverflowError: Python   |
// |                      |      | int too large to convert to C long"                            |
// | broken-register      | both | POST /api/auth/register (web: sign-up/email) answers 500       |
// | auth-500             | api  | a missing, malformed or invalid token answers 500, not 401     |
// | create-fails         | api  | POST .../tasks answers 500 after validation; nothing is stored |
// | delete-fails         | api  | DELETE .../tasks/{id} of an existing task answers 500, deletes |
// |                      |      | nothing (absent ids stay 404)                                  |
// | no-graceful-shutdown | both | SIGTERM/SIGINT: _exit(143) at once, in-flight requests dropped |
// | lying-readiness      | api  | /ready and /health 200 from the start while /api/* answers 503 |
// |                      |      | for TODO_FAULT_WARMUP_MS (default 3000) after start            |
// | state-in-memory      | api  | tasks and conversations live in process memory, not in the     |
// |                      |      | database (lost on restart, not shared between replicas)        |
// | unready-new-pods     | api  | PostgreSQL only: /ready answers 503 unless this replica holds  |
// |                      |      | an advisory lock the first replica takes and keeps while it    |
// |                      |      | lives (pods added beside it never become Ready)                |
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
  DebugRoutes,
  DefaultSecret,
  BytesError,
  IntOverflow,
  BrokenRegister,
  Auth500,
  CreateFails,
  DeleteFails,
  NoGracefulShutdown,
  LyingReadiness,
  StateInMemory,
  UnreadyNewPods,
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

  // Tuning for `slow`, `errors-5xx` and `lying-readiness`, read from the environment at startup.
  std::chrono::milliseconds slow_delay{1500};
  double error_rate = 0.3;
  std::chrono::milliseconds warmup{3000};

 private:
  std::bitset<static_cast<std::size_t>(Fault::Count_)> set_;
};

// Builds the set from names (CLI and TODO_FAULTS combined). Throws std::invalid_argument naming
// the unknown fault and listing the valid ones.
Faults parse_faults(const std::vector<std::string>& names);

}  // namespace todo
