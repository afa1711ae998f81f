#pragma once
// The web role: stands in for the Next.js frontend. Serves a page and /api/health, answers
// Better Auth's /api/auth/* itself and forwards every other /api/* request to the backend.
#include <string>

#include "better_auth.hpp"
#include "message.hpp"
#include "policy.hpp"

namespace todo {

class WebRouter final : public Handler {
 public:
  // body_limit_status: 413, or 422 (--body-limit-status).
  WebRouter(const Policy& policy, BetterAuth& auth, std::string backend_url,
            int body_limit_status = 413);
  Response handle(const Request& request) override;
  // Forwarding and password hashing block: they run on the server's worker pool.
  bool blocking(const Request& request) const override;

 private:
  Response route(const Request& request, ResponseKind& kind);
  Response auth_route(const Request& request, std::string_view action);
  Response forward(const Request& request, ResponseKind& kind);

  const Policy& policy_;
  BetterAuth& auth_;
  std::string backend_;  // without a trailing '/'
  int body_limit_status_;
};

}  // namespace todo
