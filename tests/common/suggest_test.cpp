#include "kgate/suggest.hpp"

#include <gtest/gtest.h>

namespace kgate {
namespace {

TEST(Suggest, EditDistanceCountsASwapAsOneEdit) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("rsp", "rps"), 1u);
  EXPECT_EQ(edit_distance("tagret", "target"), 1u);
  EXPECT_EQ(edit_distance("ca", "abc"), 3u) << "optimal string alignment, not full Damerau";
}

TEST(Suggest, ClosestWithinAFewEdits) {
  const std::vector<std::string> suites = {"smoke", "security", "load"};
  EXPECT_EQ(closest_match("secuirty", suites), "security");
  EXPECT_EQ(closest_match("SMOKE", suites), "smoke") << "case does not count";
  EXPECT_EQ(closest_match("lod", suites), "load");
  EXPECT_EQ(closest_match("zzzzzzzz", suites), "");
  EXPECT_EQ(closest_match("anything", {}), "");
  // At most 3 edits however long the word: a long word is not "close" to everything.
  EXPECT_EQ(closest_match("request_timeout_ms", {"request_timeout"}), "request_timeout");
  EXPECT_EQ(closest_match("request_timeout_secs", {"request_timeout"}), "");
}

}  // namespace
}  // namespace kgate
