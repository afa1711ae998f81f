#pragma once
// Runs the selected checks: suite by suite, each suite's fixtures around its checks, each check
// with its timeout, its progress on the terminal, and its outcome decided from what it recorded.
#include <string>
#include <vector>

#include "kgate/check_context.hpp"
#include "kgate/registry.hpp"
#include "kgate/result.hpp"

namespace kgate {

struct RunOptions {
  bool verbose = false;       // print every finding with its source location
  bool live_line = false;     // a terminal: show the running check on a line that updates
  bool suites_named = false;  // --suites given on the command line (disruptive checks may run)
};

struct ChecksRun {
  std::vector<CheckResult> checks;
  std::vector<SuiteResult> suites;  // one per suite that had fixtures
};

ChecksRun run_checks(RunContext& run, const std::vector<const CheckDef*>& selected,
                     const RunOptions& options);

// The timeout of a check of `suite`: suites.<suite>.check_timeout, else the suite's own default,
// else run.check_timeout.
Millis check_timeout(const Config& config, const std::string& suite);

}  // namespace kgate
