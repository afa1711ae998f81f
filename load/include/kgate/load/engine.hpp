#pragma once
// The load engine: runs an executor's schedule against one HTTP origin with a pool of
// keep-alive connections, one io_context per thread, and measures every request. Asio and Beast
// stay inside engine.cpp; this header is cheap to include.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kgate/load/executor.hpp"
#include "kgate/load/histogram.hpp"
#include "kgate/load/threshold.hpp"

namespace kgate::load {

// One measured request, for callers that need the samples themselves (EngineOptions::on_sample).
struct Sample {
  std::uint64_t latency_us = 0;  // from the intended start (what the latency histogram records)
  std::int64_t service_us = -1;  // from the actual send; -1 when the request got no answer
};
using SampleFn = std::function<void(int thread, const Sample&)>;

// One HTTP request as the user writes it (wrk's -H/--body, k6's http.request).
struct RequestSpec {
  std::string method = "GET";
  std::string url;  // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// One request's outcome, for callers that measure windows of a run rather than its totals (the
// resilience suite asks how many requests failed while a pod was being replaced, and when).
struct RequestOutcome {
  enum class Transport : std::uint8_t {
    kAnswered,  // an HTTP answer came (any status)
    kConnect,   // the connection could not be opened (refused, unreachable)
    kTimeout,   // connect, request or total timeout
    kTls,       // the TLS handshake failed
    kOther,     // the connection broke mid-exchange (reset, closed before the answer)
    kDropped,   // open model: no connection was free within max_queue_wait; never sent
  };
  std::chrono::steady_clock::time_point intended;  // when it was due (open model) or began
  std::chrono::steady_clock::time_point done;      // when it was answered or failed
  int status = 0;                                  // the HTTP status; 0 without an answer
  Transport transport = Transport::kAnswered;
  int sys_error = 0;      // the errno behind kConnect/kOther when known (ECONNREFUSED, ...)
  std::uint32_t tag = 0;  // the scenario's tag for the request (0 for a fixed request)
};

// Receives every request's outcome, on the engine thread that ran it (`thread` is that thread's
// index, so per-thread storage needs no lock). It is on the hot path: keep it short, never block
// and never throw. Without an observer the engine pays one branch per request.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void observe(int thread, const RequestOutcome& outcome) noexcept = 0;
};

struct EngineOptions {
  int threads = 0;       // 0: one per core
  int connections = 64;  // open model: cap on open connections over all threads
  Nanos connect_timeout = std::chrono::seconds(3);
  Nanos request_timeout = std::chrono::seconds(10);
  // Bound on one whole iteration, from its actual start (connecting if the connection is not
  // open, else writing) to the last byte of the answer, connect time included. Past it the
  // request is a `timeout` error, as for the other two. 0 (the default): off.
  Nanos total_timeout = Nanos::zero();
  // Open model: an iteration that cannot start on a free connection within this time of its
  // intended start is dropped (counted, never hidden). Until then it waits, and the wait counts
  // in its latency, which is measured from the intended start (coordinated omission corrected).
  Nanos max_queue_wait = std::chrono::seconds(1);
  bool insecure = false;                     // skip TLS certificate verification
  std::string ca_file;                       // extra trust anchors (PEM)
  Nanos interval = std::chrono::seconds(1);  // time series resolution
  // When the schedule's time 0 is (a distributed worker's start barrier); unset: as soon as the
  // engine is set up. Iterations due before the engine is running are sent at once, their
  // latency still measured from their intended times.
  std::optional<std::chrono::steady_clock::time_point> start_at;
  // Keep each interval's latency histograms (serialized) in the series, so that the series of
  // several runs merge exactly (distributed workers). Off: only the interval's percentiles.
  bool interval_histograms = false;
  // Called on the engine's threads with every latency the histograms record (tests and
  // diagnostics; unset in normal runs, where it costs one branch per request).
  SampleFn on_sample;
  // Per-request outcomes (not owned; must outlive the run). Null: none are reported.
  RequestObserver* observer = nullptr;
  // Before a kept-alive connection is reused, peek at it (one non-blocking recv) and reconnect
  // when the server has closed it meanwhile, as clients that watch their idle connections do
  // (Go's transport reads them). Off by default: it costs a system call per request. Without
  // it, a request sent on a connection the server closed while idle fails (`other`).
  bool check_idle_connections = false;
  // False: every request on a new connection, as many independent users are, so a Service's
  // L4 balancing spreads them over every Ready pod (a kept-alive connection stays with one pod
  // and never reaches a new one). Costs a connect per request.
  bool reuse_connections = true;
};

// One interval of the time series.
struct IntervalStats {
  double start_s = 0;  // from the start of the run
  std::uint64_t requests = 0, completed = 0, failed = 0, dropped = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::map<std::string, std::uint64_t> errors;                   // by class
  std::uint64_t p50_us = 0, p95_us = 0, p99_us = 0, max_us = 0;  // corrected latency
  std::uint64_t service_p99_us = 0;
  double rps = 0;  // completed per second in this interval
  // Histogram::serialize() of the interval's latencies; only with interval_histograms.
  std::string latency_histogram, service_histogram;
};

struct LoadResult {
  LoadSummary summary;
  std::vector<IntervalStats> series;
  std::string executor;  // executor->describe()
  std::string target;    // METHOD URL
  int threads = 0;
  std::uint64_t connections_opened = 0;
  int peak_connections = 0;
  bool interrupted = false;
  // How long after the schedule's time 0 the engine's threads were all running (0 when they
  // were waiting for it, as with EngineOptions::start_at in the future).
  double start_lag_s = 0;
};

// What a progress line shows; called from the engine's reporter thread about every interval.
struct Progress {
  double elapsed_s = 0, total_s = 0;
  const IntervalStats* last = nullptr;  // the last complete interval (null before the first)
  std::uint64_t requests = 0, failed = 0, dropped = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

// What each iteration sends when it is not one fixed request (the todo mix): builds the next
// request on a thread and may read its answer. Called from the engine's threads, each with its
// own `thread` index, so per-thread state needs no lock.
class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual void start(int /*threads*/) {}
  // Writes the next request's bytes into `wire`; the returned tag comes back with its answer.
  virtual std::uint32_t next(int thread, std::string& wire) = 0;
  virtual bool wants_body(std::uint32_t /*tag*/) const { return false; }
  // status 0: the request failed without an answer.
  virtual void answered(int /*thread*/, std::uint32_t /*tag*/, int /*status*/,
                        std::string_view /*body*/) {}
};

// Runs `executor` against `request` until the schedule ends or `stop` becomes true (then
// in-flight requests are abandoned and the result is marked interrupted). Throws
// std::invalid_argument for a bad URL and std::runtime_error when the target's host cannot be
// resolved or the TLS setup fails; failures of individual requests are measured, not thrown.
LoadResult run_load(const Executor& executor, const RequestSpec& request,
                    const EngineOptions& options, const std::atomic<bool>& stop,
                    const ProgressFn& progress = {});
// The same with a scenario building the requests; `origin` (scheme://host:port) is where the
// connections go, `request.url`'s only use.
LoadResult run_load(const Executor& executor, Scenario& scenario, const RequestSpec& origin,
                    const EngineOptions& options, const std::atomic<bool>& stop,
                    const ProgressFn& progress = {});

}  // namespace kgate::load
