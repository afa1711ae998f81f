// results.json: schema "kgate/results/v2", described in docs/results-schema.json and
// docs/reports.md. Keys keep a fixed order so that diffs between runs stay readable.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "kgate/reports.hpp"
#include "text.hpp"

namespace kgate::reports {
namespace {

using Json = nlohmann::ordered_json;

// Rounds to the precision a report needs, so that 0.1234999 prints as 0.123.
double rounded(double value, double scale) {
  return std::round(value * scale) / scale;
}

Json properties_json(const std::vector<Property>& props) {
  Json out = Json::object();
  for (const auto& p : props) out[p.name] = p.value;  // a repeated name: last wins
  return out;
}

Json scalars_json(const std::vector<Scalar>& scalars) {
  Json out = Json::array();
  for (const auto& m : scalars)
    out.push_back({{"name", m.name}, {"value", rounded(m.value, 1e6)}, {"unit", m.unit}});
  return out;
}

Json charts_json(const std::vector<Chart>& charts) {
  Json out = Json::array();
  for (const auto& ch : charts) {
    Json series = Json::array();
    for (const auto& s : ch.series) {
      Json t = Json::array();
      for (double x : s.t) t.push_back(rounded(x, 1000));
      series.push_back({{"name", s.name}, {"t", std::move(t)}, {"values", s.values}});
    }
    out.push_back({{"title", ch.title},
                   {"unit", ch.unit},
                   {"labels", ch.labels},
                   {"timeline", ch.timeline},
                   {"series", std::move(series)}});
  }
  return out;
}

Json events_json(const std::vector<Event>& events) {
  Json out = Json::array();
  for (const auto& e : events)
    out.push_back({{"t", rounded(e.t, 1000)},
                   {"kind", e.kind},
                   {"object", e.object},
                   {"message", e.message}});
  return out;
}

Json tables_json(const std::vector<Table>& tables) {
  Json out = Json::array();
  for (const auto& t : tables)
    out.push_back({{"title", t.title}, {"columns", t.columns}, {"rows", t.rows}});
  return out;
}

Json check_json(const CheckResult& c) {
  Json evidence = Json::array();
  for (const auto& e : c.evidence) {
    evidence.push_back({{"method", e.method},
                        {"url", e.url},
                        {"status", e.status},
                        {"elapsed_ms", rounded(e.elapsed_ms, 1000)},
                        {"request_excerpt", e.request_excerpt},
                        {"response_excerpt", e.response_excerpt},
                        {"note", e.note}});
  }
  Json thresholds = Json::array();
  for (const auto& t : c.thresholds)
    thresholds.push_back(
        {{"expression", t.expression}, {"measured", t.measured}, {"passed", t.passed}});
  return Json{{"id", c.id},
              {"suite", c.suite},
              {"classname", c.classname},
              {"name", c.name},
              {"title", c.title},
              {"severity", c.severity},
              {"reference", c.reference},
              {"tags", c.tags},
              {"status", to_string(c.status)},
              {"started_s", rounded(c.started_s, 1000)},
              {"seconds", rounded(c.seconds, 1000)},
              {"message", c.message},
              {"detail", c.detail},
              {"properties", properties_json(c.properties)},
              {"scalars", scalars_json(c.scalars)},
              {"thresholds", std::move(thresholds)},
              {"charts", charts_json(c.charts)},
              {"events", events_json(c.events)},
              {"tables", tables_json(c.tables)},
              {"evidence", std::move(evidence)}};
}

Json suite_json(const SuiteResult& s) {
  return Json{{"name", s.name},
              {"title", s.title},
              {"properties", properties_json(s.properties)},
              {"scalars", scalars_json(s.scalars)},
              {"charts", charts_json(s.charts)},
              {"events", events_json(s.events)},
              {"error", s.error}};
}

Json criterion_json(const CriterionResult& c) {
  Json checks = Json::array();
  for (const auto& k : c.checks)
    checks.push_back({{"id", k.id}, {"status", k.status}, {"message", k.message}});
  Json figures = Json::array();
  for (const auto& f : c.figures)
    figures.push_back({{"expression", f.expression},
                       {"check", f.check},
                       {"figure", f.figure},
                       {"measured", f.measured},
                       {"outcome", f.outcome}});
  return Json{{"id", c.id},
              {"text", c.text},
              {"source", c.source},
              {"level", c.required ? "required" : "advisory"},
              {"verdict", to_string(c.verdict)},
              {"gates", gates(c)},
              {"reason", c.reason},
              {"manual", c.manual},
              {"awaits", c.awaits},
              {"named_checks", c.named_checks},
              {"named_figures", c.named_figures},
              {"checks", std::move(checks)},
              {"figures", std::move(figures)}};
}

Json signoff_json(const SignOff& s) {
  Json versions = Json::array();
  for (const auto& v : s.versions) versions.push_back({{"name", v.name}, {"value", v.value}});
  return Json{{"config_file", s.config_file},     {"config_sha256", s.config_sha256},
              {"criteria_file", s.criteria_file}, {"criteria_sha256", s.criteria_sha256},
              {"versions", std::move(versions)},  {"versions_note", s.versions_note}};
}

}  // namespace

std::string json_text(const RunResult& raw) {
  const RunResult run = detail::cleaned(raw);
  const detail::Counts all = detail::counts_for(run, nullptr);

  Json suites = Json::array();
  for (const auto& s : detail::suite_order(run)) suites.push_back(s);
  Json checks = Json::array();
  for (const auto& c : run.checks) checks.push_back(check_json(c));
  Json suite_results = Json::array();
  for (const auto& s : run.suite_results) suite_results.push_back(suite_json(s));
  Json criteria = Json::array();
  for (const auto& c : run.criteria) criteria.push_back(criterion_json(c));

  const Json doc{{"schema", "kgate/results/v2"},
                 {"tool_version", detail::tool_version(run)},
                 {"target", run.target},
                 {"started_at", run.started_at},
                 {"started_epoch_ms", rounded(run.started_epoch_ms, 1)},
                 {"duration_seconds", rounded(run.duration_seconds, 1000)},
                 {"verdict", detail::verdict_of(run)},
                 {"exit_code", run.exit_code},
                 {"aborted", run.aborted},
                 {"abort_reason", run.abort_reason},
                 {"fail_on_skip", run.fail_on_skip},
                 {"selection", run.selection},
                 {"properties", properties_json(run.properties)},
                 {"suites", std::move(suites)},
                 {"summary",
                  {{"total", all.total},
                   {"passed", all.passed},
                   {"failed", all.failed},
                   {"warnings", all.warnings},
                   {"skipped", all.skipped},
                   {"inconclusive", all.inconclusive},
                   {"errors", all.errors}}},
                 {"suite_results", std::move(suite_results)},
                 {"checks", std::move(checks)},
                 {"criteria", std::move(criteria)},
                 {"signoff", signoff_json(run.signoff)}};
  // Strings are valid UTF-8 after cleaning; replace is a second line of defence.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

void write_json(const RunResult& run, const std::string& path) {
  write_file_atomically(path, json_text(run));
}

}  // namespace kgate::reports
