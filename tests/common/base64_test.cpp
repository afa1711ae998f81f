#include "kgate/base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

TEST(Base64, RoundTripsEveryPaddingLength) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba",
                                                       "foobar", std::string("\0\xff\x10", 3)}) {
    auto decoded = kgate::base64_decode(kgate::base64_encode(s));
    ASSERT_TRUE(decoded) << s;
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_EQ(kgate::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(kgate::base64_encode("fo"), "Zm8=");
}

TEST(Base64, SkipsFoldedWhitespaceAndRejectsGarbage) {
  EXPECT_EQ(kgate::base64_decode("Zm9v\n YmFy"), "foobar");
  EXPECT_FALSE(kgate::base64_decode("Zm9v*mFy"));
  EXPECT_FALSE(kgate::base64_decode("Zm8=Zm8="));  // data after padding
  EXPECT_FALSE(kgate::base64_decode("Zm9vYmF_"));  // the URL alphabet is not this one
}

}  // namespace
