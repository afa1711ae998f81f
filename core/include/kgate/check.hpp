#pragma once
// What a check (a GoogleTest test in suites/) is written against. A check's test-suite name
// starts with its kgate suite: SmokeHealth → suite "smoke", group "Health".
#include <gtest/gtest.h>

#include <string>

#include "kgate/context.hpp"
#include "kgate/todo_api.hpp"

namespace kgate {

class Check : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  RunContext& c() { return ctx(); }
  const Config& config() { return ctx().config(); }
  void title(std::string t) { ctx().check().title = std::move(t); }
  void property(const std::string& name, const std::string& value);
  void property(const std::string& name, double value, const char* unit = "");
  void severity(std::string s, std::string owasp = "") {
    ctx().check().severity = std::move(s);
    ctx().check().owasp = std::move(owasp);
  }
  // The API as seen by identity `label` through the backend (or another base URL).
  TodoApi api(const Identity& who, const std::string& base = "");
};

bool interrupted();  // Ctrl-C was pressed: remaining checks skip
// Called from the signal handler (async-signal-safe); returns how many signals came before.
int note_interrupt();

}  // namespace kgate

// Fail with exactly the message streamed after them (no GoogleTest preamble), so reports show
// what was wrong in the check's own words: KGATE_REQUIRE(r.status == 200) << "GET ... answered ";
#define KGATE_REQUIRE(cond) \
  switch (0)                \
  case 0:                   \
  default:                  \
    if (cond) {             \
    } else                  \
      return GTEST_MESSAGE_("", ::testing::TestPartResult::kFatalFailure)
#define KGATE_EXPECT(cond) \
  switch (0)               \
  case 0:                  \
  default:                 \
    if (cond) {            \
    } else                 \
      GTEST_MESSAGE_("", ::testing::TestPartResult::kNonFatalFailure)

// Acquires identity `label` into `var`, or skips the check saying why it cannot.
#define KGATE_IDENTITY(var, label)                                            \
  const ::kgate::Identity* var##_ptr = nullptr;                               \
  try {                                                                       \
    var##_ptr = &::kgate::ctx().identity(label);                              \
  } catch (const ::kgate::IdentityUnavailable& e) {                           \
    GTEST_SKIP() << "identity '" << (label) << "' unavailable: " << e.what(); \
  }                                                                           \
  const ::kgate::Identity& var = *var##_ptr
