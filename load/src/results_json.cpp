#include "kgate/load/results_json.hpp"

#include <cstdio>

#include "kgate/redact.hpp"

namespace kgate::load {

using nlohmann::json;

std::string format_micros(std::uint64_t us) {
  char buf[32];
  if (us < 1000)
    std::snprintf(buf, sizeof buf, "%lluus", static_cast<unsigned long long>(us));
  else if (us < 1000000)
    std::snprintf(buf, sizeof buf, "%.2fms", static_cast<double>(us) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(us) / 1e6);
  return buf;
}

namespace {

json distribution(const Histogram& h) {
  if (h.count() == 0) return {{"count", 0}};
  json out = {{"count", h.count()},
              {"min_us", h.min()},
              {"mean_us", h.mean()},
              {"max_us", h.max()},
              {"stddev_us", h.stddev()}};
  for (auto [name, q] : {std::pair{"p50", 50.0},
                         {"p90", 90.0},
                         {"p95", 95.0},
                         {"p99", 99.0},
                         {"p99.9", 99.9},
                         {"p99.99", 99.99}})
    out[std::string(name) + "_us"] = h.percentile(q);
  out["histogram"] = h.to_base64();
  return out;
}

}  // namespace

json to_json(const LoadResult& r, const std::vector<ThresholdResult>& thresholds) {
  const auto& s = r.summary;
  json status = json::object();
  for (const auto& [code, n] : s.status_codes) status[std::to_string(code)] = n;
  json series = json::array();
  for (const auto& i : r.series)
    series.push_back({{"t", i.start_s},
                      {"requests", i.requests},
                      {"completed", i.completed},
                      {"failed", i.failed},
                      {"dropped", i.dropped},
                      {"rps", i.rps},
                      {"bytes_in", i.bytes_in},
                      {"bytes_out", i.bytes_out},
                      {"errors", i.errors},
                      {"p50_us", i.p50_us},
                      {"p95_us", i.p95_us},
                      {"p99_us", i.p99_us},
                      {"max_us", i.max_us},
                      {"service_p99_us", i.service_p99_us}});
  json th = json::array();
  for (const auto& t : thresholds)
    th.push_back({{"threshold", redact(t.threshold ? t.threshold->text : std::string())},
                  {"passed", t.passed},
                  {"measured", t.measured},
                  {"measured_text", redact(t.measured_text)},
                  {"message", redact(t.message)}});
  // Every string passes through redaction: the target is the user's URL, whose query may
  // carry a token (?access_token=...), so only its shape is kept.
  return {{"schema", "kgate/load/v1"},
          {"target", redact_url(r.target)},
          {"executor", redact(r.executor)},
          {"threads", r.threads},
          {"interrupted", r.interrupted},
          {"duration_s", s.duration_s},
          {"requests", s.requests},
          {"completed", s.completed},
          {"failed", s.failed},
          {"dropped", s.dropped},
          {"rps", s.duration_s > 0 ? static_cast<double>(s.completed) / s.duration_s : 0.0},
          {"error_rate", s.requests > 0 ? static_cast<double>(s.failed) / s.requests : 0.0},
          {"bytes_in", s.bytes_in},
          {"bytes_out", s.bytes_out},
          {"errors", s.errors},
          {"status_codes", status},
          {"connections", {{"opened", r.connections_opened}, {"peak", r.peak_connections}}},
          {"latency", distribution(s.latency)},
          {"service_time", distribution(s.service)},
          {"series", series},
          {"thresholds", th}};
}

}  // namespace kgate::load
