// The audit suite: the Kubernetes posture rules of `kgate audit` (audit/) as checks of
// `kgate run`, one check per rule, over the live objects of the configured namespace or release.
// The objects are read once per run, read-only (get and list), by the suite's fixture; each
// check reports its rule's findings (at or above suites.audit.fail_on they fail the gate, below
// it they are warnings) and the suppressed ones as such, never silently.
#include <algorithm>
#include <map>

#include "kgate/audit/image_scan.hpp"
#include "kgate/audit/live.hpp"
#include "kgate/audit/rules.hpp"
#include "kgate/audit_command.hpp"
#include "kgate/check.hpp"
#include "kgate/cluster_client.hpp"
#include "kgate/kube/client.hpp"
#include "kgate/redact.hpp"

namespace kgate {
namespace {

// Reads the live objects and runs every rule once; the checks read their rule's outcome.
class LiveAudit : public SuiteFixture {
 public:
  std::string name() const override { return "the live objects (read-only)"; }

  void start(RunContext& run, SuiteResult& out) override {
    const Config& cfg = run.config();
    // Without a cluster the checks skip on their needs (kNeedsCluster), with that reason.
    if (!cfg.kubernetes.configured) return;
    const KubernetesConfig& kc = cfg.kubernetes;
    ClusterClient cluster = cluster_client(kc);
    kube::Client& client = *cluster.client;

    audit::LiveOptions opt;
    opt.ns = cluster.namespace_;
    opt.selector = !cfg.audit.selector.empty() ? cfg.audit.selector
                   : !kc.release.empty()       ? "app.kubernetes.io/instance=" + kc.release
                                               : "";
    opt.unreadable = &unreadable_;
    scope_ = "namespace " + opt.ns + (opt.selector.empty() ? "" : " (" + opt.selector + ")");
    const audit::Objects objects = audit::load_live(client, opt);
    if (objects.empty())
      throw std::runtime_error("nothing to audit: no object in " + scope_ +
                               " (is the release installed? kubernetes.release, "
                               "kubernetes.namespace and suites.audit.selector say where)");

    audit::AuditOptions options;
    options.image_severity = *audit::parse_severity(cfg.audit.image_severity);
    for (const auto& f : cfg.audit.image_scans) options.scans.push_back(audit::load_image_scan(f));
    for (const auto& s : cfg.audit.suppressions)
      options.suppressions.push_back({s.rule, s.object, s.reason, s.where});
    outcomes_ = audit::run_audit(objects, options);

    std::map<std::string, int> kinds;
    for (const auto& o : objects) ++kinds[o.kind()];
    std::string counts;
    for (const auto& [kind, n] : kinds)
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
    out.properties.push_back({"audited", scope_});
    out.properties.push_back({"objects", counts});
    out.properties.push_back({"cluster", client.config().server});
    for (const auto& u : unreadable_)
      out.properties.push_back({"not readable: " + u.kind, redact(u.reason)});
  }

  void stop(RunContext&, SuiteResult&) noexcept override {}

  const audit::RuleOutcome* outcome(const std::string& rule) const {
    for (const auto& o : outcomes_)
      if (o.rule->id == rule) return &o;
    return nullptr;
  }
  // The kinds this rule needs that could not be read, in words ("" when none).
  std::string missing_for(const std::string& rule) const {
    std::string out;
    for (const auto& u : unreadable_)
      if (std::find(u.rules.begin(), u.rules.end(), rule) != u.rules.end())
        out += (out.empty() ? "" : "; ") + u.kind + "s (" + redact(u.reason) + ")";
    return out;
  }
  const std::string& scope() const { return scope_; }

 private:
  std::string scope_;
  std::vector<audit::Unreadable> unreadable_;
  std::vector<audit::RuleOutcome> outcomes_;
};

KGATE_SUITE(audit, {.name = "audit",
                    .title = "Kubernetes audit",
                    .description = "Pod security, secrets, reliability and cross-object wiring of "
                                   "the live objects (the rules of `kgate audit`)",
                    .order = 40,
                    .fixtures =
                        [](const Config&) {
                          std::vector<std::unique_ptr<SuiteFixture>> f;
                          f.push_back(std::make_unique<LiveAudit>());
                          return f;
                        },
                    .fail_on = [](const Config& c) { return c.audit.fail_on; },
                    .needs_target = false});

// One audit rule as a check.
class AuditRule : public Check {
 public:
  AuditRule(CheckContext& c, const audit::Rule& rule) : Check(c), rule_(rule) {}

  void run() override {
    auto& live = c().fixture<LiveAudit>();
    const audit::RuleOutcome* o = live.outcome(rule_.id);
    if (!o) KGATE_SETUP_ERROR() << "the audit did not run rule " << rule_.id;
    const int active = o->active();
    const int suppressed = static_cast<int>(o->findings.size()) - active;
    property("audited", live.scope());
    measure("inspected", o->inspected, "");
    measure("findings", active, "");
    measure("suppressed", suppressed, "");
    if (*rule_.help_uri) property("help", rule_.help_uri);
    // Suppressed findings stay visible: each with what suppressed it and why.
    std::string quiet;
    for (const auto& f : o->findings)
      if (f.suppressed) quiet += "- " + audit_finding_text(f) + " (" + f.suppression + ")\n";
    if (!quiet.empty()) property("suppressed findings", quiet);

    const std::string missing = live.missing_for(rule_.id);
    if (!missing.empty()) property("not readable", missing);
    if (active > 0) {
      property("fix", rule_.remediation);
      for (const auto& f : o->findings) {
        if (!f.suppressed) {
          KGATE_EXPECT(false) << audit_finding_text(f);
        }
      }
      return;
    }
    if (!missing.empty()) KGATE_INCONCLUSIVE() << "cannot decide: could not read " << missing;
    if (o->inspected == 0 && o->findings.empty())
      KGATE_SKIP() << "not applicable: nothing in " << live.scope() << " for this rule to inspect";
  }

 private:
  const audit::Rule& rule_;
};

Severity severity_of(audit::Severity s) {
  switch (s) {
    case audit::Severity::Info:
      return Severity::Info;
    case audit::Severity::Low:
      return Severity::Low;
    case audit::Severity::Medium:
      return Severity::Medium;
    case audit::Severity::High:
      return Severity::High;
    case audit::Severity::Critical:
      return Severity::Critical;
  }
  return Severity::None;
}

// The rules are data in audit/ (id, group, title, severity, reference): each becomes a check
// audit.<Group>.<rule-id>, as `kgate audit` names them in its reports.
const bool kRegistered = [] {
  for (const auto& rule : audit::all_rules()) {
    CheckDef def;
    def.suite = "audit";
    def.group = audit_check_class(rule.group).substr(std::string("audit.").size());
    def.name = rule.id;
    def.id = def.suite + "." + def.group + "." + def.name;
    std::string group_tag = def.group;
    std::transform(group_tag.begin(), group_tag.end(), group_tag.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    def.info = CheckInfo{.title = rule.title,
                         .severity = severity_of(rule.severity),
                         .reference = rule.reference,
                         .tags = {rule.group, "kubernetes"},
                         .needs = kNeedsCluster};
    def.tags = {group_tag, rule.group, "kubernetes"};
    def.file = "suite.cpp";
    def.line = __LINE__;
    def.make = [&rule](CheckContext& c) -> std::unique_ptr<Check> {
      return std::make_unique<AuditRule>(c, rule);
    };
    add_check(std::move(def));
  }
  return true;
}();

}  // namespace
}  // namespace kgate
