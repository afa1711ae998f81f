#pragma once
// Minting test tokens the way the contract's frontend does (HS256 with the shared secret).
#include <chrono>
#include <string>

#include <kgate/jwt.hpp>
#include <nlohmann/json.hpp>

namespace kgate::testfw {

// The secret TodoApp gives the api role when the test does not choose one.
inline constexpr const char* kTestSecret = "kgate-test-secret-0123456789abcdef";

// A token for sub, valid for ttl (negative: already expired), plus any extra claims.
std::string sign_hs256(const std::string& sub, const std::string& secret = kTestSecret,
                       std::chrono::seconds ttl = std::chrono::hours(1),
                       const nlohmann::json& extra_claims = nlohmann::json::object());
// Valid signature, exp in the past.
std::string expired_token(const std::string& sub, const std::string& secret = kTestSecret);
// Valid signature, nbf an hour in the future.
std::string not_yet_valid_token(const std::string& sub, const std::string& secret = kTestSecret);
// An unsigned token: header {"alg":"none"}, empty signature.
std::string alg_none_token(const std::string& sub);
// Same token with its payload's sub replaced, signature kept: must be refused.
std::string tampered_token(const std::string& token, const std::string& new_sub);

}  // namespace kgate::testfw
