#include "kgate/audit/sarif.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>

namespace kgate::audit {
namespace fs = std::filesystem;

namespace {

// "run-as-non-root" -> "RunAsNonRoot"
std::string pascal(const std::string& id) {
  std::string out;
  bool up = true;
  for (char c : id) {
    if (c == '-' || c == '.') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

// GitHub's security-severity scale (0-10).
const char* security_severity(Severity s) {
  switch (s) {
    case Severity::Critical:
      return "9.5";
    case Severity::High:
      return "8.0";
    case Severity::Medium:
      return "5.5";
    case Severity::Low:
      return "3.0";
    case Severity::Info:
      return "0.0";
  }
  return "0.0";
}

const char* level(Severity s, Severity fail_on) {
  if (s == Severity::Info) return "note";
  return s >= fail_on ? "error" : "warning";
}

bool security_group(const Rule& r) {
  std::string g = r.group, id = r.id;
  return g == "pod-security" || g == "secrets" || g == "images" || id.rfind("rbac-", 0) == 0 ||
         id == "network-policy";
}

std::string fingerprint(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string uri_escape(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || std::string("/-._~").find(static_cast<char>(c)) != std::string::npos) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

std::string source_root(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path.empty() ? "." : path, ec);
  for (fs::path d = fs::is_directory(p, ec) ? p : p.parent_path(); !d.empty();
       d = d.parent_path()) {
    if (fs::exists(d / ".git", ec)) return d.string();
    if (d == d.root_path()) break;
  }
  return fs::current_path(ec).string();
}

nlohmann::json to_sarif(const std::vector<RuleOutcome>& outcomes, const SarifOptions& o) {
  using nlohmann::json;
  std::error_code ec;
  fs::path root =
      fs::weakly_canonical(o.root.empty() ? fs::current_path(ec) : fs::path(o.root), ec);
  json rules = json::array();
  json results = json::array();
  int index = 0;
  for (const auto& outcome : outcomes) {
    const Rule& r = *outcome.rule;
    json tags = json::array({"kubernetes", r.group});
    if (security_group(r)) tags.push_back("security");
    json rule = {
        {"id", r.id},
        {"name", pascal(r.id)},
        {"shortDescription", {{"text", r.title}}},
        {"fullDescription", {{"text", r.description}}},
        {"help",
         {{"text", std::string(r.remediation) + " Reference: " + r.reference},
          {"markdown", std::string("**") + r.title + "**\n\n" + r.description + "\n\n**Fix:** " +
                           r.remediation + "\n\n**Reference:** " + r.reference}}},
        {"defaultConfiguration", {{"level", level(r.severity, o.fail_on)}}},
        {"properties",
         {{"tags", tags},
          {"severity", to_string(r.severity)},
          {"reference", r.reference},
          {"security-severity", security_severity(r.severity)}}},
    };
    if (*r.help_uri) rule["helpUri"] = r.help_uri;
    rules.push_back(rule);

    for (const auto& f : outcome.findings) {
      json result = {
          {"ruleId", r.id},
          {"ruleIndex", index},
          {"level", level(r.severity, o.fail_on)},
          {"message", {{"text", (f.object.empty() ? "" : f.object + ": ") + f.message}}}};
      json location = json::object();
      const std::string& file = f.location.file;
      if (!file.empty() && file != "<stdin>") {
        fs::path abs = fs::weakly_canonical(fs::absolute(file, ec), ec);
        fs::path rel = abs.lexically_relative(root);
        json artifact;
        if (!rel.empty() && rel.native().rfind("..", 0) != 0) {
          artifact = {{"uri", uri_escape(rel.generic_string())}, {"uriBaseId", "%SRCROOT%"}};
        } else {
          artifact = {{"uri", "file://" + uri_escape(abs.generic_string())}};
        }
        json physical = {{"artifactLocation", artifact}};
        if (f.location.line > 0) physical["region"] = {{"startLine", f.location.line}};
        location["physicalLocation"] = physical;
      }
      if (!f.object.empty()) {
        location["logicalLocations"] =
            json::array({{{"fullyQualifiedName", (f.ns.empty() ? "" : f.ns + "/") + f.object +
                                                     (f.path.empty() ? "" : ":" + f.path)},
                          {"kind", "resource"}}});
      }
      if (!location.empty()) result["locations"] = json::array({location});
      result["partialFingerprints"] = {
          {"kgateFinding/v1",
           fingerprint(f.rule + "|" + f.object + "|" + f.path + "|" + f.message)}};
      result["properties"] = {{"origin", f.origin}};
      if (f.suppressed) {
        bool annotation = f.suppression.rfind("annotation", 0) == 0;
        result["suppressions"] = json::array({{{"kind", annotation ? "inSource" : "external"},
                                               {"status", "accepted"},
                                               {"justification", f.suppression}}});
      }
      results.push_back(result);
    }
    ++index;
  }
  json driver = {{"name", "kgate"}, {"rules", rules}};
  if (!o.tool_version.empty()) {
    driver["version"] = o.tool_version;
    driver["semanticVersion"] = o.tool_version;
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs",
           json::array(
               {{{"tool", {{"driver", driver}}},
                 {"originalUriBaseIds",
                  {{"%SRCROOT%", {{"uri", "file://" + uri_escape(root.generic_string()) + "/"}}}}},
                 {"results", results},
                 {"columnKind", "utf16CodeUnits"}}})}};
}

}  // namespace kgate::audit
