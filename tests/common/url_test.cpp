#include "kgate/url.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kgate {
namespace {

TEST(Url, ParsesHttpWithDefaults) {
  auto u = Url::parse("http://example.com");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, "80");
  EXPECT_EQ(u.target, "/");
  EXPECT_FALSE(u.tls());
  EXPECT_EQ(u.origin(), "http://example.com");
  EXPECT_EQ(u.host_header(), "example.com");
  EXPECT_EQ(u.str(), "http://example.com/");
}

TEST(Url, ParsesHttpsPortPathQuery) {
  auto u = Url::parse("HTTPS://Api.Example.com:8443/v1/todos?done=true#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "api.example.com");
  EXPECT_EQ(u.port, "8443");
  EXPECT_EQ(u.target, "/v1/todos?done=true");
  EXPECT_TRUE(u.tls());
  EXPECT_EQ(u.origin(), "https://api.example.com:8443");
  EXPECT_EQ(u.host_header(), "api.example.com:8443");
  EXPECT_EQ(Url::parse("https://h").port, "443");
  EXPECT_EQ(Url::parse("https://h:443/").host_header(), "h");
  EXPECT_EQ(Url::parse("http://h?x=1").target, "/?x=1");
}

TEST(Url, ParsesIpv6Literals) {
  auto u = Url::parse("http://[::1]:8080/health");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "8080");
  EXPECT_EQ(u.target, "/health");
  EXPECT_EQ(u.host_header(), "[::1]:8080");
  EXPECT_EQ(u.origin(), "http://[::1]:8080");
  auto d = Url::parse("https://[fe80::1]");
  EXPECT_EQ(d.host, "fe80::1");
  EXPECT_EQ(d.port, "443");
  EXPECT_EQ(d.host_header(), "[fe80::1]");
}

TEST(Url, WithTarget) {
  auto u = Url::parse("http://h:1/a").with_target("/b?c=d");
  EXPECT_EQ(u.str(), "http://h:1/b?c=d");
  EXPECT_EQ(Url::parse("http://h/a").with_target("").target, "/");
}

TEST(Url, RejectsBadUrls) {
  try {
    Url::parse("ftp://x");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "invalid URL 'ftp://x': scheme must be http or https");
  }
  EXPECT_THROW(Url::parse("example.com"), std::invalid_argument);
  EXPECT_THROW(Url::parse("http://"), std::invalid_argument);
  EXPECT_THROW(Url::parse("http://h:abc/"), std::invalid_argument);
  EXPECT_THROW(Url::parse("http://h:70000/"), std::invalid_argument);
  EXPECT_THROW(Url::parse("http://h:/"), std::invalid_argument);
  EXPECT_THROW(Url::parse("http://[::1/"), std::invalid_argument);
  EXPECT_THROW(Url::parse("http://h/a b"), std::invalid_argument);
  EXPECT_THROW(Url::parse("http://user:pw@h/"), std::invalid_argument);
  try {
    Url::parse("http://h:x");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("http://h:x"), std::string::npos);
  }
}

TEST(Url, Join) {
  EXPECT_EQ(join_url("http://h:1/prefix/", "/api/x"), "http://h:1/prefix/api/x");
  EXPECT_EQ(join_url("http://h:1/prefix", "/api/x"), "http://h:1/prefix/api/x");
  EXPECT_EQ(join_url("http://h:1", "api/x"), "http://h:1/api/x");
  EXPECT_EQ(join_url("http://h:1/", "/"), "http://h:1/");
  EXPECT_EQ(join_url("http://h:1/p", ""), "http://h:1/p");
  EXPECT_EQ(join_url("http://h:1/p", "https://other/x"), "https://other/x");
}

TEST(Url, EncodeSegment) {
  EXPECT_EQ(url_encode_segment("abc-._~XYZ09"), "abc-._~XYZ09");
  EXPECT_EQ(url_encode_segment("a b/c?d%"), "a%20b%2Fc%3Fd%25");
  EXPECT_EQ(url_encode_segment("\xC3\xA9"), "%C3%A9");
}

}  // namespace
}  // namespace kgate
