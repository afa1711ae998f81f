// Release criteria: reading them (criteria: in kgate.yaml or --criteria FILE), checking every
// reference against the registry before anything runs, and deciding each one from the run's
// results. See kgate/criteria.hpp for the file's shape and docs/criteria.md for the rules.
#include "kgate/criteria.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "criteria_yaml.hpp"
#include "kgate/duration.hpp"
#include "kgate/redact.hpp"
#include "kgate/registry.hpp"
#include "kgate/suggest.hpp"

namespace kgate {
namespace {

// --------------------------------------------------------------------------------- reading

[[noreturn]] void fail_at(const std::string& file, int line, int column, const std::string& msg) {
  throw ConfigError(file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + msg);
}
[[noreturn]] void fail(const std::string& file, const YAML::Node& at, const std::string& msg) {
  const YAML::Mark m = at.Mark();
  fail_at(file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0, msg);
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool valid_id(const std::string& id) {
  if (id.empty() || !std::isalnum(static_cast<unsigned char>(id[0]))) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
  });
}

// A reference as written: where its text starts (a quote shifts it by one column).
CriterionRef ref_of(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  const bool quoted = n.Tag() == "!";
  return {n.Scalar(), m.line + 1, m.column + 1 + (quoted ? 1 : 0)};
}

std::vector<CriterionRef> read_refs(const std::string& file, const YAML::Node& n,
                                    const std::string& key) {
  std::vector<CriterionRef> out;
  if (n.IsScalar()) {
    if (n.Scalar().empty()) fail(file, n, "key " + quote(key) + ": empty");
    out.push_back(ref_of(n));
    return out;
  }
  if (!n.IsSequence()) fail(file, n, "key " + quote(key) + ": expected a list of strings");
  if (n.size() == 0)
    fail(file, n, "key " + quote(key) + ": the list is empty (remove the key, or name something)");
  for (const auto& item : n) {
    if (!item.IsScalar() || item.Scalar().empty())
      fail(file, item, "key " + quote(key) + ": each item must be a non-empty string");
    out.push_back(ref_of(item));
  }
  return out;
}

std::string read_text(const std::string& file, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar() || n.Scalar().empty())
    fail(file, n, "key " + quote(key) + ": expected a non-empty string");
  return n.Scalar();
}

}  // namespace

CriteriaConfig read_criteria(const YAML::Node& list, const std::string& file) {
  CriteriaConfig out;
  out.file = file;
  if (!list.IsSequence())
    fail(file, list,
         "key 'criteria': expected a list of criteria, each with id, text, what proves it "
         "(checks, figures, or manual) and level (docs/criteria.md)");
  if (list.size() == 0)
    fail(file, list, "key 'criteria': the list is empty (remove the key, or add a criterion)");
  static const std::vector<std::string> keys{"id",      "text",  "source", "checks",
                                             "figures", "level", "manual", "awaits"};
  std::map<std::string, int> ids;
  std::size_t index = 0;
  for (const auto& item : list) {
    const std::string where = "criteria[" + std::to_string(index++) + "]";
    if (!item.IsMap())
      fail(file, item, "key " + quote(where) + ": expected a mapping (id, text, checks, ...)");
    CriterionSpec c;
    c.line = item.Mark().line + 1;
    c.column = item.Mark().column + 1;
    std::set<std::string> seen;
    for (const auto& kv : item) {
      const std::string k = kv.first.Scalar();
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
        const std::string hint = closest_match(k, keys);
        fail(
            file, kv.first,
            "unknown key " + quote(where + "." + k) +
                (hint.empty() ? " (keys: " + join(keys) + ")" : " (did you mean '" + hint + "'?)"));
      }
      if (!seen.insert(k).second)
        fail(file, kv.first, "key " + quote(where + "." + k) + " appears twice");
      const YAML::Node& v = kv.second;
      if (k == "id") {
        c.id = read_text(file, v, where + ".id");
        if (!valid_id(c.id))
          fail(file, v,
               "key " + quote(where + ".id") + ": " + quote(c.id) +
                   " is not an id (letters, digits, '-', '_' and '.', starting with a letter or "
                   "digit)");
        if (auto [it, fresh] = ids.emplace(c.id, v.Mark().line + 1); !fresh)
          fail(file, v,
               "criterion id " + quote(c.id) + " appears twice (first at line " +
                   std::to_string(it->second) + ")");
      } else if (k == "text") {
        c.text = read_text(file, v, where + ".text");
      } else if (k == "source") {
        c.source = read_text(file, v, where + ".source");
      } else if (k == "checks") {
        c.checks = read_refs(file, v, where + ".checks");
      } else if (k == "figures") {
        c.figures = read_refs(file, v, where + ".figures");
      } else if (k == "level") {
        const std::string level = v.IsScalar() ? v.Scalar() : "";
        if (level != "required" && level != "advisory")
          fail(file, v,
               "key " + quote(where + ".level") + ": expected required or advisory, got " +
                   quote(level));
        c.required = level == "required";
      } else if (k == "manual") {
        c.manual = read_text(file, v, where + ".manual");
      } else if (k == "awaits") {
        c.awaits = read_text(file, v, where + ".awaits");
      }
    }
    const std::string name = c.id.empty() ? where : "criterion " + quote(c.id);
    if (c.id.empty()) fail(file, item, "key " + quote(where) + ": needs an id");
    if (c.text.empty())
      fail(file, item, name + " needs its text: the sentence as the release manager wrote it");
    const bool proved = !c.checks.empty() || !c.figures.empty();
    const bool by_hand = !c.manual.empty() || !c.awaits.empty();
    if (!c.manual.empty() && !c.awaits.empty())
      fail(file, item, name + ": give manual or awaits, not both");
    if (proved && by_hand)
      fail(file, item,
           name + ": it is either proved by checks and figures or left to a person (" +
               (c.manual.empty() ? "awaits" : "manual") + "), not both");
    if (!proved && !by_hand)
      fail(file, item,
           name +
               " says nothing that proves it: give checks (ids or globs `kgate list` prints), "
               "figures (thresholds on what they measure), or manual (what a person reviews)");
    if (by_hand && c.required)
      fail(file, item,
           name + " cannot be verified by kgate (" + (c.manual.empty() ? "awaits" : "manual") +
               "), so it would fail every gate: set level: advisory");
    out.items.push_back(std::move(c));
  }
  return out;
}

CriteriaConfig parse_criteria_text(const std::string& yaml_text, const std::string& source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    fail_at(source_name, e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg);
  }
  if (!root.IsMap())
    fail_at(source_name, 1, 1, "expected a mapping with the key 'criteria' (docs/criteria.md)");
  for (const auto& kv : root) {
    const std::string k = kv.first.Scalar();
    if (k != "criteria") {
      const std::string hint = closest_match(k, {"criteria"});
      fail(source_name, kv.first,
           "unknown key " + quote(k) +
               (hint.empty() ? " (a criteria file holds only 'criteria')"
                             : " (did you mean 'criteria'?)"));
    }
  }
  if (!root["criteria"]) fail_at(source_name, 1, 1, "no 'criteria' key (docs/criteria.md)");
  return read_criteria(root["criteria"], source_name);
}

CriteriaConfig load_criteria_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ":0:0: cannot read the criteria file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_criteria_text(ss.str(), path);
}

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

// ----------------------------------------------------------------------------- resolving

namespace {

bool is_glob(const std::string& s) {
  return s.find_first_of("*?") != std::string::npos;
}

std::vector<std::string> all_ids() {
  std::vector<std::string> out;
  for (const auto* c : checks()) out.push_back(c->id);
  return out;
}

// Why a reference whose suite part is unknown matches nothing ("" when the suite exists).
std::string suite_hint(const std::string& ref) {
  const std::string suite = ref.substr(0, ref.find('.'));
  if (is_glob(suite) || find_suite(suite)) return "";
  const auto known = suite_names();
  const std::string near = closest_match(suite, known);
  return "there is no suite " + quote(suite) + " (suites: " + join(known) + ")" +
         (near.empty() ? "" : "; did you mean " + quote(near) + "?");
}

std::vector<std::string> resolve_check_ref(const std::string& file, const CriterionRef& r) {
  const std::string& t = r.text;
  if (find_suite(t))
    fail_at(file, r.line, r.column,
            quote(t) + " is a suite: write " + quote(t + ".*") + " for every check of it");
  std::vector<std::string> out;
  if (is_glob(t)) {
    for (const auto* c : checks())
      if (glob_match(t, c->id)) out.push_back(c->id);
    if (out.empty()) {
      const std::string hint = suite_hint(t);
      fail_at(file, r.line, r.column,
              "the glob " + quote(t) + " matches no check" + (hint.empty() ? "" : ": " + hint) +
                  " (`kgate list` shows the checks that exist)");
    }
    return out;
  }
  if (!find_check(t)) {
    std::string why = suite_hint(t);
    if (why.empty()) {
      const std::string near = closest_match(t, all_ids());
      why = near.empty() ? "`kgate list` shows the checks that exist"
                         : "did you mean " + quote(near) + "?";
    }
    fail_at(file, r.line, r.column, "unknown check " + quote(t) + ": " + why);
  }
  return {t};
}

enum class UnitKind { Duration, Percent, Number };

// Microseconds per unit for durations; 0 when not a duration unit.
double micros_per(const std::string& unit) {
  if (unit == "us" || unit == "µs") return 1;
  if (unit == "ms") return 1e3;
  if (unit == "s") return 1e6;
  if (unit == "m" || unit == "min") return 6e7;
  if (unit == "h") return 3.6e9;
  return 0;
}

UnitKind kind_of(const std::string& unit) {
  if (micros_per(unit) > 0) return UnitKind::Duration;
  if (unit == "%") return UnitKind::Percent;
  return UnitKind::Number;
}

bool is_space(char ch) {
  return ch == ' ' || ch == '\t';
}
bool is_op_char(char ch) {
  return ch == '<' || ch == '>' || ch == '=' || ch == '!';
}

// The checks a figure's prefix stands for: a suite's checks, a glob's or one id's.
std::vector<const CheckDef*> checks_for_prefix(const std::string& prefix) {
  std::vector<const CheckDef*> out;
  if (find_suite(prefix)) {
    for (const auto* c : checks())
      if (c->suite == prefix) out.push_back(c);
  } else if (is_glob(prefix)) {
    for (const auto* c : checks())
      if (glob_match(prefix, c->id)) out.push_back(c);
  } else if (const auto* c = find_check(prefix)) {
    out.push_back(c);
  }
  return out;
}

const FigureInfo* declared(const CheckDef& c, const std::string& figure) {
  for (const auto& f : c.info.figures)
    if (f.name == figure) return &f;
  return nullptr;
}

// A decimal number at text[i]: [-]digits[.digits] or [-].digits; advances i. nullopt if none.
std::optional<double> scan_number(const std::string& text, std::size_t& i) {
  std::size_t j = i;
  if (j < text.size() && text[j] == '-') ++j;
  const std::size_t digits_at = j;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  bool any = j > digits_at;
  if (j < text.size() && text[j] == '.' && j + 1 < text.size() &&
      std::isdigit(static_cast<unsigned char>(text[j + 1]))) {
    ++j;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    any = true;
  }
  if (!any) return std::nullopt;
  const double v = std::strtod(text.substr(i, j - i).c_str(), nullptr);
  i = j;
  return v;
}

// An error at a character of a reference's text.
struct RefFail {
  const std::string& file;
  const CriterionRef& r;
  [[noreturn]] void operator()(std::size_t offset, const std::string& msg) const {
    fail_at(file, r.line, r.column + static_cast<int>(offset), msg);
  }
};

FigureThreshold resolve_figure_ref(const std::string& file, const CriterionRef& r) {
  const std::string& t = r.text;
  const RefFail at{file, r};
  const std::string example = " (e.g. 'load.p95 < 300ms'; `kgate list --figures` names them)";
  std::size_t op_at = 0;
  while (op_at < t.size() && !is_op_char(t[op_at])) ++op_at;
  std::size_t fig_from = 0;
  while (fig_from < op_at && is_space(t[fig_from])) ++fig_from;
  std::size_t fig_to = op_at;
  while (fig_to > fig_from && is_space(t[fig_to - 1])) --fig_to;
  if (op_at == t.size())
    at(t.size(),
       "missing operator in " + quote(t) + ": expected '<figure> <op> <value>'" + example);
  if (fig_to == fig_from) at(op_at, "expected a figure before the operator" + example);
  const std::string figure_ref = t.substr(fig_from, fig_to - fig_from);

  // Every way to split the reference into <checks>.<figure> that names a declared figure.
  struct Reading {
    std::string prefix, figure;
    std::vector<const CheckDef*> checks;
  };
  std::vector<Reading> readings;
  std::string widest_prefix;  // the longest prefix that stands for some checks (for errors)
  std::vector<const CheckDef*> widest_checks;
  for (std::size_t dot = figure_ref.find('.'); dot != std::string::npos;
       dot = figure_ref.find('.', dot + 1)) {
    const std::string prefix = figure_ref.substr(0, dot);
    const std::string name = figure_ref.substr(dot + 1);
    if (prefix.empty() || name.empty()) continue;
    auto matched = checks_for_prefix(prefix);
    if (matched.empty()) continue;
    widest_prefix = prefix;
    widest_checks = matched;
    Reading rd{prefix, name, {}};
    for (const auto* c : matched)
      if (declared(*c, name)) rd.checks.push_back(c);
    if (!rd.checks.empty()) readings.push_back(std::move(rd));
  }
  if (readings.empty()) {
    if (widest_prefix.empty()) {
      std::string hint = suite_hint(figure_ref);
      at(fig_from, "unknown figure " + quote(figure_ref) + ": " +
                       (hint.empty() ? "no check or glob in it matches a check" : hint) + example);
    }
    const std::string name = figure_ref.substr(widest_prefix.size() + 1);
    std::vector<std::string> names;
    for (const auto* c : widest_checks)
      for (const auto& f : c->info.figures)
        if (std::find(names.begin(), names.end(), f.name) == names.end()) names.push_back(f.name);
    const std::string whose =
        widest_checks.size() == 1
            ? widest_checks[0]->id
            : quote(widest_prefix) + " (" + std::to_string(widest_checks.size()) + " checks)";
    if (names.empty())
      at(fig_from, "unknown figure " + quote(figure_ref) + ": " + whose +
                       " records no figure criteria can name" + example);
    const std::string near = closest_match(name, names);
    at(fig_from + widest_prefix.size() + 1,
       "unknown figure " + quote(name) + " of " + whose + " (figures: " + join(names) + ")" +
           (near.empty() ? "" : "; did you mean " + quote(widest_prefix + "." + near) + "?"));
  }
  if (readings.size() > 1) {
    std::vector<std::string> ways;
    for (const auto& rd : readings) ways.push_back(quote(rd.figure) + " of " + quote(rd.prefix));
    at(fig_from, "the figure " + quote(figure_ref) + " is ambiguous: " + join(ways, " or ") +
                     "; write the check id in full");
  }
  const Reading& rd = readings[0];
  FigureThreshold f;
  f.figure = rd.figure;
  f.unit = declared(*rd.checks[0], rd.figure)->unit;
  for (const auto* c : rd.checks) {
    const std::string u = declared(*c, rd.figure)->unit;
    if (u != f.unit)
      at(fig_from, "the figure " + quote(figure_ref) + " has different units: " + rd.checks[0]->id +
                       " records it in " + quote(f.unit) + ", " + c->id + " in " + quote(u) +
                       "; name one check");
    f.check_ids.push_back(c->id);
  }

  // The operator, as load's thresholds spell them.
  std::size_t i = op_at;
  while (i < t.size() && is_op_char(t[i])) ++i;
  const std::string op = t.substr(op_at, i - op_at);
  static const std::map<std::string, CompareOp> ops{{"<", CompareOp::Lt},  {"<=", CompareOp::Le},
                                                    {">", CompareOp::Gt},  {">=", CompareOp::Ge},
                                                    {"==", CompareOp::Eq}, {"!=", CompareOp::Ne}};
  auto it = ops.find(op);
  if (it == ops.end()) {
    const std::string fix = op == "=" ? "==" : op == "=<" ? "<=" : op == "=>" ? ">=" : "";
    at(op_at, "unknown operator " + quote(op) +
                  (fix.empty() ? "" : " (did you mean " + quote(fix) + "?)") +
                  "; use <, <=, >, >=, == or !=");
  }
  f.op = it->second;

  while (i < t.size() && is_space(t[i])) ++i;
  std::size_t end = t.size();
  while (end > i && is_space(t[end - 1])) --end;
  const std::size_t value_at = i;
  const std::string value = t.substr(i, end - i);
  const UnitKind kind = kind_of(f.unit);
  const std::string what = quote(figure_ref) + " (" + (f.unit.empty() ? "a number" : f.unit) + ")";
  if (value.empty()) {
    const char* hint = kind == UnitKind::Duration  ? "a duration such as 300ms"
                       : kind == UnitKind::Percent ? "a percentage such as 99.5%"
                                                   : "a number";
    at(value_at, "missing value after " + quote(op) + ": " + what + " takes " + hint);
  }
  f.limit_text = value;
  switch (kind) {
    case UnitKind::Duration: {
      try {
        const ScannedDuration d = scan_duration(value);
        if (d.length != value.size())
          at(value_at + d.length, "unexpected " + quote(value.substr(d.length)) + " after the " +
                                      "duration in " + quote(t));
        f.limit = d.micros;
      } catch (const DurationError& e) {
        at(value_at + e.offset(),
           what + " is a duration: " + e.what() + " (write e.g. 300ms, 2s or 1m30s)");
      }
      break;
    }
    case UnitKind::Percent: {
      std::size_t j = 0;
      auto n = scan_number(value, j);
      while (j < value.size() && is_space(value[j])) ++j;
      if (!n || j >= value.size() || value[j] != '%' || j + 1 != value.size())
        at(value_at, what + " is a percentage: write e.g. 99.5%, got " + quote(value));
      if (*n < 0 || *n > 100) at(value_at, "a percentage is between 0% and 100%, got " + value);
      f.limit = *n;
      break;
    }
    case UnitKind::Number: {
      std::size_t j = 0;
      auto n = scan_number(value, j);
      if (!n) at(value_at, what + " takes a number, got " + quote(value));
      while (j < value.size() && is_space(value[j])) ++j;
      const std::string unit = value.substr(j);
      if (!unit.empty() && unit != f.unit)
        at(value_at + j,
           "wrong unit " + quote(unit) + " for " + what +
               (f.unit.empty() ? ": write a plain number"
                               : ": write a number, optionally followed by " + quote(f.unit)));
      f.limit = *n;
      break;
    }
  }
  std::size_t from = 0;
  while (from < t.size() && is_space(t[from])) ++from;
  f.expression = t.substr(from, end - from);
  return f;
}

}  // namespace

std::vector<ResolvedCriterion> resolve_criteria(const CriteriaConfig& criteria) {
  std::vector<ResolvedCriterion> out;
  for (const auto& spec : criteria.items) {
    ResolvedCriterion r;
    r.spec = spec;
    for (const auto& ref : spec.checks)
      for (auto& id : resolve_check_ref(criteria.file, ref))
        if (std::find(r.check_ids.begin(), r.check_ids.end(), id) == r.check_ids.end())
          r.check_ids.push_back(std::move(id));
    for (const auto& ref : spec.figures)
      r.figures.push_back(resolve_figure_ref(criteria.file, ref));
    out.push_back(std::move(r));
  }
  return out;
}

// ----------------------------------------------------------------------------- deciding

namespace {

std::string number_text(double v) {
  const double a = std::fabs(v);
  const int decimals = a >= 100 ? 1 : a >= 1 ? 2 : 3;
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string measured_text(double v, const std::string& unit) {
  if (unit.empty()) return number_text(v);
  return number_text(v) + (unit == "%" ? "" : " ") + unit;
}

const char* op_text(CompareOp op) {
  switch (op) {
    case CompareOp::Lt:
      return "<";
    case CompareOp::Le:
      return "<=";
    case CompareOp::Gt:
      return ">";
    case CompareOp::Ge:
      return ">=";
    case CompareOp::Eq:
      return "==";
    case CompareOp::Ne:
      return "!=";
  }
  return "?";
}

bool compare(double a, CompareOp op, double b) {
  switch (op) {
    case CompareOp::Lt:
      return a < b;
    case CompareOp::Le:
      return a <= b;
    case CompareOp::Gt:
      return a > b;
    case CompareOp::Ge:
      return a >= b;
    case CompareOp::Eq:
      return a == b;
    case CompareOp::Ne:
      return a != b;
  }
  return false;
}

// The recorded value in the threshold's terms (microseconds for durations), or why it cannot be.
std::optional<double> in_limit_terms(const Scalar& s, const FigureThreshold& f, std::string& why) {
  const UnitKind want = kind_of(f.unit);
  if (want == UnitKind::Duration) {
    const double per = micros_per(s.unit);
    if (per > 0) return s.value * per;
  } else if (s.unit == f.unit) {
    return s.value;
  }
  why = "recorded in " + quote(s.unit) + ", declared in " + quote(f.unit);
  return std::nullopt;
}

// What one thing a criterion rests on says: fine, failed (not met), or not verified.
enum class State { Ok, Failed, Unverified };

struct Tally {
  std::vector<std::string> failed, unverified, not_selected, passed;
};

const CheckResult* result_of(const RunResult& run, const std::string& id) {
  const CheckResult* found = nullptr;
  for (const auto& c : run.checks)
    if (c.id == id) found = &c;
  return found;
}

std::string with_message(const std::string& head, const std::string& message) {
  return message.empty() ? head : head + ": " + message;
}

// The state of one check the criterion rests on, recorded in `tally` and `out`.
void judge_check(const std::string& id, const RunResult& run, const std::set<std::string>& selected,
                 Tally& tally, std::vector<CriterionCheck>& out) {
  const CheckResult* r = result_of(run, id);
  if (!r) {
    if (selected.count(id)) {
      out.push_back({id, "not run", ""});
      tally.unverified.push_back(id + " did not run" +
                                 (run.aborted ? " (the run was aborted)" : ""));
    } else {
      out.push_back({id, "not selected", ""});
      tally.not_selected.push_back(id);
    }
    return;
  }
  out.push_back({id, to_string(r->status), r->message});
  switch (r->status) {
    case CheckStatus::Passed:
    case CheckStatus::Warning:  // a finding below the gate's severity floor does not fail it
      tally.passed.push_back(id);
      break;
    case CheckStatus::Failed:
      tally.failed.push_back(with_message(id + " failed", r->message));
      break;
    case CheckStatus::Skipped:
      tally.unverified.push_back(with_message(id + " skipped", r->message));
      break;
    case CheckStatus::Inconclusive:
      tally.unverified.push_back(with_message(id + " inconclusive", r->message));
      break;
    case CheckStatus::Error:
      tally.unverified.push_back(with_message(id + " could not be carried out", r->message));
      break;
  }
}

std::string first_few(const std::vector<std::string>& items, std::size_t n = 3) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < n; ++i) out += (i ? "; " : "") + items[i];
  if (items.size() > n) out += fmt::format("; and {} more", items.size() - n);
  return out;
}

}  // namespace

std::vector<CriterionResult> decide_criteria(const std::vector<ResolvedCriterion>& criteria,
                                             const RunResult& run,
                                             const std::vector<std::string>& selected_ids) {
  const std::set<std::string> selected(selected_ids.begin(), selected_ids.end());
  std::vector<CriterionResult> out;
  for (const auto& rc : criteria) {
    const CriterionSpec& s = rc.spec;
    CriterionResult r;
    r.id = s.id;
    r.text = s.text;
    r.source = s.source;
    r.required = s.required;
    r.manual = s.manual;
    r.awaits = s.awaits;
    for (const auto& ref : s.checks) r.named_checks.push_back(ref.text);
    for (const auto& f : rc.figures) r.named_figures.push_back(f.expression);
    if (!s.manual.empty() || !s.awaits.empty()) {
      r.verdict = CriterionVerdict::NotVerified;
      r.reason = s.manual.empty() ? "kgate cannot verify it yet: awaits " + s.awaits
                                  : "manual review: " + s.manual;
      out.push_back(std::move(r));
      continue;
    }
    Tally tally;
    std::vector<std::string> judged;
    auto judge = [&](const std::string& id) {
      if (std::find(judged.begin(), judged.end(), id) != judged.end()) return;
      judged.push_back(id);
      judge_check(id, run, selected, tally, r.checks);
    };
    for (const auto& id : rc.check_ids) judge(id);
    // A figure rests on the checks that record it: their failure fails the criterion too.
    std::vector<std::string> held;
    for (const auto& f : rc.figures) {
      for (const auto& id : f.check_ids) {
        judge(id);
        CriterionFigure cf{f.expression, id, f.figure, "", "not measured"};
        const CheckResult* cr = result_of(run, id);
        const Scalar* scalar = nullptr;
        if (cr)
          for (const auto& sc : cr->scalars)
            if (sc.name == f.figure) scalar = &sc;  // the last one recorded
        const std::string label = id + " " + f.figure;
        if (!scalar) {
          // The check's own state says why (skipped, not selected); a check that passed without
          // recording its figure is a criterion kgate could not verify, never one that held.
          if (cr && (cr->status == CheckStatus::Passed || cr->status == CheckStatus::Warning))
            tally.unverified.push_back(id + " passed but recorded no " + quote(f.figure));
          r.figures.push_back(std::move(cf));
          continue;
        }
        std::string why;
        const auto v = in_limit_terms(*scalar, f, why);
        cf.measured = measured_text(scalar->value, scalar->unit);
        if (!v) {
          tally.unverified.push_back(label + " cannot be compared: " + why);
          r.figures.push_back(std::move(cf));
          continue;
        }
        const bool ok = compare(*v, f.op, f.limit);
        cf.outcome = ok ? "held" : "not held";
        const std::string text =
            label + " " + cf.measured + (ok ? " " : ", not ") + op_text(f.op) + " " + f.limit_text;
        if (ok)
          held.push_back(text);
        else
          tally.failed.push_back(text);
        r.figures.push_back(std::move(cf));
      }
    }
    if (!tally.failed.empty()) {
      r.verdict = CriterionVerdict::NotMet;
      r.reason = first_few(tally.failed);
    } else if (!tally.unverified.empty() || !tally.not_selected.empty()) {
      r.verdict = CriterionVerdict::NotVerified;
      std::vector<std::string> parts = tally.unverified;
      if (!tally.not_selected.empty()) {
        std::string ids = first_few(tally.not_selected, 4);
        std::replace(ids.begin(), ids.end(), ';', ',');
        parts.insert(
            parts.begin(),
            fmt::format("{} not selected in this run ({}{})",
                        tally.not_selected.size() == 1
                            ? "1 check"
                            : fmt::format("{} checks", tally.not_selected.size()),
                        ids, run.selection.empty() ? "" : "; selection: " + run.selection));
      }
      r.reason = first_few(parts);
    } else {
      r.verdict = CriterionVerdict::Met;
      std::vector<std::string> parts;
      if (!tally.passed.empty())
        parts.push_back(tally.passed.size() == 1
                            ? tally.passed[0] + " passed"
                            : fmt::format("{} checks passed", tally.passed.size()));
      for (auto& h : held) parts.push_back(std::move(h));
      r.reason = first_few(parts, 4);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string criteria_summary(const RunResult& run) {
  if (run.criteria.empty()) return "";
  int met = 0, not_met = 0, unverified = 0;
  std::vector<std::string> gating;
  std::size_t w = 2;
  for (const auto& c : run.criteria) w = std::max(w, c.id.size());
  std::string rows;
  for (const auto& c : run.criteria) {
    met += c.verdict == CriterionVerdict::Met;
    not_met += c.verdict == CriterionVerdict::NotMet;
    unverified += c.verdict == CriterionVerdict::NotVerified;
    if (gates(c)) gating.push_back(c.id + " (" + to_string(c.verdict) + ")");
    std::string word = to_string(c.verdict);
    std::transform(word.begin(), word.end(), word.begin(), ::toupper);
    rows += fmt::format("  {:<13} {:<{}} {:<9} {}", word, c.id, w,
                        c.required ? "required" : "advisory", c.text);
    if (c.verdict != CriterionVerdict::Met) rows += "\n  " + std::string(13, ' ') + " " + c.reason;
    rows += "\n";
  }
  std::string out = fmt::format(
      "\nrelease criteria ({}{}): {} met, {} not met, {} not verified\n",
      run.signoff.criteria_file.empty() ? "criteria" : run.signoff.criteria_file,
      run.signoff.criteria_sha256.empty() ? ""
                                          : ", sha256 " + run.signoff.criteria_sha256.substr(0, 12),
      met, not_met, unverified);
  out += redact(rows);
  int required = 0;
  for (const auto& c : run.criteria) required += c.required;
  if (!gating.empty())
    out += fmt::format(
        "RELEASE CRITERIA NOT MET: {} of {} required criteria not met or not "
        "verified: {}\n",
        gating.size(), required, join(gating));
  else
    out += fmt::format("release criteria: all {} required criteria met\n", required);
  return out;
}

// ----------------------------------------------------------------------------- catalog

std::vector<FigureRow> figure_catalog() {
  std::vector<FigureRow> out;
  std::map<std::string, int> sharing;  // "suite.figure" -> checks
  for (const auto* c : checks())
    for (const auto& f : c->info.figures) ++sharing[c->suite + "." + f.name];
  for (const auto* c : checks())
    for (const auto& f : c->info.figures) {
      const std::string short_form = c->suite + "." + f.name;
      out.push_back(
          {c->id, c->id + "." + f.name, short_form, sharing[short_form], f.unit, c->info.title});
    }
  return out;
}

}  // namespace kgate
