#include "kgate/result.hpp"

#include <algorithm>

namespace kgate {

const char* to_string(CheckStatus s) {
  switch (s) {
    case CheckStatus::Passed:
      return "passed";
    case CheckStatus::Failed:
      return "failed";
    case CheckStatus::Skipped:
      return "skipped";
    case CheckStatus::Warning:
      return "warning";
  }
  return "unknown";
}

int RunResult::count(CheckStatus s) const {
  return static_cast<int>(std::count_if(checks.begin(), checks.end(),
                                        [s](const CheckResult& c) { return c.status == s; }));
}

}  // namespace kgate
