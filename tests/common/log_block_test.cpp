#include "kgate/log_block.hpp"

#include <gtest/gtest.h>

namespace kgate {
namespace {

using nlohmann::json;

TEST(LogBlock, RoundTripsAmongOtherLogLines) {
  const json payload{
      {"verdict", "PASS"}, {"checks", json::array({1, 2, 3})}, {"text", std::string(500, 'x')}};
  const std::string log = "starting\n" + log_block::encode("results", payload) +
                          "some other line\n" + log_block::encode("other", {{"a", 1}}) + "bye\n";
  auto found = log_block::decode_all(log);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].kind, "results");
  EXPECT_EQ(found[0].payload, payload);
  EXPECT_EQ(log_block::decode_last(log, "other"), (json{{"a", 1}}));
  EXPECT_FALSE(log_block::decode_last(log, "missing").has_value());
  // Lines stay short enough for any log viewer.
  const std::string block = log_block::encode("results", payload);
  std::size_t start = 0, longest = 0;
  for (auto nl = block.find('\n'); nl != std::string::npos; nl = block.find('\n', start)) {
    if (start > 0) longest = std::max(longest, nl - start);
    start = nl + 1;
  }
  EXPECT_LE(longest, 80u);
}

TEST(LogBlock, DamagedOrCutBlocksAreNeverHalfRead) {
  std::string block =
      log_block::encode("results", {{"verdict", "FAIL"}, {"pad", std::string(300, 'k')}});
  std::string damaged = block;
  damaged[damaged.find('\n') + 5] ^= 1;  // one character of the payload
  std::vector<std::string> problems;
  EXPECT_TRUE(log_block::decode_all(damaged, "results", &problems).empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("damaged"), std::string::npos);
  problems.clear();
  EXPECT_TRUE(log_block::decode_all(block.substr(0, block.size() / 2), "", &problems).empty());
  EXPECT_NE(problems.at(0).find("never ends"), std::string::npos);
}

}  // namespace
}  // namespace kgate
