#pragma once
// The api role: the FastAPI backend's contract (health, tasks, chat).
#include <memory>

#include "auth.hpp"
#include "better_auth.hpp"
#include "message.hpp"
#include "policy.hpp"
#include "storage.hpp"

namespace todo {

class ApiRouter final : public Handler {
 public:
  // `accounts` and `secret` enable /api/auth/register and /api/auth/login (HS256 tokens); with
  // a null `accounts` those paths are 404, as in apps whose frontend owns authentication.
  ApiRouter(Storage& storage, TokenVerifier& verifier, const Policy& policy,
            const Lifecycle& lifecycle, BetterAuth* accounts = nullptr, std::string secret = "");
  Response handle(const Request& request) override;

 private:
  Response route(const Request& request);
  Response tasks_collection(const Request& request, const std::string& user);
  Response task_item(const Request& request, const std::string& user, const std::string& id_text,
                     bool complete);
  Response chat(const Request& request, const std::string& user);
  Response conversation_messages(const Request& request, const std::string& user,
                                 const std::string& id_text);

  Storage& storage_;
  TokenVerifier& verifier_;
  const Policy& policy_;
  const Lifecycle& lifecycle_;
  BetterAuth* accounts_;
  std::string secret_;
};

}  // namespace todo
