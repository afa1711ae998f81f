// results.json: schema "kgate/results/v1", described in docs/results-schema.json and
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

Json check_json(const CheckResult& c) {
  Json properties = Json::object();
  for (const auto& p : c.properties) properties[p.name] = p.value;  // a repeated name: last wins
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
  Json out{{"suite", c.suite},
           {"classname", c.classname},
           {"name", c.name},
           {"title", c.title},
           {"status", to_string(c.status)},
           {"seconds", rounded(c.seconds, 1000)},
           {"message", c.message},
           {"detail", c.detail},
           {"severity", c.severity},
           {"owasp", c.owasp},
           {"properties", std::move(properties)},
           {"evidence", std::move(evidence)}};
  if (!c.charts.empty()) {
    Json charts = Json::array();
    for (const auto& ch : c.charts) {
      Json series = Json::array();
      for (const auto& s : ch.series) series.push_back({{"name", s.name}, {"values", s.values}});
      charts.push_back({{"title", ch.title},
                        {"unit", ch.unit},
                        {"interval_s", ch.interval_s},
                        {"labels", ch.labels},
                        {"series", std::move(series)}});
    }
    out["charts"] = std::move(charts);
  }
  return out;
}

}  // namespace

std::string json_text(const RunResult& raw) {
  const RunResult run = detail::cleaned(raw);
  const detail::Counts all = detail::counts_for(run, nullptr);

  Json suites = Json::array();
  for (const auto& s : detail::suite_order(run)) suites.push_back(s);
  Json checks = Json::array();
  for (const auto& c : run.checks) checks.push_back(check_json(c));

  const Json doc{{"schema", "kgate/results/v1"},
                 {"tool_version", detail::tool_version(run)},
                 {"target", run.target},
                 {"started_at", run.started_at},
                 {"duration_seconds", rounded(run.duration_seconds, 1000)},
                 {"verdict", detail::verdict_of(run)},
                 {"exit_code", run.exit_code},
                 {"aborted", run.aborted},
                 {"abort_reason", run.abort_reason},
                 {"suites", std::move(suites)},
                 {"summary",
                  {{"total", all.total},
                   {"passed", all.passed},
                   {"failed", all.failed},
                   {"skipped", all.skipped},
                   {"warnings", all.warnings}}},
                 {"checks", std::move(checks)}};
  // Strings are valid UTF-8 after cleaning; replace is a second line of defence.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

void write_json(const RunResult& run, const std::string& path) {
  write_file_atomically(path, json_text(run));
}

}  // namespace kgate::reports
