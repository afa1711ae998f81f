#pragma once
// Bearer token verification for the api role: HS256 with the shared secret, and optionally
// EdDSA tokens whose keys come from a JWKS URL (Better Auth's JWT plugin), fetched on first use
// and refetched when a token names an unknown key.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <kgate/jwt.hpp>

namespace todo {

struct AuthOptions {
  std::string hs256_secret;
  std::string jwks_url;
  bool allow_alg_none = false;  // the alg-none fault
  bool skip_signature = false;  // the no-signature-check fault
  bool ignore_time = false;     // the no-expiry-check fault
  // HS256 keys accepted besides hs256_secret (the default-secret fault's published example).
  std::vector<std::string> fallback_hs256_secrets;
};

// The FastAPI docs' OAuth2/JWT tutorial key: apps that copy the tutorial sign with it.
inline constexpr const char* kFastApiTutorialSecret =
    "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";

struct AuthResult {
  bool ok = false;
  std::string user_id;     // from sub (or id / user_id, which some apps use)
  std::string error;       // for logs, never for clients
  nlohmann::json payload;  // the verified claims
};

class TokenVerifier {
 public:
  explicit TokenVerifier(AuthOptions options);
  AuthResult verify(std::string_view token);

 private:
  std::shared_ptr<const kgate::jwt::VerifyOptions> snapshot() const;
  // Fetches the JWKS when `kid` is not among the known keys (rate-limited).
  void refresh_keys_for(const std::string& kid);

  AuthOptions options_;
  std::atomic<std::shared_ptr<const kgate::jwt::VerifyOptions>> current_;
  std::mutex fetch_mu_;
  std::chrono::steady_clock::time_point last_fetch_{};
  bool fetched_ = false;
};

}  // namespace todo
