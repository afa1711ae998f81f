#include "kgate/gate.hpp"

#include <fmt/format.h>

#include <map>

#include "kgate/redact.hpp"

namespace kgate {

void decide(RunResult& run, bool fail_on_skip) {
  // A gate that must not pass on what it could not check (a missing secret, a rate limit)
  // turns each skip into a failure that keeps the reason; an interrupted run stays ABORTED.
  if (fail_on_skip && !run.aborted) {
    for (auto& c : run.checks) {
      if (c.status != CheckStatus::Skipped) continue;
      c.status = CheckStatus::Failed;
      c.message = "not checked (run.fail_on_skip is set): " + c.message;
    }
  }
  bool failed = run.count(CheckStatus::Failed) > 0;
  if (run.aborted) {
    run.verdict = "ABORTED";
    run.exit_code = kExitInterrupted;
  } else if (failed) {
    run.verdict = "FAIL";
    run.exit_code = kExitGateFailed;
  } else {
    run.verdict = "PASS";
    run.exit_code = kExitPass;
  }
}

void print_summary(const RunResult& run, std::ostream& out, bool color) {
  struct Row {
    int passed = 0, failed = 0, skipped = 0, warnings = 0;
    double seconds = 0;
  };
  std::map<std::string, Row> rows;
  for (const auto& c : run.checks) {
    auto& r = rows[c.suite];
    r.seconds += c.seconds;
    if (c.status == CheckStatus::Passed)
      ++r.passed;
    else if (c.status == CheckStatus::Failed)
      ++r.failed;
    else if (c.status == CheckStatus::Warning)
      ++r.warnings;
    else
      ++r.skipped;
  }
  out << "\n"
      << fmt::format("{:<12} {:>7} {:>7} {:>7} {:>7} {:>9}\n", "suite", "passed", "failed",
                     "warned", "skipped", "time");
  out << std::string(54, '-') << "\n";
  for (const auto& [suite, r] : rows)
    out << fmt::format("{:<12} {:>7} {:>7} {:>7} {:>7} {:>8.1f}s\n", suite, r.passed, r.failed,
                       r.warnings, r.skipped, r.seconds);
  out << std::string(54, '-') << "\n";
  for (const auto& c : run.checks) {
    if (c.status != CheckStatus::Failed && c.status != CheckStatus::Warning) continue;
    out << (c.status == CheckStatus::Failed ? "FAILED " : "WARNING ") << c.classname << "."
        << c.name << (c.severity.empty() ? "" : " [" + c.severity + "]") << ": "
        << redact(c.message) << "\n";
  }
  const char* on = "";
  const char* off = "";
  if (color) {
    on = run.exit_code == 0 ? "\033[1;32m" : "\033[1;31m";
    off = "\033[0m";
  }
  out << on << "verdict: " << run.verdict << off << " (exit " << run.exit_code << ")";
  if (run.aborted && !run.abort_reason.empty()) out << ": " << run.abort_reason;
  out << "\n";
}

}  // namespace kgate
