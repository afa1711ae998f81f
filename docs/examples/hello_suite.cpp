// A complete suite in one file, as docs/writing-checks.md explains it. The build compiles it
// into tests/core's docs_example_test, which runs it: this example cannot go stale.
#include "kgate/check.hpp"
#include "kgate/url.hpp"

namespace kgate::example {

// 1. The suite: its name is the word for --suites and run.suites.
KGATE_SUITE(hello, {.name = "hello",
                    .title = "Hello",
                    .description = "An example suite: the backend greets and keeps time",
                    .order = 90});

// 2. A group: the fixture class its checks derive from, with the helpers they share.
class HelloHealth : public Check {
 public:
  static constexpr GroupInfo group{"hello", "Health"};
  using Check::Check;

 protected:
  http::Response health() {
    return c().send("GET", join_url(config().target.backend, config().profile.health_path), "");
  }
};

// 3. Checks: metadata as data, the body as code.
KGATE_CHECK(HelloHealth, Answers200, {.title = "The backend's health endpoint answers 200"}) {
  auto r = health();
  measure("latency", static_cast<double>(r.elapsed.count()) / 1000.0, "ms");
  KGATE_REQUIRE(r.status == 200) << "GET /health answered " << r.status;
}

KGATE_CHECK(HelloHealth, AnswersFast,
            {.title = "The health endpoint answers within 50 ms",
             .severity = Severity::Low,  // below suites' fail_on it would be a warning
             .reference = "example",
             .tags = {"latency"}}) {
  auto r = health();
  const double ms = static_cast<double>(r.elapsed.count()) / 1000.0;
  KGATE_EXPECT(ms < 50) << "GET /health took " << ms << " ms";
}

class HelloTasks : public Check {
 public:
  static constexpr GroupInfo group{"hello", "Tasks"};
  using Check::Check;
};

KGATE_CHECK(HelloTasks, ListIsAnArray,
            {.title = "A fresh identity's task list is an empty array",
             .needs = kNeedsIdentity}) {  // the runner gets the identity first
  const Identity& alice = c().identity("alice");
  auto r = api(alice).list();  // evidence is kept; created tasks would be cleaned up
  if (r.status == 404) KGATE_SKIP() << "this app has no task list at the contract's path";
  auto body = parse_json(r.body);
  KGATE_REQUIRE(body && body->is_array()) << "the task list is not an array: " << excerpt(r.body);
  KGATE_EXPECT(body->empty()) << "a fresh identity already has " << body->size() << " tasks";
}

}  // namespace kgate::example
