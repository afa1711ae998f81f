// JWKS documents (Better Auth's /api/auth/jwks) as verify() reads them. The input is the JWKS
// text; three fixed EdDSA tokens are verified against it. Property: any JSON, however wrongly
// typed, is a refusal with a reason, never an exception or a crash.
#include "fuzz_common.hpp"
#include "kgate/jwt.hpp"

namespace jwt = kgate::jwt;

namespace {
// Tokens whose signatures are not valid under any key: the JWKS decides only how verify()
// refuses them (with a kid, without one, with a kid of the wrong type).
std::string token(const char* header) {
  return jwt::base64url_encode(header) + "." + jwt::base64url_encode(R"({"sub":"fuzz"})") +
         ".c2lnbmF0dXJl";
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string tokens[] = {token(R"({"alg":"EdDSA","kid":"fuzz-1"})"),
                                       token(R"({"alg":"EdDSA"})"),
                                       token(R"({"alg":"EdDSA","kid":7})")};
  jwt::VerifyOptions options;
  options.jwks = nlohmann::json::parse(fuzz_text(data, size), nullptr, false);
  if (options.jwks.is_discarded()) return 0;
  for (const auto& t : tokens) {
    const jwt::Verified v = jwt::verify(t, options);
    FUZZ_ASSERT(!v.ok);  // none of them is validly signed by anything the fuzzer can write
  }
  return 0;
}
