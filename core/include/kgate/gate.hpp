#pragma once
// The verdict: exit codes, and the summary table on the console.
#include <ostream>

#include "kgate/result.hpp"

namespace kgate {

enum ExitCode : int {
  kExitPass = 0,         // every gate passed
  kExitGateFailed = 1,   // a check or threshold failed
  kExitUsage = 2,        // usage or configuration error
  kExitUnreachable = 3,  // the target could not be reached or set up
  kExitInterrupted = 130,
};

// Sets run.verdict and run.exit_code from the checks and run.aborted.
// Sets verdict and exit code. With fail_on_skip, skipped checks fail the gate.
void decide(RunResult& run, bool fail_on_skip = false);
void print_summary(const RunResult& run, std::ostream& out, bool color);

}  // namespace kgate
