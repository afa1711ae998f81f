#pragma once
// SARIF 2.1.0 (the format GitHub code scanning reads): every rule's metadata, and one result per
// finding with its location in the chart's template (or the manifest) relative to a root, so
// the annotation lands on the line to change. Suppressed findings carry a suppression.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kgate/audit/rules.hpp"

namespace kgate::audit {

struct SarifOptions {
  std::string root;  // artifact URIs are relative to it (the repository); empty: the cwd
  Severity fail_on = Severity::Medium;  // error at or above it, warning below, note for info
  std::string tool_version;
};

nlohmann::json to_sarif(const std::vector<RuleOutcome>& outcomes, const SarifOptions& options);

// The repository root above `path` (the nearest directory with .git), else the cwd.
std::string source_root(const std::string& path);

}  // namespace kgate::audit
