#pragma once
// The audit's rules. Each rule is data (id, group, title, severity, reference, description,
// remediation) declared next to its function in src/rules/*.cpp; a rule is a pure function over
// the object set that reports findings (object, path in the object, message, location).
// Findings never carry a secret's value: they name the key.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kgate/audit/image_scan.hpp"
#include "kgate/audit/object.hpp"

namespace kgate::audit {

enum class Severity { Info, Low, Medium, High, Critical };
const char* to_string(Severity s);                              // "info" ... "critical"
std::optional<Severity> parse_severity(std::string_view text);  // case-insensitive

struct Finding {
  std::string rule;
  std::string object;   // "Deployment/todo-backend"; empty for a finding about an input file
  std::string ns;       // the object's namespace, if it has one
  std::string origin;   // Object::origin(), or the input file
  std::string path;     // "spec.template.spec.containers[0].securityContext"
  std::string message;  // says what is wrong and where; never a secret's value
  Location location;
  bool suppressed = false;
  std::string suppression;          // why and by what: "annotation kgate.io/skip: <reason>"
  const Object* subject = nullptr;  // the object while run_audit runs (annotations); then unset
};

// What a rule reads.
struct Inputs {
  const Objects& objects;
  const std::vector<ImageScan>& scans;
  Severity image_severity = Severity::Critical;
};

// What a rule reports into.
class Findings {
 public:
  explicit Findings(std::string rule) : rule_(std::move(rule)) {}
  // One object (or container) the rule looked at: a rule that inspected nothing did not apply.
  void inspected(int n = 1) { inspected_ += n; }
  void add(const Object& o, const std::string& pointer, std::string message);
  // A finding about an input that is not an object (an image-scan report).
  void add_input(const std::string& file, std::string message);

  int inspected_count() const { return inspected_; }
  std::vector<Finding>& list() { return findings_; }

 private:
  std::string rule_;
  int inspected_ = 0;
  std::vector<Finding> findings_;
};

struct Rule {
  const char* id;     // stable, kebab-case: "run-as-non-root"
  const char* group;  // "pod-security", "secrets", "reliability", "cross-object", "images"
  const char* title;
  Severity severity;
  const char* reference;  // Pod Security Standards control, CIS id, the peer tools' checks
  const char* help_uri;   // a public page about it ("" when none)
  const char* description;
  const char* remediation;
  void (*check)(const Inputs&, Findings&);
};

// Every rule, in report order.
const std::vector<Rule>& all_rules();
const Rule* find_rule(std::string_view id);

// A configured suppression: rule id, an object pattern ("Kind/name", "ns/Kind/name", '*' globs;
// empty: every object) and the reason (required).
struct Suppression {
  std::string rule;
  std::string object;
  std::string reason;
  std::string where;  // "file:line" of the entry, for reports
};
// Reads a suppressions file:
//   suppressions:
//     - rule: image-digest
//       object: Deployment/todo-*      # optional
//       reason: images are built from this repository
// Throws InputError naming file:line:column and the key.
std::vector<Suppression> load_suppressions(const std::string& path);

struct AuditOptions {
  std::vector<ImageScan> scans;
  Severity image_severity = Severity::Critical;
  std::vector<Suppression> suppressions;
};

struct RuleOutcome {
  const Rule* rule = nullptr;
  int inspected = 0;              // 0: the rule did not apply to this input
  std::vector<Finding> findings;  // suppressed ones included, marked
  int active() const;             // findings not suppressed
};

// Runs every rule and applies the suppressions (annotations kgate.io/skip and
// kgate.io/skip-reason on the object or its pod template, then the configured list).
std::vector<RuleOutcome> run_audit(const Objects& objects, const AuditOptions& options);

}  // namespace kgate::audit
