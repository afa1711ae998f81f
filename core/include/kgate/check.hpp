#pragma once
// How a check is written. A check is a class (its group's fixture) with a run() body, declared
// with its metadata as data, so that `kgate list` and selection never run anything:
//
//   class SmokeHealth : public Check {               // one group of checks
//    public:
//     static constexpr GroupInfo group{"smoke", "Health"};
//     using Check::Check;
//    protected:
//     void expect_healthy(const std::string& url) { ... }   // helpers the group shares
//   };
//
//   KGATE_CHECK(SmokeHealth, BackendHealth,
//               {.title = "The backend's health endpoint answers 200 and a healthy status"}) {
//     auto r = c().send("GET", url, "");
//     KGATE_REQUIRE(r.status == 200) << "GET " << url << " answered " << r.status;
//   }
//
// Outcomes: KGATE_EXPECT records a finding and goes on; KGATE_REQUIRE records one and stops the
// check; KGATE_SKIP / KGATE_INCONCLUSIVE / KGATE_SETUP_ERROR stop it with that outcome and the
// streamed reason. A finding already recorded stays a failure whatever stops the check later.
// docs/writing-checks.md walks through adding a check and a suite.
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "kgate/check_context.hpp"
#include "kgate/registry.hpp"
#include "kgate/todo_api.hpp"

namespace kgate {

// The base of every check: the context it runs in, and shorthands for what most checks use.
class Check {
 public:
  explicit Check(CheckContext& c) : c_(c) {}
  virtual ~Check() = default;
  Check(const Check&) = delete;
  Check& operator=(const Check&) = delete;

  virtual void run() = 0;

 protected:
  CheckContext& c() { return c_; }
  const Config& config() const { return c_.config(); }
  // A fact that is not a number (for numbers, measure()).
  void property(const std::string& name, const std::string& value) { c_.property(name, value); }
  void measure(const std::string& name, double value, const std::string& unit) {
    c_.measure(name, value, unit);
  }
  bool has_failure() const { return !c_.findings().empty(); }
  // The API as seen by identity `who` through the backend (or another base URL).
  TodoApi api(const Identity& who, const std::string& base = "") {
    return TodoApi(c_, base.empty() ? config().target.backend : base, who);
  }

 private:
  CheckContext& c_;
};

// Registers Fixture::group's check `name` (called by KGATE_CHECK at static initialisation).
bool register_check(const GroupInfo& group, const char* name, CheckInfo info, const char* file,
                    int line, CheckFactory make);

namespace detail {

// Collects what is streamed after an assertion macro.
class Message {
 public:
  template <typename T>
  Message& operator<<(const T& value) {
    out_ << value;
    return *this;
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

enum class Stop { Fail, Skip, Inconclusive, SetupError };

// `Raise(...) = Message() << ...`: records a finding (Stop::Fail) and/or throws the outcome once
// the whole message has been streamed.
struct Raise {
  Stop kind;
  const char* file;
  int line;
  [[noreturn]] void operator=(const Message& m) const;
};
// `Record(...) = Message() << ...`: records a finding and lets the check go on.
struct Record {
  const char* file;
  int line;
  void operator=(const Message& m) const;
};

}  // namespace detail
}  // namespace kgate

// Declares check `Name` of `Fixture`'s group with its CheckInfo, e.g. {.title = "...",
// .severity = Severity::High, .reference = "OWASP API2:2023"} (fields in declaration order);
// the block that follows is its body.
#define KGATE_CHECK(Fixture, Name, ...)                                                      \
  class Fixture##_##Name final : public Fixture {                                            \
   public:                                                                                   \
    using Fixture::Fixture;                                                                  \
    void run() override;                                                                     \
  };                                                                                         \
  [[maybe_unused]] const bool kgate_registered_##Fixture##_##Name = ::kgate::register_check( \
      Fixture::group, #Name, ::kgate::CheckInfo __VA_ARGS__, __FILE__, __LINE__,             \
      [](::kgate::CheckContext& context) -> std::unique_ptr<::kgate::Check> {                \
        return std::make_unique<Fixture##_##Name>(context);                                  \
      });                                                                                    \
  void Fixture##_##Name::run()

// KGATE_REQUIRE(cond) << "what was wrong": a finding; the check stops here.
#define KGATE_REQUIRE(cond)                                                     \
  switch (0)                                                                    \
  case 0:                                                                       \
  default:                                                                      \
    if (cond) {                                                                 \
    } else                                                                      \
      ::kgate::detail::Raise{::kgate::detail::Stop::Fail, __FILE__, __LINE__} = \
          ::kgate::detail::Message()
// KGATE_EXPECT(cond) << "what was wrong": a finding; the check goes on.
#define KGATE_EXPECT(cond) \
  switch (0)               \
  case 0:                  \
  default:                 \
    if (cond) {            \
    } else                 \
      ::kgate::detail::Record{__FILE__, __LINE__} = ::kgate::detail::Message()
// KGATE_SKIP() << "why": the check does not apply here (no frontend configured, ...).
#define KGATE_SKIP()                                                        \
  ::kgate::detail::Raise{::kgate::detail::Stop::Skip, __FILE__, __LINE__} = \
      ::kgate::detail::Message()
// KGATE_INCONCLUSIVE() << "why": it ran but cannot decide (the target rate-limited it, ...).
#define KGATE_INCONCLUSIVE()                                                        \
  ::kgate::detail::Raise{::kgate::detail::Stop::Inconclusive, __FILE__, __LINE__} = \
      ::kgate::detail::Message()
// KGATE_SETUP_ERROR() << "why": what the check needs could not be set up (its victim task could
// not be created, ...): not a finding about the app's security, but the gate cannot pass on it.
#define KGATE_SETUP_ERROR()                                                       \
  ::kgate::detail::Raise{::kgate::detail::Stop::SetupError, __FILE__, __LINE__} = \
      ::kgate::detail::Message()
