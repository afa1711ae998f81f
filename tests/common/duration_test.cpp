#include "kgate/duration.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kgate {
namespace {

using std::chrono::microseconds;

TEST(Duration, Parses) {
  EXPECT_EQ(parse_duration("1.5s"), microseconds(1500000));
  EXPECT_EQ(parse_duration("250ms"), microseconds(250000));
  EXPECT_EQ(parse_duration("300us"), microseconds(300));
  EXPECT_EQ(parse_duration("2m"), microseconds(120000000));
  EXPECT_EQ(parse_duration("1h"), microseconds(3600000000LL));
  EXPECT_EQ(parse_duration("3"), microseconds(3000000));
  EXPECT_EQ(parse_duration("0.25"), microseconds(250000));
  EXPECT_EQ(parse_duration(" 10ms "), microseconds(10000));
  EXPECT_EQ(parse_duration("0"), microseconds(0));
}

TEST(Duration, RejectsWithText) {
  for (const char* bad : {"", "ms", "5 parsecs", "1.2.3s", "-1s", "abc", "1d"}) {
    try {
      parse_duration(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Duration, Formats) {
  EXPECT_EQ(format_duration(microseconds(1250000)), "1.25s");
  EXPECT_EQ(format_duration(microseconds(300000)), "300ms");
  EXPECT_EQ(format_duration(microseconds(42)), "42us");
  EXPECT_EQ(format_duration(microseconds(1500)), "1.5ms");
  EXPECT_EQ(format_duration(microseconds(2000000)), "2s");
  EXPECT_EQ(format_duration(microseconds(0)), "0s");
  EXPECT_EQ(format_duration(microseconds(-5)), "-5us");
}

TEST(Duration, RoundTrips) {
  for (const char* s : {"1.25s", "300ms", "42us", "2s", "1.5ms"}) {
    EXPECT_EQ(format_duration(parse_duration(s)), s);
  }
}

}  // namespace
}  // namespace kgate
