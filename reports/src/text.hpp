#pragma once
// Internal helpers shared by the report writers: cleaning (redaction + character sanitising),
// escaping, number formatting and the suite order. Not part of the public contract.
#include <string>
#include <string_view>
#include <vector>

#include "kgate/result.hpp"

namespace kgate::reports::detail {

// Repairs UTF-8 (ill-formed bytes become U+FFFD) and drops what XML 1.0 forbids plus what is
// never meaningful in a report: C0 controls except tab, LF and CR; DEL and C1 controls;
// noncharacters. The same rule holds for every format, so the reports agree with each other.
std::string sanitize(std::string_view text);

// redact() + sanitize(), redacting again when sanitising changed the text (dropping a control
// character inside a secret must not let the joined secret through).
std::string clean(std::string_view text);

// A deep copy of the run with every string passed through clean(). Writers only ever format
// the copy, so no field can reach a report unredacted.
RunResult cleaned(const RunResult& run);

// Escaping. Input must already be sanitised.
std::string xml_escape(std::string_view text, bool attribute);
std::string html_escape(std::string_view text);

// Cuts text to at most max_bytes on a UTF-8 boundary; returns true when it cut.
bool truncate_utf8(std::string& text, std::size_t max_bytes);

// Finite, non-negative seconds/milliseconds (NaN and negative values become 0).
double finite_or_zero(double value);
// "0.123": seconds with millisecond precision, as JUnit expects.
std::string seconds_attr(double seconds);
// "350 ms", "12.4 s", "2 min 05 s", "1 h 02 min": for people.
std::string human_duration(double seconds);

// The run's verdict, or the gate's rule (verdict_for) when the run did not set it.
std::string verdict_of(const RunResult& run);

// Suites in report order: the selected suites first (RunResult.suites order), then suites that
// only appear in checks, in order of first appearance. No duplicates, no empty names kept
// unless a check has an empty suite.
std::vector<std::string> suite_order(const RunResult& run);

struct Counts {
  int total = 0;
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  int warnings = 0;
  int inconclusive = 0;
  int errors = 0;
  double seconds = 0;
  int not_verified() const { return skipped + inconclusive; }
};
Counts counts_for(const RunResult& run, const std::string* suite);  // nullptr: all checks

// The version written into reports: run.tool_version, or the build's version when unset.
std::string tool_version(const RunResult& run);

// "231.5 ms", "12 requests", "99.2 %": a scalar for people.
std::string scalar_text(const Scalar& s);
// A number with at most `decimals` decimals and no trailing zeros.
std::string short_number(double v, int decimals = 2);

}  // namespace kgate::reports::detail
