#include <gtest/gtest.h>

#include "kgate/gate.hpp"
#include "kgate/runner.hpp"

namespace kgate {
namespace {

TEST(Runner, SuiteAndGroupFromTestSuiteName) {
  EXPECT_EQ(split_suite_name("SmokeHealth"),
            (std::pair<std::string, std::string>{"smoke", "Health"}));
  EXPECT_EQ(split_suite_name("SecurityAuth").first, "security");
  EXPECT_EQ(split_suite_name("Weird").first, "other");
}

TEST(Gate, VerdictAndExitCode) {
  RunResult run;
  run.checks.push_back({});
  decide(run);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.verdict, "PASS");
  CheckResult skipped;
  skipped.status = CheckStatus::Skipped;
  run.checks.push_back(skipped);
  decide(run);
  EXPECT_EQ(run.exit_code, 0) << "a skipped check does not fail the gate";
  CheckResult failed;
  failed.status = CheckStatus::Failed;
  run.checks.push_back(failed);
  decide(run);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.verdict, "FAIL");
  run.aborted = true;
  decide(run);
  EXPECT_EQ(run.exit_code, 130);
  EXPECT_EQ(run.verdict, "ABORTED");
}

}  // namespace
}  // namespace kgate
