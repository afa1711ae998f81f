#include "kgate/redact.hpp"

#include <gtest/gtest.h>

#include "kgate/jwt.hpp"

namespace kgate {
namespace {

class Redact : public ::testing::Test {
 protected:
  void SetUp() override { clear_secrets(); }
  void TearDown() override { clear_secrets(); }
};

TEST_F(Redact, RegisteredSecrets) {
  register_secret("hunter2-password");
  EXPECT_EQ(redact("db password=hunter2-password; again hunter2-password"),
            "db password=[REDACTED]; again [REDACTED]");
  EXPECT_EQ(redact("nothing here"), "nothing here");
}

TEST_F(Redact, LongestFirst) {
  register_secret("abcd");
  register_secret("abcdefgh");
  EXPECT_EQ(redact("x abcdefgh y abcd"), "x [REDACTED] y [REDACTED]");
}

TEST_F(Redact, ShortSecretsIgnored) {
  register_secret("abc");
  register_secret("");
  EXPECT_EQ(redact("abc abc"), "abc abc");
}

TEST_F(Redact, ClearForgets) {
  register_secret("topsecret");
  clear_secrets();
  EXPECT_EQ(redact("topsecret"), "topsecret");
}

TEST_F(Redact, JwtLookalikes) {
  auto token = jwt::sign_hs256({{"sub", "u"}}, "k-secret");
  EXPECT_EQ(redact("token=" + token + " end"), "token=[REDACTED] end");
  EXPECT_EQ(redact("{\"t\":\"" + token + "\"}"), "{\"t\":\"[REDACTED]\"}");
  EXPECT_EQ(redact("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), "[REDACTED]");
  // Not three segments, or not a JWT header: left alone.
  EXPECT_EQ(redact("eyJhbGciOiJub25lIn0 is a header"), "eyJhbGciOiJub25lIn0 is a header");
  EXPECT_EQ(redact("version 1.2.3"), "version 1.2.3");
}

TEST_F(Redact, BearerValues) {
  EXPECT_EQ(redact("Authorization: Bearer abc.def-123\nnext"),
            "Authorization: Bearer [REDACTED]\nnext");
  EXPECT_EQ(redact("{\"authorization\":\"bearer opaque-token-42\"}"),
            "{\"authorization\":\"bearer [REDACTED]\"}");
  EXPECT_EQ(redact("WWW-Authenticate: Bearer realm=\"api\""),
            "WWW-Authenticate: Bearer realm=\"api\"");
  EXPECT_EQ(redact("Bearer "), "Bearer ");
}

// Redaction hides secret values, not words: a title that talks about bearer tokens stays whole.
TEST_F(Redact, WordsAfterBearerAreNotSecrets) {
  EXPECT_EQ(redact("Every endpoint refuses a malformed bearer token"),
            "Every endpoint refuses a malformed bearer token");
  EXPECT_EQ(redact("the Bearer scheme is required"), "the Bearer scheme is required");
  EXPECT_EQ(redact("Authorization: Bearer kgate-not-a-jwt"), "Authorization: Bearer [REDACTED]");
  EXPECT_EQ(redact("Bearer abcdefghijklmnopqrstu"), "Bearer [REDACTED]") << "long: a credential";
  EXPECT_EQ(redact("Bearer null"), "Bearer null") << "a word, not a credential";
}

TEST_F(Redact, LargeText) {
  register_secret("needle-secret");
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i) + " of the report\n";
  big += "needle-secret";
  auto out = redact(big);
  EXPECT_EQ(out.size(), big.size() - std::string("needle-secret").size() + 10);
  EXPECT_EQ(out.substr(out.size() - 10), "[REDACTED]");
}

TEST_F(Redact, UrlUserInfoAndCredentialParameters) {
  EXPECT_EQ(redact("cannot reach https://admin:hunter22@db.example:5432/x now"),
            "cannot reach https://[REDACTED]@db.example:5432/x now");
  EXPECT_EQ(redact("GET http://h/api?token=abc123&page=2&API_KEY=k-9#top"),
            "GET http://h/api?token=[REDACTED]&page=2&API_KEY=[REDACTED]#top");
  EXPECT_EQ(redact("\"http://h/?X-Amz-Signature=f00d&client_secret=s3\""),
            "\"http://h/?X-Amz-Signature=[REDACTED]&client_secret=[REDACTED]\"");
  // Ordinary URLs, e-mail addresses and parameters stay readable.
  EXPECT_EQ(redact("http://h/tasks?status=done&page=2"), "http://h/tasks?status=done&page=2");
  EXPECT_EQ(redact("http://h/u/a@b.c and mail me@example.org"),
            "http://h/u/a@b.c and mail me@example.org");
  EXPECT_EQ(redact("https://[REDACTED]@h/?token=[REDACTED]"),
            "https://[REDACTED]@h/?token=[REDACTED]");
}

TEST_F(Redact, UrlGivenByTheUserKeepsOnlyItsShape) {
  EXPECT_EQ(redact_url("http://127.0.0.1:7860/health?token=s3cr3t&x=1&flag#frag"),
            "http://127.0.0.1:7860/health?token=[REDACTED]&x=[REDACTED]&[REDACTED]#[REDACTED]");
  EXPECT_EQ(redact_url("GET https://user:pw@h/p?q="), "GET https://[REDACTED]@h/p?q=");
  EXPECT_EQ(redact_url("http://h:80/plain/path"), "http://h:80/plain/path");
  EXPECT_EQ(redact_url("http://h?a=1"), "http://h?a=[REDACTED]");
  EXPECT_EQ(redact_url("http://h/#"), "http://h/#");
  EXPECT_EQ(redact_url(""), "");
  register_secret("user-id-7f3a");
  EXPECT_EQ(redact_url("http://h/api/user-id-7f3a/tasks"), "http://h/api/[REDACTED]/tasks");
}

}  // namespace
}  // namespace kgate
