#pragma once
// Hosts GoogleTest in kgate's process: selects checks by suite and tag, runs them, and turns
// GoogleTest's results into CheckResults through a listener.
#include <string>
#include <vector>

#include "kgate/context.hpp"
#include "kgate/result.hpp"

namespace kgate {

struct RunOptions {
  std::vector<std::string> suites;  // smoke, security, resilience, load
  std::vector<std::string> tags;    // groups, e.g. health, tasks, chat (empty: all)
  std::string filter;               // extra GoogleTest filter on Suite.Check names
  bool verbose = false;
};

// Names of all compiled-in checks as "suite.Group.Name".
std::vector<std::string> list_checks();
// The suite ("smoke") and group ("Health") of a GoogleTest test-suite name ("SmokeHealth").
std::pair<std::string, std::string> split_suite_name(const std::string& test_suite_name);

std::vector<CheckResult> run_checks(RunContext& c, const RunOptions& options);

// Checks that exist only for a given configuration (one per load threshold, say) register
// themselves here; run_checks() calls every registrar once, before the checks run.
using CheckRegistrar = void (*)(const Config& config);
bool add_check_registrar(CheckRegistrar registrar);

}  // namespace kgate
