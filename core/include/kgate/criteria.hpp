#pragma once
// Release criteria: the checklist a release manager signs, as code (docs/criteria.md).
//
//   criteria:
//     - id: tasks-complete
//       text: "Complete task"                 # the sentence as the release manager wrote it
//       source: "seed 001 §5.1"               # where it was written (optional)
//       checks: [smoke.Tasks.FullTaskFlow]    # ids or globs over the ids `kgate list` prints
//       figures: ["load.p95 < 300ms"]         # thresholds on figures checks record
//       level: required                       # required (the default) | advisory
//     - id: images-scanned
//       text: "Images scanned (no critical vulnerabilities)"
//       manual: "attach the scanner's report"  # or awaits: "<suite>": kgate cannot verify it
//       level: advisory
//
// A figure is `<check id or glob>.<figure>` (load.Run.Scenario.p95, smoke.Health.*.latency) or
// the short form `<suite>.<figure>` (load.p95: every check of the suite that records it); the
// figures that exist are those checks declare (CheckInfo::figures; `kgate list --figures`).
// The threshold reads like load's: `<figure> <op> <value>`, op one of < <= > >= == !=, the
// value in the figure's kind of unit: a duration (300ms, 2m) for time figures, a percentage
// (99.5%) for % figures, a number (optionally followed by the unit) for the rest.
#include <string>
#include <vector>

#include "kgate/config.hpp"
#include "kgate/result.hpp"

namespace kgate {

// Reads a criteria file of its own: `criteria:` at its top, as in kgate.yaml. Throws ConfigError.
CriteriaConfig load_criteria_file(const std::string& path);
CriteriaConfig parse_criteria_text(const std::string& yaml_text, const std::string& source_name);

enum class CompareOp { Lt, Le, Gt, Ge, Eq, Ne };

// A figure threshold checked against the registry.
struct FigureThreshold {
  std::string expression;              // as written, trimmed: "load.p95 < 300ms"
  std::string figure;                  // the scalar's name: "p95"
  std::vector<std::string> check_ids;  // the checks that declare it (registry order)
  std::string unit;                    // their declared unit
  CompareOp op = CompareOp::Lt;
  double limit = 0;        // microseconds for durations, percent for %, else as written
  std::string limit_text;  // the value as written: "300ms"
};

struct ResolvedCriterion {
  CriterionSpec spec;
  std::vector<std::string> check_ids;  // the named checks, globs expanded (registry order)
  std::vector<FigureThreshold> figures;
};

// Checks every reference against the registry (call it after register_dynamic_checks): an
// unknown check id, a glob that matches nothing, a figure no check records, a malformed
// threshold are ConfigErrors naming file:line:column. Empty for no criteria.
std::vector<ResolvedCriterion> resolve_criteria(const CriteriaConfig& criteria);

// Decides each criterion from what the run recorded. `selected` holds the ids of the checks the
// run selected (a named check that is absent from run.checks was not selected, or did not run).
std::vector<CriterionResult> decide_criteria(const std::vector<ResolvedCriterion>& criteria,
                                             const RunResult& run,
                                             const std::vector<std::string>& selected);

// The console's criteria block and its gate line (empty when the run had no criteria).
std::string criteria_summary(const RunResult& run);

// `kgate init --criteria NAME`: a starter criteria file. "seeds": the seeds' checklists
// (seed 001 §5, seed 003's testing task) mapped to the checks that exist. Throws ConfigError for
// an unknown name.
std::string starter_criteria(const std::string& name);
std::vector<std::string> starter_criteria_names();

// The figures criteria can name, for `kgate list --figures`: one row per check and figure.
struct FigureRow {
  std::string check_id;    // "load.Run.Scenario"
  std::string reference;   // "load.Run.Scenario.p95"
  std::string short_form;  // "load.p95"
  int sharing = 1;         // how many checks of the suite the short form covers
  std::string unit;
  std::string check_title;
};
std::vector<FigureRow> figure_catalog();

// SHA-256 of a file's bytes, hex; "" when it cannot be read.
std::string file_sha256(const std::string& path);

// The app's versions as the cluster runs them, for the sign-off: each container image of the
// release's Deployments (or of the named ones), the chart (helm.sh/chart label) and the app
// version label. Read-only (list/get deployments), each call bounded by request_timeout. When
// they cannot be read, signoff.versions_note says why; nothing throws.
void add_cluster_versions(const KubernetesConfig& k, SignOff& signoff);

}  // namespace kgate
