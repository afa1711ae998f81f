#include "kgate/distributed/report.hpp"

#include <algorithm>
#include <stdexcept>

#include "kgate/base64.hpp"
#include "kgate/load/histogram.hpp"
#include "kgate/log_block.hpp"

namespace kgate::dist {

using load::Histogram;
using load::IntervalStats;
using load::LoadResult;
using nlohmann::json;

namespace {

json counts_json(const std::map<std::string, std::uint64_t>& m) {
  json out = json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

std::map<std::string, std::uint64_t> counts_of(const json& j, const char* what) {
  std::map<std::string, std::uint64_t> out;
  if (j.is_null()) return out;
  if (!j.is_object()) throw std::invalid_argument(std::string(what) + " is not an object");
  for (const auto& [k, v] : j.items()) {
    if (!v.is_number_unsigned())
      throw std::invalid_argument(std::string(what) + "." + k + " is not a count");
    out[k] = v.get<std::uint64_t>();
  }
  return out;
}

std::uint64_t count(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned())
    throw std::invalid_argument(std::string("report.") + key + " is missing or not a count");
  return it->get<std::uint64_t>();
}

Histogram histogram(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    throw std::invalid_argument(std::string("report.") + key + " (a histogram) is missing");
  try {
    return Histogram::from_base64(it->get<std::string>());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("report.") + key + ": " + e.what());
  }
}

std::string b64_or_empty(const std::string& bytes) {
  return bytes.empty() ? std::string() : base64_encode(bytes);
}

// An interval's percentiles from its histograms.
void fill_percentiles(IntervalStats& s, const Histogram& latency, const Histogram& service) {
  s.p50_us = s.p95_us = s.p99_us = s.max_us = s.service_p99_us = 0;
  if (latency.count() > 0) {
    s.p50_us = latency.percentile(50);
    s.p95_us = latency.percentile(95);
    s.p99_us = latency.percentile(99);
    s.max_us = latency.max();
  }
  if (service.count() > 0) s.service_p99_us = service.percentile(99);
}

}  // namespace

json report_to_json(const WorkerReport& r) {
  const auto& res = r.result;
  const auto& s = res.summary;
  json series = json::array();
  for (const auto& i : res.series)
    series.push_back({{"requests", i.requests},
                      {"completed", i.completed},
                      {"failed", i.failed},
                      {"dropped", i.dropped},
                      {"bytes_in", i.bytes_in},
                      {"bytes_out", i.bytes_out},
                      {"errors", counts_json(i.errors)},
                      {"latency", b64_or_empty(i.latency_histogram)},
                      {"service", b64_or_empty(i.service_histogram)}});
  json status = json::object();
  for (const auto& [code, n] : s.status_codes) status[std::to_string(code)] = n;
  const double interval =
      res.series.size() > 1 ? res.series[1].start_s - res.series[0].start_s : 1.0;
  return {{"schema", "kgate/load-worker/v1"},
          {"run", r.run_id},
          {"index", r.index},
          {"workers", r.workers},
          {"barrier_unix_ns", r.barrier_unix_ns},
          {"start_lag_s", r.start_lag_s},
          {"expected", r.expected},
          {"stop_reason", r.stop_reason},
          {"executor", res.executor},
          {"target", res.target},
          {"threads", res.threads},
          {"connections_opened", res.connections_opened},
          {"peak_connections", res.peak_connections},
          {"interrupted", res.interrupted},
          {"duration_s", s.duration_s},
          {"requests", s.requests},
          {"completed", s.completed},
          {"failed", s.failed},
          {"dropped", s.dropped},
          {"bytes_in", s.bytes_in},
          {"bytes_out", s.bytes_out},
          {"errors", counts_json(s.errors)},
          {"status_codes", status},
          {"latency", s.latency.to_base64()},
          {"service", s.service.to_base64()},
          {"interval_s", interval},
          {"series", series},
          {"scenario", r.scenario}};
}

WorkerReport report_from_json(const json& j) {
  if (!j.is_object() || j.value("schema", "") != "kgate/load-worker/v1")
    throw std::invalid_argument("not a kgate/load-worker/v1 report");
  WorkerReport r;
  r.run_id = j.value("run", "");
  r.index = j.value("index", -1);
  r.workers = j.value("workers", 0);
  if (r.run_id.empty() || r.index < 0 || r.workers < 1 || r.index >= r.workers)
    throw std::invalid_argument("report: run, index or workers is missing or out of range");
  r.barrier_unix_ns = j.value("barrier_unix_ns", std::int64_t{0});
  r.start_lag_s = j.value("start_lag_s", 0.0);
  r.expected = j.value("expected", std::uint64_t{0});
  r.stop_reason = j.value("stop_reason", "");
  r.scenario = j.value("scenario", json::object());
  LoadResult& res = r.result;
  res.executor = j.value("executor", "");
  res.target = j.value("target", "");
  res.threads = j.value("threads", 0);
  res.connections_opened = j.value("connections_opened", std::uint64_t{0});
  res.peak_connections = j.value("peak_connections", 0);
  res.interrupted = j.value("interrupted", false);
  res.start_lag_s = r.start_lag_s;
  auto& s = res.summary;
  s.duration_s = j.value("duration_s", 0.0);
  s.requests = count(j, "requests");
  s.completed = count(j, "completed");
  s.failed = count(j, "failed");
  s.dropped = count(j, "dropped");
  s.bytes_in = j.value("bytes_in", std::uint64_t{0});
  s.bytes_out = j.value("bytes_out", std::uint64_t{0});
  s.errors = counts_of(j.value("errors", json()), "report.errors");
  for (const auto& [code, n] : counts_of(j.value("status_codes", json()), "report.status_codes"))
    s.status_codes[std::stoi(code)] = n;
  s.latency = histogram(j, "latency");
  s.service = histogram(j, "service");
  if (s.latency.count() < s.completed)
    throw std::invalid_argument("report: fewer latencies than completed requests");
  const double interval = j.value("interval_s", 1.0);
  if (!(interval > 0)) throw std::invalid_argument("report.interval_s must be > 0");
  const json series = j.value("series", json::array());
  for (std::size_t i = 0; i < series.size(); ++i) {
    const json& e = series[i];
    IntervalStats st;
    st.start_s = interval * static_cast<double>(i);
    st.requests = count(e, "requests");
    st.completed = count(e, "completed");
    st.failed = count(e, "failed");
    st.dropped = count(e, "dropped");
    st.bytes_in = e.value("bytes_in", std::uint64_t{0});
    st.bytes_out = e.value("bytes_out", std::uint64_t{0});
    st.errors = counts_of(e.value("errors", json()), "report.series.errors");
    for (auto [key, out] : {std::pair{"latency", &st.latency_histogram},
                            std::pair{"service", &st.service_histogram}}) {
      const std::string b64 = e.value(key, "");
      if (b64.empty()) continue;
      auto bytes = base64_decode(b64);
      if (!bytes) throw std::invalid_argument("report.series: a histogram is not base64");
      *out = *bytes;
    }
    Histogram lat =
        st.latency_histogram.empty() ? Histogram() : Histogram::deserialize(st.latency_histogram);
    Histogram svc =
        st.service_histogram.empty() ? Histogram() : Histogram::deserialize(st.service_histogram);
    fill_percentiles(st, lat, svc);
    st.rps = static_cast<double>(st.completed) / interval;
    res.series.push_back(std::move(st));
  }
  return r;
}

json progress_to_json(const ProgressReport& p) {
  return {{"run", p.run_id},        {"index", p.index},   {"t", p.t},
          {"requests", p.requests}, {"failed", p.failed}, {"dropped", p.dropped}};
}

std::optional<ProgressReport> progress_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  ProgressReport p;
  p.run_id = j.value("run", "");
  p.index = j.value("index", -1);
  p.t = j.value("t", 0.0);
  p.requests = j.value("requests", std::uint64_t{0});
  p.failed = j.value("failed", std::uint64_t{0});
  p.dropped = j.value("dropped", std::uint64_t{0});
  return p;
}

std::optional<WorkerReport> find_report(std::string_view log, const std::string& run_id, int index,
                                        std::vector<std::string>* problems) {
  auto blocks = log_block::decode_all(log, kReportKind, problems);
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    try {
      WorkerReport r = report_from_json(it->payload);
      if (r.run_id == run_id && r.index == index) return r;
    } catch (const std::exception& e) {
      if (problems) problems->push_back(std::string("a report is unreadable: ") + e.what());
    }
  }
  return std::nullopt;
}

std::optional<ProgressReport> find_progress(std::string_view log, const std::string& run_id,
                                            int index) {
  auto blocks = log_block::decode_all(log, kProgressKind);
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    auto p = progress_from_json(it->payload);
    if (p && p->run_id == run_id && p->index == index) return p;
  }
  return std::nullopt;
}

LoadResult merge_results(const std::vector<const LoadResult*>& parts, const std::string& executor,
                         const std::string& target) {
  LoadResult out;
  out.executor = executor;
  out.target = target;
  auto& s = out.summary;
  std::size_t intervals = 0;
  for (const LoadResult* p : parts) {
    const auto& ps = p->summary;
    s.duration_s = std::max(s.duration_s, ps.duration_s);
    s.requests += ps.requests;
    s.completed += ps.completed;
    s.failed += ps.failed;
    s.dropped += ps.dropped;
    s.bytes_in += ps.bytes_in;
    s.bytes_out += ps.bytes_out;
    for (const auto& [k, v] : ps.errors) s.errors[k] += v;
    for (const auto& [k, v] : ps.status_codes) s.status_codes[k] += v;
    s.latency.merge(ps.latency);
    s.service.merge(ps.service);
    out.threads += p->threads;
    out.connections_opened += p->connections_opened;
    out.peak_connections += p->peak_connections;  // an upper bound: peaks need not coincide
    out.interrupted = out.interrupted || p->interrupted;
    out.start_lag_s = std::max(out.start_lag_s, p->start_lag_s);
    intervals = std::max(intervals, p->series.size());
  }
  double interval = 1.0;
  for (const LoadResult* p : parts)
    if (p->series.size() > 1) interval = p->series[1].start_s - p->series[0].start_s;
  for (std::size_t i = 0; i < intervals; ++i) {
    IntervalStats m;
    m.start_s = interval * static_cast<double>(i);
    Histogram latency, service;
    bool exact = true;
    for (const LoadResult* p : parts) {
      if (i >= p->series.size()) continue;
      const IntervalStats& e = p->series[i];
      m.requests += e.requests;
      m.completed += e.completed;
      m.failed += e.failed;
      m.dropped += e.dropped;
      m.bytes_in += e.bytes_in;
      m.bytes_out += e.bytes_out;
      for (const auto& [k, v] : e.errors) m.errors[k] += v;
      if (!e.latency_histogram.empty()) latency.merge(Histogram::deserialize(e.latency_histogram));
      if (!e.service_histogram.empty()) service.merge(Histogram::deserialize(e.service_histogram));
      if (e.latency_histogram.empty() && e.completed > 0) exact = false;
    }
    fill_percentiles(m, latency, service);
    if (!exact) {  // an upper bound from the parts' own figures
      for (const LoadResult* p : parts) {
        if (i >= p->series.size()) continue;
        const IntervalStats& e = p->series[i];
        m.p50_us = std::max(m.p50_us, e.p50_us);
        m.p95_us = std::max(m.p95_us, e.p95_us);
        m.p99_us = std::max(m.p99_us, e.p99_us);
        m.max_us = std::max(m.max_us, e.max_us);
        m.service_p99_us = std::max(m.service_p99_us, e.service_p99_us);
      }
    } else {
      m.latency_histogram = latency.count() ? latency.serialize() : std::string();
      m.service_histogram = service.count() ? service.serialize() : std::string();
    }
    m.rps = static_cast<double>(m.completed) / interval;
    out.series.push_back(std::move(m));
  }
  return out;
}

}  // namespace kgate::dist
