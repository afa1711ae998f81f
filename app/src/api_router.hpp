#pragma once
// The api role: the FastAPI backend's contract (health, tasks, chat).
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "auth.hpp"
#include "better_auth.hpp"
#include "drift.hpp"
#include "message.hpp"
#include "policy.hpp"
#include "rate_limit.hpp"
#include "replica_lock.hpp"
#include "storage.hpp"
#include "validation.hpp"

namespace todo {

struct ApiSettings {
  Drift drift;
  // Enables /api/auth/register and /api/auth/login (HS256 tokens signed with `secret`); without
  // it those paths are 404, as in apps whose frontend owns authentication.
  BetterAuth* accounts = nullptr;
  std::string secret;
  // The unready-new-pods fault: /ready is 503 while this replica does not hold the lock.
  ReplicaLock* replica_lock = nullptr;
};

class ApiRouter final : public Handler {
 public:
  ApiRouter(Storage& storage, TokenVerifier& verifier, const Policy& policy,
            const Lifecycle& lifecycle, ApiSettings settings = {});
  Response handle(const Request& request) override;

 private:
  Response route(const Request& request);
  Response auth_route(const Request& request, const std::string& action);
  Response debug_route(const Request& request, const std::string& action);
  Response tasks_collection(const Request& request, const std::string& user);
  Response task_item(const Request& request, const std::string& user, const std::string& id_text,
                     bool complete);
  Response chat(const Request& request, const std::string& user);
  Response conversation_messages(const Request& request, const std::string& user,
                                 const std::string& id_text);

  Response validation_response(const ValidationErrors& errors) const;
  nlohmann::json task_json(const Task& task) const;
  TaskRules task_rules() const;
  bool warming_up(const Request& request) const;
  // --rate-limit's 429 for this request's client, if it is over the limit.
  std::optional<Response> client_limit(const Request& request);

  Storage& storage_;
  TokenVerifier& verifier_;
  const Policy& policy_;
  const Lifecycle& lifecycle_;
  ApiSettings settings_;
  std::unique_ptr<FixedWindowLimiter> limiter_;
  std::string openapi_;  // rendered once: the routes do not change while running
};

}  // namespace todo
