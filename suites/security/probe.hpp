#pragma once
// What the security checks share: the contract's endpoints as one sweep, tokens forged from a
// real one, and the patterns that give away an app's internals. Everything here only touches
// identities and tasks that kgate created for the run.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kgate/check.hpp"
#include "kgate/todo_api.hpp"

namespace kgate::security {

// The base of every security check: paced to suites.security.max_rps while it lives.
class SecurityCheck : public Check {
 public:
  explicit SecurityCheck(CheckContext& c) : Check(c) { c.pace(c.config().security.max_rps); }
  ~SecurityCheck() override { c().pace(0); }
};

// One call of the contract: what a sweep sends and names in its findings.
struct Endpoint {
  std::string method;
  std::string url;
  std::string body;  // JSON, or empty
  // "GET /api/u/tasks/7": the path is enough in findings, the evidence has the full URL.
  std::string label() const;
};

// Every endpoint of the contract as `api` spells it: list, create, get, update, complete,
// delete (last: it is destructive) and chat (when the profile has one and chat is enabled).
// Writes carry `marker` so that anything they create can be found.
std::vector<Endpoint> contract_endpoints(const TodoApi& api, const std::string& task_id,
                                         const std::string& marker, bool chat);

// A request to `e` with no credentials; callers add theirs.
http::Request request_for(const Endpoint& e);

// Tokens forged from a real one (each is registered as a secret, so reports never show it).
std::string with_flipped_signature(const std::string& token);
std::string with_alg_none(const std::string& token);
// The token's claims with `changes` applied, HS256-signed with `secret`.
std::string resigned(const std::string& token, std::string_view secret,
                     const nlohmann::json& changes);

// Does `token`'s HS256 signature verify with `key` (which may be empty)?
bool hs256_matches(const std::string& token, std::string_view key);

// The first sign of internals in an error body or header (a stack trace, SQL, a file path,
// an exception name), described for the finding; "" when there is none.
std::string internals_in(std::string_view text);

// Seconds since the epoch, for forged time claims.
long long epoch_seconds();

// Did the call get through: a 2xx/3xx, or any answer that carries `marker` (the victim's data)?
bool accepted(const http::Response& r, const std::string& marker);

// Was the call refused as it should be: an answer, in `refused`, that does not carry `marker`.
bool refused(const http::Response& r, const std::vector<int>& statuses, const std::string& marker);

// "a, b and c" for findings.
std::string joined(const std::vector<std::string>& items, std::size_t max = 6);

// The victim every isolation and authentication sweep aims at: a task of `owner`, created with a
// unique title, deleted after the check; unchanged() says what changed since.
class VictimTask {
 public:
  VictimTask(CheckContext& c, const Identity& owner);
  bool ok() const { return !id_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& id() const { return id_; }
  const std::string& marker() const { return marker_; }
  // "" when the task is still there with its title and completion; else what happened to it.
  std::string changes_since_created();

 private:
  TodoApi api_;
  std::string id_, marker_, error_;
  bool completed_ = false;
};

}  // namespace kgate::security
