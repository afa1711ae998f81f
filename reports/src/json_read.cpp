// Reading results.json (schema kgate/results/v2) back into the result model: `kgate collect`
// receives a run's results through a pod's log and writes the same three reports from them.
// Strict about the fields the model needs; every problem names the JSON path.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "kgate/reports.hpp"

namespace kgate::reports {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw std::runtime_error("results: " + path + ": " + what);
}

const Json& member(const Json& o, const char* key, const std::string& path) {
  if (!o.is_object()) bad(path, "expected an object");
  auto it = o.find(key);
  if (it == o.end()) bad(path + "." + key, "missing");
  return *it;
}

std::string text(const Json& o, const char* key, const std::string& path) {
  if (!o.contains(key)) return "";
  const Json& v = o[key];
  if (!v.is_string()) bad(path + "." + key, "expected a string");
  return v.get<std::string>();
}

double number(const Json& o, const char* key, const std::string& path) {
  if (!o.contains(key)) return 0;
  const Json& v = o[key];
  if (!v.is_number()) bad(path + "." + key, "expected a number");
  return v.get<double>();
}

bool flag(const Json& o, const char* key, const std::string& path) {
  if (!o.contains(key)) return false;
  const Json& v = o[key];
  if (!v.is_boolean()) bad(path + "." + key, "expected true or false");
  return v.get<bool>();
}

const Json& array(const Json& o, const char* key, const std::string& path) {
  static const Json empty = Json::array();
  if (!o.contains(key)) return empty;
  const Json& v = o[key];
  if (!v.is_array()) bad(path + "." + key, "expected a list");
  return v;
}

std::vector<std::string> strings(const Json& o, const char* key, const std::string& path) {
  std::vector<std::string> out;
  const Json& list = array(o, key, path);
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string()) bad(path + "." + key + "[" + std::to_string(i) + "]", "not a string");
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

std::vector<Property> properties(const Json& o, const std::string& path) {
  std::vector<Property> out;
  if (!o.contains("properties")) return out;
  const Json& p = o["properties"];
  if (!p.is_object()) bad(path + ".properties", "expected an object");
  for (const auto& [k, v] : p.items())
    out.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
  return out;
}

std::vector<Scalar> scalars(const Json& o, const std::string& path) {
  std::vector<Scalar> out;
  const Json& list = array(o, "scalars", path);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = path + ".scalars[" + std::to_string(i) + "]";
    out.push_back(
        {text(list[i], "name", at), number(list[i], "value", at), text(list[i], "unit", at)});
  }
  return out;
}

std::vector<double> numbers(const Json& o, const char* key, const std::string& path) {
  std::vector<double> out;
  const Json& list = array(o, key, path);
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_number()) bad(path + "." + key + "[" + std::to_string(i) + "]", "not a number");
    out.push_back(list[i].get<double>());
  }
  return out;
}

std::vector<Chart> charts(const Json& o, const std::string& path) {
  std::vector<Chart> out;
  const Json& list = array(o, "charts", path);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = path + ".charts[" + std::to_string(i) + "]";
    Chart c;
    c.title = text(list[i], "title", at);
    c.unit = text(list[i], "unit", at);
    c.labels = strings(list[i], "labels", at);
    c.timeline = flag(list[i], "timeline", at);
    const Json& series = array(list[i], "series", at);
    for (std::size_t j = 0; j < series.size(); ++j) {
      const std::string sat = at + ".series[" + std::to_string(j) + "]";
      c.series.push_back({text(series[j], "name", sat), numbers(series[j], "t", sat),
                          numbers(series[j], "values", sat)});
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Event> events(const Json& o, const std::string& path) {
  std::vector<Event> out;
  const Json& list = array(o, "events", path);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = path + ".events[" + std::to_string(i) + "]";
    out.push_back({number(list[i], "t", at), text(list[i], "kind", at), text(list[i], "object", at),
                   text(list[i], "message", at)});
  }
  return out;
}

std::vector<Table> tables(const Json& o, const std::string& path) {
  std::vector<Table> out;
  const Json& list = array(o, "tables", path);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = path + ".tables[" + std::to_string(i) + "]";
    Table t;
    t.title = text(list[i], "title", at);
    t.columns = strings(list[i], "columns", at);
    const Json& rows = array(list[i], "rows", at);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const std::string r_at = at + ".rows[" + std::to_string(r) + "]";
      if (!rows[r].is_array()) bad(r_at, "expected a list");
      std::vector<std::string> row;
      for (std::size_t k = 0; k < rows[r].size(); ++k) {
        if (!rows[r][k].is_string()) bad(r_at + "[" + std::to_string(k) + "]", "not a string");
        row.push_back(rows[r][k].get<std::string>());
      }
      t.rows.push_back(std::move(row));
    }
    out.push_back(std::move(t));
  }
  return out;
}

// The release criteria as decided by the run that wrote them: read back, never re-decided.
CriterionResult criterion(const Json& j, const std::string& at) {
  CriterionResult c;
  member(j, "id", at);
  c.id = text(j, "id", at);
  c.text = text(j, "text", at);
  c.source = text(j, "source", at);
  const std::string level = text(j, "level", at);
  if (level != "required" && level != "advisory")
    bad(at + ".level", "'" + level + "' is neither required nor advisory");
  c.required = level == "required";
  member(j, "verdict", at);
  const std::string verdict = text(j, "verdict", at);
  bool known = false;
  for (auto v : {CriterionVerdict::Met, CriterionVerdict::NotMet, CriterionVerdict::NotVerified})
    if (verdict == to_string(v)) c.verdict = v, known = true;
  if (!known) bad(at + ".verdict", "unknown verdict '" + verdict + "'");
  c.reason = text(j, "reason", at);
  c.manual = text(j, "manual", at);
  c.awaits = text(j, "awaits", at);
  c.named_checks = strings(j, "named_checks", at);
  c.named_figures = strings(j, "named_figures", at);
  const Json& checks = array(j, "checks", at);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const std::string k_at = at + ".checks[" + std::to_string(i) + "]";
    c.checks.push_back({text(checks[i], "id", k_at), text(checks[i], "status", k_at),
                        text(checks[i], "message", k_at)});
  }
  const Json& figures = array(j, "figures", at);
  for (std::size_t i = 0; i < figures.size(); ++i) {
    const std::string f_at = at + ".figures[" + std::to_string(i) + "]";
    const Json& f = figures[i];
    c.figures.push_back({text(f, "expression", f_at), text(f, "check", f_at),
                         text(f, "figure", f_at), text(f, "measured", f_at),
                         text(f, "outcome", f_at)});
  }
  return c;
}

SignOff signoff(const Json& doc) {
  SignOff s;
  if (!doc.contains("signoff")) return s;
  const Json& j = doc["signoff"];
  const std::string at = "$.signoff";
  if (!j.is_object()) bad(at, "expected an object");
  s.config_file = text(j, "config_file", at);
  s.config_sha256 = text(j, "config_sha256", at);
  s.criteria_file = text(j, "criteria_file", at);
  s.criteria_sha256 = text(j, "criteria_sha256", at);
  s.versions_note = text(j, "versions_note", at);
  const Json& versions = array(j, "versions", at);
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const std::string v_at = at + ".versions[" + std::to_string(i) + "]";
    s.versions.push_back({text(versions[i], "name", v_at), text(versions[i], "value", v_at)});
  }
  return s;
}

CheckStatus status_of(const std::string& s, const std::string& path) {
  for (auto st : {CheckStatus::Passed, CheckStatus::Failed, CheckStatus::Warning,
                  CheckStatus::Skipped, CheckStatus::Inconclusive, CheckStatus::Error})
    if (s == to_string(st)) return st;
  bad(path, "unknown status '" + s + "'");
}

CheckResult check(const Json& j, const std::string& at) {
  CheckResult c;
  // What the writer writes is read back (an id may be empty, as a model's CheckResult may be).
  member(j, "id", at);
  c.id = text(j, "id", at);
  c.suite = text(j, "suite", at);
  c.classname = text(j, "classname", at);
  c.name = text(j, "name", at);
  c.title = text(j, "title", at);
  c.severity = text(j, "severity", at);
  c.reference = text(j, "reference", at);
  c.tags = strings(j, "tags", at);
  member(j, "status", at);
  c.status = status_of(text(j, "status", at), at + ".status");
  c.started_s = number(j, "started_s", at);
  c.seconds = number(j, "seconds", at);
  c.message = text(j, "message", at);
  c.detail = text(j, "detail", at);
  c.properties = properties(j, at);
  c.scalars = scalars(j, at);
  for (const auto& t : array(j, "thresholds", at))
    c.thresholds.push_back(
        {text(t, "expression", at), text(t, "measured", at), flag(t, "passed", at)});
  c.charts = charts(j, at);
  c.events = events(j, at);
  c.tables = tables(j, at);
  const Json& evidence = array(j, "evidence", at);
  for (std::size_t i = 0; i < evidence.size(); ++i) {
    const std::string e_at = at + ".evidence[" + std::to_string(i) + "]";
    const Json& e = evidence[i];
    Evidence ev;
    ev.method = text(e, "method", e_at);
    ev.url = text(e, "url", e_at);
    ev.status = static_cast<int>(number(e, "status", e_at));
    ev.elapsed_ms = number(e, "elapsed_ms", e_at);
    ev.request_excerpt = text(e, "request_excerpt", e_at);
    ev.response_excerpt = text(e, "response_excerpt", e_at);
    ev.note = text(e, "note", e_at);
    c.evidence.push_back(std::move(ev));
  }
  return c;
}

}  // namespace

RunResult parse_results_json(const std::string& text_in) {
  Json doc = Json::parse(text_in, nullptr, false);
  if (doc.is_discarded()) throw std::runtime_error("results: not valid JSON");
  if (!doc.is_object()) bad("$", "expected an object");
  const std::string schema = text(doc, "schema", "$");
  if (schema != "kgate/results/v2")
    bad("$.schema", "'" + schema + "' is not kgate/results/v2 (a kgate of another version?)");
  RunResult run;
  run.tool_version = text(doc, "tool_version", "$");
  run.target = text(doc, "target", "$");
  run.started_at = text(doc, "started_at", "$");
  run.started_epoch_ms = number(doc, "started_epoch_ms", "$");
  run.duration_seconds = number(doc, "duration_seconds", "$");
  run.aborted = flag(doc, "aborted", "$");
  run.abort_reason = text(doc, "abort_reason", "$");
  run.fail_on_skip = flag(doc, "fail_on_skip", "$");
  run.selection = text(doc, "selection", "$");
  run.properties = properties(doc, "$");
  run.suites = strings(doc, "suites", "$");
  run.verdict = text(doc, "verdict", "$");
  if (doc.contains("exit_code")) run.exit_code = static_cast<int>(number(doc, "exit_code", "$"));
  const Json& suites = array(doc, "suite_results", "$");
  for (std::size_t i = 0; i < suites.size(); ++i) {
    const std::string at = "$.suite_results[" + std::to_string(i) + "]";
    SuiteResult s;
    s.name = text(suites[i], "name", at);
    s.title = text(suites[i], "title", at);
    s.properties = properties(suites[i], at);
    s.scalars = scalars(suites[i], at);
    s.charts = charts(suites[i], at);
    s.events = events(suites[i], at);
    s.error = text(suites[i], "error", at);
    run.suite_results.push_back(std::move(s));
  }
  const Json& checks = array(doc, "checks", "$");
  for (std::size_t i = 0; i < checks.size(); ++i)
    run.checks.push_back(check(checks[i], "$.checks[" + std::to_string(i) + "]"));
  const Json& criteria = array(doc, "criteria", "$");
  for (std::size_t i = 0; i < criteria.size(); ++i)
    run.criteria.push_back(criterion(criteria[i], "$.criteria[" + std::to_string(i) + "]"));
  run.signoff = signoff(doc);
  return run;
}

}  // namespace kgate::reports
