#include "kgate/wait.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kgate {
namespace {

using namespace std::chrono_literals;

TEST(WaitUntil, SucceedsAfterAttempts) {
  int calls = 0;
  auto r = wait_until(
      [&](std::string* why) {
        ++calls;
        *why = "calls=" + std::to_string(calls);
        return calls == 3;
      },
      2s, 10ms);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_TRUE(r.last_error.empty());
  EXPECT_LT(r.waited, 1s);
}

TEST(WaitUntil, ImmediateSuccess) {
  auto r = wait_until([](std::string*) { return true; }, 0ms);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.attempts, 1);
}

TEST(WaitUntil, TimesOutWithLastError) {
  auto start = std::chrono::steady_clock::now();
  int calls = 0;
  auto r = wait_until(
      [&](std::string* why) {
        *why = "attempt " + std::to_string(++calls);
        return false;
      },
      200ms, 50ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.ok);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1s);
  EXPECT_GE(r.waited, 200ms);
  // Attempts at 0, 50, 100, 150 and the last one at the deadline.
  EXPECT_GE(r.attempts, 4);
  EXPECT_LE(r.attempts, 6);
  EXPECT_EQ(r.last_error, "attempt " + std::to_string(r.attempts));
}

TEST(WaitUntil, ExceptionsCountAsNotYet) {
  int calls = 0;
  auto r = wait_until(
      [&](std::string*) -> bool {
        if (++calls < 3) throw std::runtime_error("connection refused");
        return true;
      },
      2s, 5ms);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.attempts, 3);

  auto failing =
      wait_until([](std::string*) -> bool { throw std::runtime_error("still down"); }, 50ms, 10ms);
  EXPECT_FALSE(failing.ok);
  EXPECT_EQ(failing.last_error, "still down");
}

}  // namespace
}  // namespace kgate
