// JWTs as the app and kgate's auth read them (common/jwt): decode() and verify() with an HS256
// secret, a JWKS and both settings of alg none. Properties: malformed tokens are errors, never
// crashes or stray exceptions; nothing verifies without its signature (the fuzzer cannot forge
// HMAC-SHA256 or Ed25519, so an accepted token is one signed by the seeds' keys, or alg none
// where allowed).
#include <stdexcept>

#include "fuzz_common.hpp"
#include "kgate/jwt.hpp"

namespace jwt = kgate::jwt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string token = fuzz_text(data, size);
  try {
    jwt::decode(token);
  } catch (const std::invalid_argument&) {
  }
  jwt::VerifyOptions strict;
  strict.hs256_secret = "kgate-fuzz-secret";
  strict.jwks = nlohmann::json::parse(
      R"({"keys":[{"kty":"OKP","crv":"Ed25519","kid":"fuzz-1",)"
      R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"EdDSA"}]})");
  strict.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  const jwt::Verified v = jwt::verify(token, strict);
  FUZZ_ASSERT(v.ok == v.error.empty());
  jwt::VerifyOptions lax = strict;
  lax.allow_alg_none = true;
  lax.leeway = std::chrono::seconds(1'000'000'000);
  jwt::verify(token, lax);
  return 0;
}
