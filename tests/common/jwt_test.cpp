#include "kgate/jwt.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kgate::jwt {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using std::chrono::system_clock;

system_clock::time_point at(long long epoch_seconds) {
  return system_clock::time_point(seconds(epoch_seconds));
}

VerifyOptions hs(std::string secret) {
  VerifyOptions o;
  o.hs256_secret = std::move(secret);
  return o;
}

// Replaces the signature's first character so the signature no longer matches.
std::string tamper_signature(std::string token) {
  auto dot = token.rfind('.');
  token[dot + 1] = token[dot + 1] == 'A' ? 'B' : 'A';
  return token;
}

TEST(Base64Url, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64url_encode(plain), encoded);
    EXPECT_EQ(base64url_decode(encoded), plain);
  }
}

TEST(Base64Url, UrlAlphabetAndPadding) {
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff", 2));
  EXPECT_EQ(base64url_decode("-_8="), std::string("\xfb\xff", 2));
  EXPECT_EQ(base64url_decode("Zm9vYg=="), "foob");
  EXPECT_THROW(base64url_decode("+/8="), std::invalid_argument);
  EXPECT_THROW(base64url_decode("Zm9v!"), std::invalid_argument);
  EXPECT_THROW(base64url_decode("Z"), std::invalid_argument);
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(base64url_decode(base64url_encode(all)), all);
}

// RFC 7515 appendix A.1: the header and payload contain CR LF, so this checks that the signature
// is computed over the bytes as received.
TEST(Hs256, Rfc7515AppendixA1) {
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
      "cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const std::string key = base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  auto opts = hs(key);
  opts.now = at(1300819300);
  auto v = verify(token, opts);
  ASSERT_TRUE(v.ok) << v.error;
  EXPECT_EQ(v.payload["iss"], "joe");
  EXPECT_EQ(v.payload["http://example.com/is_root"], true);

  opts.now = at(1300819380);  // exp is exclusive
  v = verify(token, opts);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.error, "token expired");
}

// The widely published jwt.io example token.
TEST(Hs256, JwtIoExample) {
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
      "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  auto v = verify(token, hs("your-256-bit-secret"));
  ASSERT_TRUE(v.ok) << v.error;
  EXPECT_EQ(v.payload["name"], "John Doe");
  EXPECT_EQ(verify(token, hs("another-secret")).error, "signature mismatch");
}

TEST(Hs256, SignVerifyRoundTrip) {
  json payload = {{"sub", "user-1"}, {"scope", "todos"}};
  auto token = sign_hs256(payload, "s3cret-key");
  auto d = decode(token);
  EXPECT_EQ(d.header, json({{"alg", "HS256"}, {"typ", "JWT"}}));
  EXPECT_EQ(d.payload, payload);
  EXPECT_EQ(d.signature.size(), 32u);
  auto v = verify(token, hs("s3cret-key"));
  ASSERT_TRUE(v.ok) << v.error;
  EXPECT_EQ(v.payload, payload);

  auto with_kid = sign_hs256(payload, "s3cret-key", {{"kid", "k1"}});
  EXPECT_EQ(decode(with_kid).header["kid"], "k1");
  EXPECT_TRUE(verify(with_kid, hs("s3cret-key")).ok);
}

TEST(Hs256, RefusesTamperedOrWrongSecret) {
  auto token = sign_hs256({{"sub", "a"}}, "right-secret");
  EXPECT_EQ(verify(tamper_signature(token), hs("right-secret")).error, "signature mismatch");
  EXPECT_EQ(verify(token, hs("wrong-secret")).error, "signature mismatch");
  // A changed payload with the old signature.
  auto other = sign_hs256({{"sub", "admin"}}, "x-secret");
  auto forged = token.substr(0, token.find('.')) +
                other.substr(other.find('.'), other.rfind('.') - other.find('.')) +
                token.substr(token.rfind('.'));
  EXPECT_EQ(verify(forged, hs("right-secret")).error, "signature mismatch");
  // HS256 is not accepted without a secret.
  EXPECT_FALSE(verify(token, VerifyOptions{}).ok);
}

TEST(Jwt, AlgNone) {
  std::string token = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                      base64url_encode(R"({"sub":"x"})") + ".";
  auto v = verify(token, hs("secret-1"));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.error, "alg none refused");
  std::string upper = base64url_encode(R"({"alg":"NoNe"})") + "." + base64url_encode("{}") + ".";
  EXPECT_EQ(verify(upper, hs("secret-1")).error, "alg none refused");

  VerifyOptions allow;
  allow.allow_alg_none = true;
  v = verify(token, allow);
  ASSERT_TRUE(v.ok) << v.error;
  EXPECT_EQ(v.payload["sub"], "x");
}

TEST(Jwt, RefusesUnknownAlg) {
  std::string token =
      base64url_encode(R"({"alg":"RS256"})") + "." + base64url_encode(R"({"sub":"x"})") + ".AAAA";
  auto v = verify(token, hs("secret-1"));
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.error.find("RS256"), std::string::npos);
}

TEST(Jwt, ExpiryAndNotBefore) {
  const long long now = 1700000000;
  auto opts = hs("secret-1");
  opts.now = at(now);

  auto expired = sign_hs256({{"exp", now - 10}}, "secret-1");
  EXPECT_EQ(verify(expired, opts).error, "token expired");
  auto fresh = sign_hs256({{"exp", now + 10}}, "secret-1");
  EXPECT_TRUE(verify(fresh, opts).ok);
  auto no_exp = sign_hs256({{"sub", "x"}}, "secret-1");
  EXPECT_TRUE(verify(no_exp, opts).ok);

  auto early = sign_hs256({{"nbf", now + 60}}, "secret-1");
  EXPECT_EQ(verify(early, opts).error, "token not yet valid (nbf)");
  EXPECT_TRUE(verify(sign_hs256({{"nbf", now - 1}}, "secret-1"), opts).ok);

  opts.leeway = seconds(30);
  EXPECT_TRUE(verify(expired, opts).ok);
  EXPECT_EQ(verify(early, opts).error, "token not yet valid (nbf)");
  opts.leeway = seconds(61);
  EXPECT_TRUE(verify(early, opts).ok);

  auto text_exp = sign_hs256({{"exp", "tomorrow"}}, "secret-1");
  EXPECT_NE(verify(text_exp, opts).error.find("malformed token"), std::string::npos);
}

TEST(Jwt, Malformed) {
  for (const char* bad : {"", "abc", "a.b", "a.b.c.d", "!!!.e30.", "e30.bm90anNvbg.", "W10.e30."}) {
    auto v = verify(bad, hs("secret-1"));
    EXPECT_FALSE(v.ok) << bad;
    EXPECT_EQ(v.error.rfind("malformed token", 0), 0u) << bad << ": " << v.error;
  }
  EXPECT_THROW(decode("a.b"), std::invalid_argument);
}

TEST(EdDsa, SignVerifyWithJwks) {
  auto key = Ed25519Key::generate("key-1");
  EXPECT_EQ(key.private_raw.size(), 32u);
  EXPECT_EQ(key.public_raw.size(), 32u);
  auto jwk = key.public_jwk();
  EXPECT_EQ(jwk["kty"], "OKP");
  EXPECT_EQ(jwk["crv"], "Ed25519");
  EXPECT_EQ(jwk["kid"], "key-1");
  EXPECT_EQ(jwk["alg"], "EdDSA");
  EXPECT_EQ(base64url_decode(jwk["x"].get<std::string>()), key.public_raw);

  auto other = Ed25519Key::generate("key-2");
  VerifyOptions opts;
  opts.jwks = {{"keys", json::array({other.public_jwk(), jwk})}};
  auto token = sign_eddsa({{"sub", "u1"}}, key);
  auto d = decode(token);
  EXPECT_EQ(d.header["alg"], "EdDSA");
  EXPECT_EQ(d.header["kid"], "key-1");
  EXPECT_EQ(d.signature.size(), 64u);
  auto v = verify(token, opts);
  ASSERT_TRUE(v.ok) << v.error;
  EXPECT_EQ(v.payload["sub"], "u1");

  EXPECT_EQ(verify(tamper_signature(token), opts).error, "signature mismatch");
  // EdDSA is not accepted through the HS256 secret alone.
  EXPECT_FALSE(verify(token, hs("secret-1")).ok);
}

TEST(EdDsa, KidSelection) {
  auto key = Ed25519Key::generate("key-1");
  auto stranger = Ed25519Key::generate("key-9");
  VerifyOptions opts;
  opts.jwks = {{"keys", json::array({key.public_jwk()})}};
  auto v = verify(sign_eddsa({{"sub", "x"}}, stranger), opts);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.error.find("key-9"), std::string::npos) << v.error;

  // The only key is used when the token has no kid.
  auto nokid = key;
  nokid.kid.clear();
  EXPECT_TRUE(verify(sign_eddsa({{"sub", "x"}}, nokid), opts).ok);

  // Same kid, different key material.
  auto impostor = Ed25519Key::generate("key-1");
  EXPECT_EQ(verify(sign_eddsa({{"sub", "x"}}, impostor), opts).error, "signature mismatch");
}

// Found by fuzz_jwks (fuzz/regressions/fuzz_jwks/): a JWKS member of another type made verify()
// throw json::type_error out of json::value() instead of refusing the token.
TEST(EdDsa, JwksWithWronglyTypedMembersRefusesWithAReason) {
  auto key = Ed25519Key::generate("key-1");
  const auto token = sign_eddsa({{"sub", "x"}}, key);
  VerifyOptions opts;
  opts.jwks = json::parse(R"({"keys":[{"kid":1},{"kid":"key-1","kty":5,"crv":[],"x":"AA"}]})");
  Verified v;
  EXPECT_NO_THROW(v = verify(token, opts));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.error, "JWKS key is not an Ed25519 (OKP) key");
}

}  // namespace
}  // namespace kgate::jwt
