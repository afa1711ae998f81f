#pragma once
// The one result model every output is written from (console table, JUnit, HTML, JSON).
// Measurements are typed: scalars with units, time series, timeline events and threshold
// verdicts. The writers draw from these types, never from property-name conventions.
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

// A fact a check noted that is not a number ("executor": "constant-arrival-rate, 50/s").
struct Property {
  std::string name;
  std::string value;
};

// A measured number with its unit ("ms", "s", "%", "req/s", "requests", "bytes", "" for none).
struct Scalar {
  std::string name;
  double value = 0;
  std::string unit;
};

// Values over time. t[i] is in seconds since the run started (RunResult::started_epoch_ms), so
// series and events of different checks and fixtures share one axis; values has the same length.
// In a bar chart (Chart::labels set) t is empty and values holds one number per label.
struct Series {
  std::string name;  // legend: "p95", "requests/s", "ready replicas"
  std::vector<double> t;
  std::vector<double> values;
};

// Something that happened at a moment: a pod deleted, an endpoint withdrawn, a scale decision.
struct Event {
  double t = 0;        // seconds since the run started
  std::string kind;    // "delete", "Ready", "EndpointRemoved", "ScaledUp", ...
  std::string object;  // "pod/todo-backend-7c9f-x2", "hpa/todo-backend"
  std::string message;
};

// A chart the reports draw: lines over time (series with t) or bars over labels. With
// `timeline`, the check's (or suite's) events are drawn on the same time axis.
struct Chart {
  std::string title;                // "Latency from the intended start"
  std::string unit;                 // y axis: "ms", "req/s"
  std::vector<std::string> labels;  // bar charts: one per value; empty for a line chart
  std::vector<Series> series;
  bool timeline = false;
};

// Rows of text under column headings, drawn as they are: what neither a scalar nor a chart
// says well, such as a distributed load run's workers (pod, state, rate, errors, skew).
struct Table {
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // each as many cells as columns
};

// A threshold evaluated on a measurement: "p95 < 300ms" measured "231.5 ms".
struct ThresholdResult {
  std::string expression;
  std::string measured;
  bool passed = false;
};

// passed; failed (a finding that gates); warning (a finding below the gate's severity floor);
// skipped (not run, with the reason); inconclusive (ran but could not decide: rate-limited,
// interrupted); error (could not be carried out: setup failed, the target stopped answering).
enum class CheckStatus { Passed, Failed, Warning, Skipped, Inconclusive, Error };
const char* to_string(CheckStatus s);

struct CheckResult {
  std::string id;         // "smoke.Health.BackendHealth"
  std::string suite;      // "smoke"
  std::string classname;  // "smoke.Health" (suite.group: JUnit's classname)
  std::string name;       // "BackendHealth"
  std::string title;      // human sentence: "Backend /health answers 200 healthy"
  std::string severity;   // "", "info", "low", "medium", "high", "critical"
  std::string reference;  // "OWASP API2:2023", "PSS restricted: runAsNonRoot", ...
  std::vector<std::string> tags;
  CheckStatus status = CheckStatus::Passed;
  double started_s = 0;  // seconds since the run started
  double seconds = 0;
  std::string message;  // the outcome in one line: the finding, or why it skipped/errored
  std::string detail;   // every failure, in the check's words
  std::vector<Property> properties;
  std::vector<Scalar> scalars;
  std::vector<Chart> charts;
  std::vector<Event> events;
  std::vector<ThresholdResult> thresholds;
  std::vector<Evidence> evidence;
  std::vector<Table> tables;
};

// What a suite's fixtures (live traffic, a port-forward, watches) measured over the suite.
struct SuiteResult {
  std::string name;   // "resilience"
  std::string title;  // "Kubernetes resilience"
  std::vector<Property> properties;
  std::vector<Scalar> scalars;
  std::vector<Chart> charts;
  std::vector<Event> events;
  std::string error;  // a fixture that could not start or stop cleanly
};

// A release criterion as this run decided it (criteria files: docs/criteria.md). Met when every
// check it names passed and every figure held; not met when one failed or a figure did not hold;
// not verified otherwise (a check skipped, inconclusive, in error or not run; a figure not
// measured; a manual review item) — never met by default.
enum class CriterionVerdict { Met, NotMet, NotVerified };
const char* to_string(CriterionVerdict v);  // "met", "not met", "not verified"

// One check a criterion rests on, as the run left it.
struct CriterionCheck {
  std::string id;       // "smoke.Tasks.FullTaskFlow"
  std::string status;   // a CheckStatus name, or "not selected" / "not run"
  std::string message;  // the check's message (why it failed or skipped)
};

// One figure threshold of a criterion, on one check that records the figure.
struct CriterionFigure {
  std::string expression;  // as written: "load.p95 < 300ms"
  std::string check;       // the check whose figure it is: "load.Run.Scenario"
  std::string figure;      // the scalar's name there: "p95"
  std::string measured;    // "231.5 ms"; "" when it was not measured
  std::string outcome;     // "held", "not held", "not measured"
};

struct CriterionResult {
  std::string id;
  std::string text;    // the sentence as the release manager wrote it
  std::string source;  // where the sentence comes from ("seed 001 §5.2"); may be empty
  bool required = true;
  std::string manual;  // what a person must review (kgate cannot verify it); may be empty
  std::string awaits;  // the suite that will verify it once it exists; may be empty
  std::vector<std::string> named_checks;   // check ids and globs, as written
  std::vector<std::string> named_figures;  // figure thresholds, as written
  CriterionVerdict verdict = CriterionVerdict::NotVerified;
  std::string reason;                  // why, in one line
  std::vector<CriterionCheck> checks;  // every check it rests on (globs expanded)
  std::vector<CriterionFigure> figures;
};

// What a release manager signs: which configuration and which versions this run judged.
struct SignOff {
  std::string config_file;  // the kgate.yaml read ("" when none: the built-in defaults)
  std::string config_sha256;
  std::string criteria_file;  // where the criteria came from (kgate.yaml or --criteria FILE)
  std::string criteria_sha256;
  std::vector<Property> versions;  // "kgate", "image deployment/x container y", "chart", ...
  std::string versions_note;       // why the app's versions are not known, when they are not
};

struct RunResult {
  std::string tool_version;
  std::string target;      // backend URL the run was against
  std::string started_at;  // ISO 8601 UTC
  double started_epoch_ms = 0;
  double duration_seconds = 0;
  bool aborted = false;  // interrupted: results are partial
  std::string abort_reason;
  std::vector<std::string> suites;   // suites selected for the run
  std::string selection;             // how checks were chosen: "suites smoke,security; tags ..."
  std::vector<Property> properties;  // facts of the run: auth, 429 answers seen, ...
  std::vector<SuiteResult> suite_results;
  std::vector<CheckResult> checks;
  bool fail_on_skip = false;              // skipped and inconclusive checks fail the gate
  std::vector<CriterionResult> criteria;  // release criteria, when the run had any
  SignOff signoff;                        // set when the run had criteria
  int exit_code = 0;
  std::string verdict;  // "PASS", "FAIL", "ABORTED", "ERROR"

  int count(CheckStatus s) const;
  // Checks that did not give an answer: skipped or inconclusive.
  int not_verified() const {
    return count(CheckStatus::Skipped) + count(CheckStatus::Inconclusive);
  }
};

// True when a check with this status makes the gate fail.
bool gates(CheckStatus s, bool fail_on_skip);
// True when a criterion makes the gate fail: a required one that is not met or not verified.
bool gates(const CriterionResult& c);
// The gate's rule, in one place for kgate and every writer: ABORTED when interrupted; FAIL when a
// check gates (failed, error, or with fail_on_skip skipped/inconclusive) or a required criterion
// is not met or not verified; else PASS.
std::string verdict_for(const RunResult& run);

}  // namespace kgate
