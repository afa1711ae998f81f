// The rule registry, running the rules, and suppressions.
#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "kgate/audit/rules.hpp"
#include "model.hpp"
#include "rules/groups.hpp"

namespace kgate::audit {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::Info:
      return "info";
    case Severity::Low:
      return "low";
    case Severity::Medium:
      return "medium";
    case Severity::High:
      return "high";
    case Severity::Critical:
      return "critical";
  }
  return "?";
}

std::optional<Severity> parse_severity(std::string_view text) {
  std::string s(text);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  for (auto sev :
       {Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical})
    if (s == to_string(sev)) return sev;
  if (s == "negligible") return Severity::Info;  // Grype's lowest
  return std::nullopt;
}

void Findings::add(const Object& o, const std::string& pointer, std::string message) {
  Finding f;
  f.rule = rule_;
  f.object = o.ref();
  f.ns = o.ns();
  f.origin = o.origin();
  f.path = dotted_path(pointer);
  f.message = std::move(message);
  f.location = o.locate(pointer);
  f.subject = &o;
  findings_.push_back(std::move(f));
}

void Findings::add_input(const std::string& file, std::string message) {
  Finding f;
  f.rule = rule_;
  f.origin = file;
  f.message = std::move(message);
  f.location = {file, 0};
  findings_.push_back(std::move(f));
}

int RuleOutcome::active() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [](const Finding& f) { return !f.suppressed; }));
}

const std::vector<Rule>& all_rules() {
  static const std::vector<Rule> rules = [] {
    std::vector<Rule> all;
    for (auto group :
         {pod_security_rules, secrets_rules, reliability_rules, cross_object_rules, image_rules})
      for (auto& r : group()) all.push_back(r);
    return all;
  }();
  return rules;
}

const Rule* find_rule(std::string_view id) {
  for (const auto& r : all_rules())
    if (id == r.id) return &r;
  return nullptr;
}

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_ids(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string id; std::getline(in, id, ',');)
    if (!trim(id).empty()) out.push_back(trim(id));
  return out;
}

// The annotations that speak for an object: its own, and for a workload its pod template's
// (which live pods carry too).
std::vector<const json*> annotation_sets(const Object& o) {
  std::vector<const json*> out;
  for (const char* p : {"/metadata/annotations", "/spec/template/metadata/annotations"})
    if (const json* a = o.at(p); a && a->is_object()) out.push_back(a);
  return out;
}

constexpr const char* kSkip = "kgate.io/skip";
constexpr const char* kReason = "kgate.io/skip-reason";

void apply_annotations(Finding& f) {
  if (!f.subject) return;
  for (const json* a : annotation_sets(*f.subject)) {
    if (!a->contains(kSkip) || !(*a)[kSkip].is_string()) continue;
    auto ids = split_ids((*a)[kSkip].get<std::string>());
    if (std::find(ids.begin(), ids.end(), f.rule) == ids.end()) continue;
    std::string reason = a->contains(kReason) && (*a)[kReason].is_string()
                             ? trim((*a)[kReason].get<std::string>())
                             : "";
    if (reason.empty()) {
      f.message += " (" + std::string(kSkip) + " names this rule, but without " + kReason +
                   " it is not suppressed)";
      return;
    }
    f.suppressed = true;
    f.suppression = std::string("annotation ") + kSkip + ": " + reason;
    return;
  }
}

bool object_matches(const std::string& pattern, const Finding& f) {
  if (pattern.empty()) return true;
  if (f.object.empty()) return false;
  std::vector<std::string> names = {f.object};
  if (!f.ns.empty()) names.push_back(f.ns + "/" + f.object);
  for (const auto& n : names)
    if (::fnmatch(pattern.c_str(), n.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace

std::vector<Suppression> load_suppressions(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError("--suppressions " + path + ": cannot open");
  YAML::Node root;
  try {
    root = YAML::Load(in);
  } catch (const YAML::Exception& e) {
    throw InputError(path + ":" + std::to_string(e.mark.line + 1) + ":" +
                     std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
  auto where = [&](const YAML::Node& n) {
    return path + ":" + std::to_string(n.Mark().line + 1) + ":" +
           std::to_string(n.Mark().column + 1);
  };
  if (!root.IsMap() || !root["suppressions"] || !root["suppressions"].IsSequence())
    throw InputError(path + ":1:1: expected a key 'suppressions' holding a list");
  std::vector<std::string> ids;
  for (const auto& r : all_rules()) ids.push_back(r.id);
  std::vector<Suppression> out;
  for (const auto& item : root["suppressions"]) {
    if (!item.IsMap())
      throw InputError(where(item) + ": an entry must be a mapping (rule, reason)");
    for (auto it = item.begin(); it != item.end(); ++it) {
      std::string key = it->first.Scalar();
      if (key != "rule" && key != "object" && key != "reason")
        throw InputError(where(it->first) + ": unknown key '" + key +
                         "' (expected rule, object, reason)");
    }
    Suppression s;
    s.where = path + ":" + std::to_string(item.Mark().line + 1);
    if (!item["rule"]) throw InputError(where(item) + ": missing key 'rule'");
    s.rule = item["rule"].as<std::string>();
    if (!find_rule(s.rule)) {
      std::string hint;
      for (const auto& id : ids)
        if (id.find(s.rule) != std::string::npos || s.rule.find(id) != std::string::npos) hint = id;
      throw InputError(where(item["rule"]) + ": rule: unknown rule '" + s.rule + "'" +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    if (item["object"]) s.object = item["object"].as<std::string>();
    if (!item["reason"] || trim(item["reason"].as<std::string>()).empty())
      throw InputError(where(item) + ": reason: every suppression needs a reason");
    s.reason = trim(item["reason"].as<std::string>());
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<RuleOutcome> run_audit(const Objects& objects, const AuditOptions& options) {
  Inputs in{objects, options.scans, options.image_severity};
  std::vector<RuleOutcome> out;
  for (const auto& rule : all_rules()) {
    Findings f(rule.id);
    try {
      rule.check(in, f);
    } catch (const std::exception& e) {
      // A field of an unexpected type (a string where a list belongs): the API server would
      // refuse such an object; say so rather than pass it.
      f.add_input("", std::string("the input has a malformed object this rule cannot read (") +
                          e.what() + ")");
    }
    RuleOutcome o;
    o.rule = &rule;
    o.inspected = f.inspected_count();
    o.findings = std::move(f.list());
    for (auto& finding : o.findings) {
      apply_annotations(finding);
      finding.subject = nullptr;  // findings outlive the objects they were about
      if (finding.suppressed) continue;
      for (const auto& s : options.suppressions)
        if (s.rule == finding.rule && object_matches(s.object, finding)) {
          finding.suppressed = true;
          finding.suppression = "suppressions " + s.where + ": " + s.reason;
          break;
        }
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace kgate::audit
