#pragma once
// The api role: the FastAPI backend's contract (health, tasks, chat).
#include <memory>

#include "auth.hpp"
#include "message.hpp"
#include "policy.hpp"
#include "storage.hpp"

namespace todo {

class ApiRouter final : public Handler {
 public:
  ApiRouter(Storage& storage, TokenVerifier& verifier, const Policy& policy,
            const Lifecycle& lifecycle);
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
};

}  // namespace todo
