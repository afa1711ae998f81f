#pragma once
// The one result model every output is written from (console table, JUnit, HTML, JSON).
#include <string>
#include <vector>

namespace kgate {

// One HTTP exchange a check made, kept as evidence. Secrets are redacted by the writers.
struct Evidence {
  std::string method;
  std::string url;
  std::string request_excerpt;   // headers of note and the body, shortened
  int status = 0;                // 0 when there was no answer
  std::string response_excerpt;  // the body, shortened
  double elapsed_ms = 0;
  std::string note;  // e.g. the transport error, or "rate limited (429)"
};

struct Property {
  std::string name;
  std::string value;
};

// Warning: the check found a problem whose severity is below the gate's floor
// (suites.security.fail_on); it is reported but does not fail the gate.
// A chart a check wants drawn in the HTML report (and kept as data in the JSON): lines over
// time (one point per interval) or bars over labels (a distribution).
struct ChartSeries {
  std::string name;            // legend: "p95", "requests/s"
  std::vector<double> values;  // one per interval, or one per label
};
struct Chart {
  std::string title;                // "Latency over time"
  std::string unit;                 // y axis: "ms", "req/s"
  double interval_s = 1;            // line charts: seconds between points
  std::vector<std::string> labels;  // bar charts: one per value; empty for a line chart
  std::vector<ChartSeries> series;
};

enum class CheckStatus { Passed, Failed, Skipped, Warning };
const char* to_string(CheckStatus s);

struct CheckResult {
  std::string suite;      // "smoke", "security", ...
  std::string classname;  // e.g. "smoke.Health"
  std::string name;       // e.g. "BackendHealth"
  std::string title;      // human sentence: "Backend /health answers 200 healthy"
  CheckStatus status = CheckStatus::Passed;
  double seconds = 0;
  std::string message;               // failure summary or skip reason
  std::string detail;                // every failure with file:line
  std::string severity;              // optional: "critical", "high", ... (security)
  std::string owasp;                 // optional: "API1:2023"
  std::vector<Property> properties;  // measured values and thresholds
  std::vector<Evidence> evidence;
  std::vector<Chart> charts;
};

struct RunResult {
  std::string tool_version;
  std::string target;      // backend URL the run was against
  std::string started_at;  // ISO 8601 UTC
  double duration_seconds = 0;
  bool aborted = false;  // interrupted: results are partial
  std::string abort_reason;
  std::vector<std::string> suites;  // suites selected for the run
  std::vector<CheckResult> checks;
  int exit_code = 0;
  std::string verdict;  // "PASS", "FAIL", "ABORTED", "ERROR"

  int count(CheckStatus s) const;
};

}  // namespace kgate
