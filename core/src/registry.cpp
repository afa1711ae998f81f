#include "kgate/registry.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace kgate {
namespace {

struct Registry {
  std::vector<SuiteDef> suites;
  std::vector<std::unique_ptr<CheckDef>> checks;
  std::vector<std::string> problems;
  bool dynamic_done = false;
};

Registry& registry() {
  static Registry r;  // filled at static initialisation by the suites' translation units
  return r;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

}  // namespace

const char* to_string(Severity s) {
  switch (s) {
    case Severity::None:
      return "";
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
  return "";
}

std::optional<Severity> parse_severity(std::string_view text) {
  for (auto s :
       {Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical})
    if (lower(std::string(text)) == to_string(s)) return s;
  return std::nullopt;
}

std::string needs_text(unsigned needs) {
  static const std::pair<unsigned, const char*> names[] = {
      {kNeedsIdentity, "identity"}, {kNeedsTwoIdentities, "two identities"},
      {kNeedsSecret, "secret"},     {kNeedsFrontend, "frontend"},
      {kNeedsIngress, "ingress"},   {kNeedsHttps, "https"},
      {kNeedsCluster, "cluster"},   {kDisruptive, "disruptive"}};
  std::string out;
  for (const auto& [bit, name] : names)
    if (needs & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

bool register_suite(SuiteDef def) {
  auto& r = registry();
  for (const auto& s : r.suites)
    if (s.name == def.name) r.problems.push_back("suite '" + def.name + "' registered twice");
  r.suites.push_back(std::move(def));
  std::stable_sort(r.suites.begin(), r.suites.end(),
                   [](const SuiteDef& a, const SuiteDef& b) { return a.order < b.order; });
  return true;
}

bool add_check(CheckDef def) {
  auto& r = registry();
  for (const auto& c : r.checks)
    if (c->id == def.id)
      r.problems.push_back("check '" + def.id + "' registered twice (" + def.file + ":" +
                           std::to_string(def.line) + ")");
  r.checks.push_back(std::make_unique<CheckDef>(std::move(def)));
  return true;
}

const std::vector<SuiteDef>& suites() {
  return registry().suites;
}

const SuiteDef* find_suite(const std::string& name) {
  for (const auto& s : registry().suites)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> suite_names() {
  std::vector<std::string> out;
  for (const auto& s : registry().suites) out.push_back(s.name);
  return out;
}

std::vector<const CheckDef*> checks() {
  std::vector<const CheckDef*> out;
  for (const auto& s : registry().suites)
    for (const auto& c : registry().checks)
      if (c->suite == s.name) out.push_back(c.get());
  return out;
}

const CheckDef* find_check(const std::string& id) {
  for (const auto& c : registry().checks)
    if (c->id == id) return c.get();
  return nullptr;
}

void register_dynamic_checks(const Config& config) {
  auto& r = registry();
  if (r.dynamic_done) return;
  r.dynamic_done = true;
  for (const auto& s : r.suites)
    if (s.dynamic_checks) s.dynamic_checks(config);
}

std::string registry_problems() {
  auto& r = registry();
  std::string out;
  for (const auto& p : r.problems) out += p + "\n";
  for (const auto& c : r.checks) {
    if (!find_suite(c->suite))
      out += "check '" + c->id + "' belongs to unknown suite '" + c->suite + "' (" + c->file + ":" +
             std::to_string(c->line) + ")\n";
    if (c->info.title.empty()) out += "check '" + c->id + "' has no title\n";
    for (const auto& d : c->info.depends_on)
      if (!find_check(d)) out += "check '" + c->id + "' depends on unknown check '" + d + "'\n";
  }
  return out;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // '*' any run of characters, '?' one character; iterative with one backtrack point.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string Selection::describe() const {
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
  };
  std::string out = "suites " + join(suites);
  if (!tags.empty()) out += "; tags " + join(tags);
  if (!filters.empty()) out += "; filter " + join(filters);
  if (min_severity) out += std::string("; severity >= ") + to_string(*min_severity);
  return out;
}

std::vector<const CheckDef*> select(const Selection& sel) {
  std::set<std::string> chosen;
  for (const auto* c : checks()) {
    if (std::find(sel.suites.begin(), sel.suites.end(), c->suite) == sel.suites.end()) continue;
    if (!sel.tags.empty()) {
      bool tagged = false;
      for (const auto& t : sel.tags)
        for (const auto& mine : c->tags) tagged = tagged || lower(t) == mine;
      if (!tagged) continue;
    }
    if (!sel.filters.empty()) {
      bool matched = false;
      for (const auto& f : sel.filters) matched = matched || glob_match(f, c->id);
      if (!matched) continue;
    }
    if (sel.min_severity && c->info.severity < *sel.min_severity) continue;
    chosen.insert(c->id);
  }
  // Dependencies come along: a threshold is nothing without the load run it reads.
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto* c : checks())
      if (chosen.count(c->id))
        for (const auto& d : c->info.depends_on) grew = chosen.insert(d).second || grew;
  }
  std::vector<const CheckDef*> out;
  for (const auto* c : checks())
    if (chosen.count(c->id)) out.push_back(c);
  return out;
}

}  // namespace kgate
