// docs/writing-checks.md's example suite, compiled and run against the reference app, and the
// page checked to quote the compiled file word for word.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "framework/todo_app.hpp"
#include "kgate/runner.hpp"

namespace kgate {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DocsExample, TheSuiteRunsAgainstTheReferenceApp) {
  testfw::TodoApp app;
  Config cfg;
  cfg.target.backend = app.url();
  RunContext run(cfg, app.secret());
  ASSERT_NE(find_suite("hello"), nullptr);
  Selection sel;
  sel.suites = {"hello"};
  auto done = run_checks(run, select(sel), {});
  ASSERT_EQ(done.checks.size(), 3u);
  for (const auto& c : done.checks)
    EXPECT_EQ(c.status, CheckStatus::Passed) << c.id << ": " << c.message;
  EXPECT_EQ(done.checks[0].scalars.at(0).name, "latency");
  EXPECT_EQ(done.checks[2].id, "hello.Tasks.ListIsAnArray");
  EXPECT_FALSE(done.checks[2].evidence.empty());
}

TEST(DocsExample, ThePageQuotesTheCompiledFile) {
  const std::string src = std::getenv("KGATE_SOURCE_DIR");
  const std::string page = slurp(src + "/docs/writing-checks.md");
  const std::string code = slurp(src + "/docs/examples/hello_suite.cpp");
  ASSERT_FALSE(code.empty());
  EXPECT_NE(page.find("```cpp\n" + code + "```"), std::string::npos)
      << "docs/writing-checks.md no longer quotes docs/examples/hello_suite.cpp";
}

}  // namespace
}  // namespace kgate
