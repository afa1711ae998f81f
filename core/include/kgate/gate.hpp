#pragma once
// The verdict: exit codes, and the summary table on the console.
#include <ostream>

#include "kgate/result.hpp"

namespace kgate {

enum ExitCode : int {
  kExitPass = 0,           // every gate passed
  kExitGateFailed = 1,     // a check or threshold failed, or could not be carried out
  kExitUsage = 2,          // usage or configuration error
  kExitUnreachable = 3,    // the target could not be reached within target.reachable_within
  kExitReportsFailed = 4,  // the reports could not be written
  kExitInterrupted = 130,
};

// Sets run.verdict and run.exit_code from the checks (the rule is verdict_for, shared with the
// report writers) and run.aborted.
void decide(RunResult& run);
void print_summary(const RunResult& run, std::ostream& out, bool color);

}  // namespace kgate
