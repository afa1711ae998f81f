#include "kgate/gate.hpp"

#include <fmt/format.h>

#include <map>

#include "kgate/criteria.hpp"
#include "kgate/redact.hpp"

namespace kgate {

void decide(RunResult& run) {
  run.verdict = verdict_for(run);
  run.exit_code = run.verdict == "ABORTED" ? kExitInterrupted
                  : run.verdict == "FAIL"  ? kExitGateFailed
                                           : kExitPass;
}

void print_summary(const RunResult& run, std::ostream& out, bool color) {
  struct Row {
    int counts[6] = {0, 0, 0, 0, 0, 0};  // by CheckStatus
    double seconds = 0;
  };
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  for (const auto& c : run.checks) {
    if (!rows.count(c.suite)) order.push_back(c.suite);
    auto& r = rows[c.suite];
    r.seconds += c.seconds;
    ++r.counts[static_cast<int>(c.status)];
  }
  const auto n = [](const Row& r, CheckStatus s) { return r.counts[static_cast<int>(s)]; };
  out << "\n"
      << fmt::format("{:<12} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9}\n", "suite", "passed",
                     "failed", "errors", "warned", "inconc", "skipped", "time");
  out << std::string(70, '-') << "\n";
  for (const auto& suite : order) {
    const Row& r = rows[suite];
    out << fmt::format("{:<12} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8.1f}s\n", suite,
                       n(r, CheckStatus::Passed), n(r, CheckStatus::Failed),
                       n(r, CheckStatus::Error), n(r, CheckStatus::Warning),
                       n(r, CheckStatus::Inconclusive), n(r, CheckStatus::Skipped), r.seconds);
  }
  out << std::string(70, '-') << "\n";
  for (const auto& c : run.checks) {
    const char* word = c.status == CheckStatus::Failed    ? "FAILED "
                       : c.status == CheckStatus::Error   ? "ERROR "
                       : c.status == CheckStatus::Warning ? "WARNING "
                                                          : nullptr;
    if (!word) continue;
    out << word << c.id << (c.severity.empty() ? "" : " [" + c.severity + "]") << ": "
        << redact(c.message) << "\n";
  }
  const int total = static_cast<int>(run.checks.size());
  const int unverified = run.not_verified();
  if (total > 0 && 2 * unverified >= total && run.verdict == "PASS")
    out << "NOTE: only " << (total - unverified) << " of " << total
        << " checks gave an answer; the rest were skipped or inconclusive\n";
  if (run.fail_on_skip && unverified > 0)
    out << unverified << " check(s) skipped or inconclusive: they fail the gate (fail_on_skip)\n";
  out << criteria_summary(run);
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
