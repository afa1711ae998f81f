#pragma once
// JSON Web Tokens: HS256 signing and verification (the contract's scheme), EdDSA (Ed25519)
// signing and verification with JWKS (Better Auth's JWT plugin), and unverified decoding.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kgate::jwt {

std::string base64url_encode(std::string_view bytes);
// Throws std::invalid_argument on characters outside the base64url alphabet.
std::string base64url_decode(std::string_view text);

struct Decoded {
  nlohmann::json header;
  nlohmann::json payload;
  std::string signing_input;  // "<header>.<payload>" as received
  std::string signature;      // raw bytes
};
// Splits and decodes without verifying. Throws std::invalid_argument on a malformed token.
Decoded decode(std::string_view token);

std::string sign_hs256(const nlohmann::json& payload, std::string_view secret,
                       const nlohmann::json& extra_header = nlohmann::json::object());

// An Ed25519 key pair for EdDSA tokens, with its public JWK.
struct Ed25519Key {
  std::string kid;
  std::string private_raw;  // 32 bytes
  std::string public_raw;   // 32 bytes
  static Ed25519Key generate(std::string kid);
  nlohmann::json public_jwk()
      const;  // {"kty":"OKP","crv":"Ed25519","x":...,"kid":...,"alg":"EdDSA"}
};
std::string sign_eddsa(const nlohmann::json& payload, const Ed25519Key& key);

struct VerifyOptions {
  std::string hs256_secret;                        // accept HS256 with this secret when non-empty
  nlohmann::json jwks = nlohmann::json::object();  // accept EdDSA keys from this set {"keys":[...]}
  bool allow_alg_none = false;                     // a deliberate fault only; never in real use
  std::chrono::seconds leeway{0};
  std::optional<std::chrono::system_clock::time_point> now;  // for tests
};

struct Verified {
  bool ok = false;
  std::string error;  // why it was refused, when !ok
  nlohmann::json payload;
};
// Checks signature (alg from header must be an accepted one), exp and nbf.
Verified verify(std::string_view token, const VerifyOptions& options);

}  // namespace kgate::jwt
