#pragma once
// `kgate audit`: the Kubernetes posture audit of a chart, manifests or the live namespace, as
// one check per rule in the usual reports (JUnit, HTML, JSON), plus SARIF for code scanning.
#include <string>
#include <vector>

#include "kgate/result.hpp"

namespace CLI {
class App;
}

namespace kgate {

namespace audit {
struct RuleOutcome;
struct Finding;
enum class Severity;
}  // namespace audit

struct AuditArgs {
  std::vector<std::string> manifests;  // files, directories, "-"
  std::string chart;
  std::vector<std::string> values_files;
  std::vector<std::string> set;
  std::string release = "release-name";
  std::string ns;  // helm template's --namespace, or the live namespace
  bool live = false;
  std::string selector, kubeconfig, context, request_timeout = "10s";
  std::vector<std::string> image_scans;
  std::string image_severity = "critical";
  std::string suppressions;
  std::string fail_on = "medium";
  std::string sarif, sarif_root;
  std::string report_dir, junit, html, json;
  bool verbose = false;
  bool list_rules = false;
};

CLI::App* add_audit_command(CLI::App& app, AuditArgs& args);
// Exit: 0 passed, 1 a rule at or above --fail-on found something, 2 usage or unreadable input
// (file:line:column), 3 cluster unreachable (--live), 4 reports not written, 130 interrupted.
int cmd_audit(const AuditArgs& args);

// The one mapping from audit outcomes to the report model: a check per rule, failed (findings
// at or above fail_on), warning (findings below it), passed, or skipped (nothing to inspect).
std::vector<CheckResult> audit_check_results(const std::vector<audit::RuleOutcome>& outcomes,
                                             audit::Severity fail_on);
// Shared with the audit suite of `kgate run`: a rule group's check class ("pod-security" ->
// "audit.PodSecurity"), and a finding in one line ("Deployment/x: message [where path]").
std::string audit_check_class(const std::string& group);
std::string audit_finding_text(const audit::Finding& finding);

}  // namespace kgate
