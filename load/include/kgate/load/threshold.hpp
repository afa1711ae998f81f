#pragma once
// Thresholds: the pass/fail gates of a load run, written like k6's but checked strictly.
//
//   <metric> <op> <value>        e.g.  "p95 < 300ms"  "error_rate <= 0.5%"  "rps >= 200"
//
// Design. parse_threshold() does all the checking up front (a gate must never pass because it
// was mistyped): an unknown metric, a unit that does not fit the metric, a percentile outside
// (0, 100], a missing part or trailing text throws ThresholdError carrying the 0-based offset of
// the problem in the expression and, for misspelled names, a "did you mean" suggestion (edit
// distance over the metric names). Values are normalized at parse time: microseconds for latency
// metrics (a unit is required: us, ms, s, m, h, or combinations such as 1m30s), fractions for
// rates ("1%" or a bare fraction "0.01"), plain numbers for counts and rps. evaluate() then only
// measures and compares, and refuses to pass on a run that measured nothing.
//
// Metrics (latency is the corrected latency from the intended send time unless "service."):
//   pNN, pNN.N...      percentile, 0 < NN <= 100 (p100 = max); latency.pNN is the same
//   avg|mean, min, max corrected latency statistics (also latency.avg, ...)
//   service.pNN, service.avg|mean, service.min, service.max   service time (from the real send)
//   error_rate         failed / requests; error_rate.<class> = errors of that class / requests
//   errors | failed    failed requests (count); errors.<class> for one class
//   dropped_rate       dropped / (requests + dropped)
//   rps                completed / duration_s
//   requests, completed, dropped, status.<code>   counts
// Error classes: connect, timeout, tls, 4xx, 5xx, closed (the server closed or reset the
// connection before answering), other.
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kgate/load/histogram.hpp"

namespace kgate::load {

// What a load run measured, as thresholds and reports see it.
struct LoadSummary {
  double duration_s = 0;
  std::uint64_t requests = 0;   // requests sent (answered or not)
  std::uint64_t completed = 0;  // requests that got an HTTP answer
  std::uint64_t failed = 0;     // transport errors + HTTP status >= 400 (see errors)
  std::uint64_t dropped = 0;    // iterations the open model could not start (no free connection)
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::map<std::string, std::uint64_t>
      errors;  // by class: connect, timeout, tls, 4xx, 5xx, closed, other
  std::map<int, std::uint64_t> status_codes;
  Histogram latency;  // corrected: from the intended send time
  Histogram service;  // from the actual send time
};

enum class Op { kLt, kLe, kGt, kGe, kEq, kNe };
std::string_view op_text(Op op);  // "<", "<=", ...

// The kind of quantity a metric is; it decides the unit its value is written in.
enum class MetricKind {
  kLatency,  // value in microseconds
  kRate,     // value as a fraction (0.01 = 1%)
  kCount,    // a whole number
  kRps,      // per second
};

struct Threshold {
  std::string text;    // the expression, trimmed
  std::string metric;  // canonical name: "p95" (also for latency.p95), "avg" (for mean),
                       // "service.p99.9", "error_rate", "errors.5xx", "status.503", ...
  Op op = Op::kLt;
  double value = 0;  // normalized: microseconds for latency, a fraction for rates
  MetricKind kind = MetricKind::kCount;
};

struct ThresholdError : std::invalid_argument {
  ThresholdError(const std::string& message, std::size_t at)
      : std::invalid_argument(message), offset(at) {}
  std::size_t offset;  // 0-based character offset in the expression where the problem starts
};

// Throws ThresholdError (see above).
Threshold parse_threshold(std::string_view text);

struct ThresholdResult {
  const Threshold* threshold = nullptr;  // the evaluated threshold (not owned)
  bool passed = false;
  double measured = 0;        // in the threshold's normalized unit
  std::string measured_text;  // "312.4ms", "0.8%", "512.3"; "n/a" when nothing was measured
  std::string limit_text;     // the value in the same style: "300ms", "1%"
  std::string message;        // "p95 312.4ms is not < 300ms", "p95 212ms < 300ms",
                              // "p95 cannot pass: no request completed"
};

// Measures t's metric on s and compares. Never passes on an empty run: with no requests every
// threshold fails ("no requests were made"), latency and rps thresholds fail when no request
// completed. Throws ThresholdError only for a Threshold that parse_threshold() did not produce.
ThresholdResult evaluate(const Threshold& t, const LoadSummary& s);

}  // namespace kgate::load
