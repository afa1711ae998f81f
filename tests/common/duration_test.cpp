#include "kgate/duration.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

namespace kgate {
namespace {

using std::chrono::microseconds;

TEST(Duration, Parses) {
  EXPECT_EQ(parse_duration("1.5s"), microseconds(1500000));
  EXPECT_EQ(parse_duration("250ms"), microseconds(250000));
  EXPECT_EQ(parse_duration("300us"), microseconds(300));
  EXPECT_EQ(parse_duration("300\xC2\xB5s"), microseconds(300));
  EXPECT_EQ(parse_duration("2m"), microseconds(120000000));
  EXPECT_EQ(parse_duration("1h"), microseconds(3600000000LL));
  EXPECT_EQ(parse_duration(" 10ms "), microseconds(10000));
  EXPECT_EQ(parse_duration("300 ms"), microseconds(300000));
  EXPECT_EQ(parse_duration(".5s"), microseconds(500000));
  EXPECT_EQ(parse_duration("0"), microseconds(0));
  EXPECT_EQ(parse_duration("0s"), microseconds(0));
}

TEST(Duration, Compounds) {
  EXPECT_EQ(parse_duration("1m30s"), microseconds(90000000));
  EXPECT_EQ(parse_duration("1h30m"), microseconds(5400000000LL));
  EXPECT_EQ(parse_duration("1s500ms"), microseconds(1500000));
  EXPECT_EQ(parse_duration("1.5m30s"), microseconds(120000000));
  EXPECT_EQ(parse_duration("2h3m4s5ms6us"), microseconds(7384005006LL));
}

// The message names the text and says what was expected.
void expect_rejected(const std::string& text, const std::string& why) {
  try {
    parse_duration(text);
    ADD_FAILURE() << "accepted '" << text << "'";
  } catch (const DurationError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("invalid duration '" + text + "'"), std::string::npos) << what;
    EXPECT_NE(what.find(why), std::string::npos) << what;
  }
}

TEST(Duration, RejectsWithText) {
  expect_rejected("", "empty; expected a number and a unit");
  expect_rejected("ms", "expected a number and a unit, e.g. 250ms");
  expect_rejected("5 parsecs", "unknown unit 'parsecs' (expected h, m, s, ms or us)");
  expect_rejected("1d", "unknown unit 'd'");
  expect_rejected("300ns", "unknown unit 'ns'");
  expect_rejected("-1s", "no sign");
  expect_rejected("abc", "expected a number");
  expect_rejected("1.2.3s", "'1.2' needs a unit");
}

TEST(Duration, ABareNumberIsNotADuration) {
  // It used to mean seconds here and was an error in thresholds: now it is an error everywhere.
  expect_rejected("3",
                  "'3' needs a unit: h, m, s, ms or us (e.g. 3s or 3ms); only 0 may stand alone");
  expect_rejected("0.25", "'0.25' needs a unit");
  expect_rejected("1m30", "'30' needs a unit");
  expect_rejected("00", "'00' needs a unit");
}

TEST(Duration, UnitsFromLargestToSmallestEachOnce) {
  expect_rejected("30s1m", "'m' after 's': write units from the largest to the smallest");
  expect_rejected("1s1s", "'s' after 's'");
  expect_rejected("1m 30s", "unexpected ' 30s' after the duration");
}

TEST(Duration, HugeNumbersAreErrorsNotOverflow) {
  expect_rejected("1234567890123456s", "too many digits");
  expect_rejected("999999999999999h999999999999999m", "too large");
  expect_rejected("9999999999999h", "too large");
  EXPECT_EQ(parse_duration("0.000000000000000000000000000000000000000000000001s"), microseconds(0));
  EXPECT_EQ(parse_duration("000000000000000000000000000000000001s"), microseconds(1000000));
}

TEST(Duration, ScanStopsWhereTheDurationEnds) {
  auto d = scan_duration("1m30s) and more");
  EXPECT_EQ(d.length, 5u);
  EXPECT_EQ(d.micros, 90e6);
  EXPECT_EQ(scan_duration("0 < x").length, 1u);
  EXPECT_EQ(scan_duration("199.9us").micros, 199.9);
  try {
    scan_duration("1m30x");
    FAIL();
  } catch (const DurationError& e) {
    EXPECT_EQ(e.offset(), 4u);
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
  EXPECT_EQ(format_duration(microseconds(std::numeric_limits<long long>::min())).substr(0, 1), "-");
}

TEST(Duration, RoundTrips) {
  for (const char* s : {"1.25s", "300ms", "42us", "2s", "1.5ms"}) {
    EXPECT_EQ(format_duration(parse_duration(s)), s);
  }
}

}  // namespace
}  // namespace kgate
