#pragma once
// Test identities: who kgate acts as. Each auth mode (mint, login, better-auth, tokens) is one
// IdentityProvider; suites ask the run context for identities by label ("alice", "bob").
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "kgate/config.hpp"
#include "kgate/http.hpp"

namespace kgate {

struct Identity {
  std::string label;    // "alice", "bob": the role it plays in the checks
  std::string user_id;  // what goes into {user_id}
  std::string token;    // bearer token (registered as a secret)
  std::string email;    // login modes only
};

// Cannot provide an identity (missing secret, not enough fixed tokens): checks that need it skip.
class IdentityUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Sends an HTTP request the way checks do (evidence, 429 handling); given to providers that log in.
using Sender = std::function<http::Response(const http::Request&)>;

class IdentityProvider {
 public:
  virtual ~IdentityProvider() = default;
  virtual Identity acquire(const std::string& label) = 0;
  virtual std::string describe() const = 0;  // for the report, without secrets
};

// Builds the provider for cfg.auth.mode. secret_override (embedded mode) replaces the env lookup.
std::unique_ptr<IdentityProvider> make_identity_provider(const Config& cfg, Sender send,
                                                         const std::string& secret_override = "");

// A random lowercase hex string (for names and ids kgate creates).
std::string random_hex(std::size_t bytes);

}  // namespace kgate
