#include "kgate/result.hpp"

#include <algorithm>

namespace kgate {

const char* to_string(CheckStatus s) {
  switch (s) {
    case CheckStatus::Passed:
      return "passed";
    case CheckStatus::Failed:
      return "failed";
    case CheckStatus::Warning:
      return "warning";
    case CheckStatus::Skipped:
      return "skipped";
    case CheckStatus::Inconclusive:
      return "inconclusive";
    case CheckStatus::Error:
      return "error";
  }
  return "unknown";
}

int RunResult::count(CheckStatus s) const {
  return static_cast<int>(std::count_if(checks.begin(), checks.end(),
                                        [s](const CheckResult& c) { return c.status == s; }));
}

bool gates(CheckStatus s, bool fail_on_skip) {
  switch (s) {
    case CheckStatus::Failed:
    case CheckStatus::Error:
      return true;
    case CheckStatus::Skipped:
    case CheckStatus::Inconclusive:
      return fail_on_skip;
    case CheckStatus::Passed:
    case CheckStatus::Warning:
      return false;
  }
  return true;
}

const char* to_string(CriterionVerdict v) {
  switch (v) {
    case CriterionVerdict::Met:
      return "met";
    case CriterionVerdict::NotMet:
      return "not met";
    case CriterionVerdict::NotVerified:
      return "not verified";
  }
  return "unknown";
}

bool gates(const CriterionResult& c) {
  return c.required && c.verdict != CriterionVerdict::Met;
}

std::string verdict_for(const RunResult& run) {
  if (run.aborted) return "ABORTED";
  for (const auto& c : run.checks)
    if (gates(c.status, run.fail_on_skip)) return "FAIL";
  for (const auto& c : run.criteria)
    if (gates(c)) return "FAIL";
  return "PASS";
}

}  // namespace kgate
