#include "kgate/distributed/worker.hpp"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "barrier_server.hpp"
#include "kgate/distributed/report.hpp"
#include "kgate/log_block.hpp"
#include "kgate/redact.hpp"

namespace kgate::dist {

using nlohmann::json;
namespace {

using SystemClock = std::chrono::system_clock;
using SteadyClock = std::chrono::steady_clock;

std::int64_t unix_ns_now() {
  return std::chrono::duration_cast<Nanos>(SystemClock::now().time_since_epoch()).count();
}

// The start signal, as the barrier server receives it.
struct Barrier {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<std::int64_t> start_unix_ns;
  bool stop = false;
};

// Every latency sample (tests), per engine thread so that recording takes no lock; bounded.
class Samples {
 public:
  static constexpr std::size_t kPerThread = 200'000;
  Samples() : per_thread_(1024) {}
  void add(int thread, const load::Sample& s) {
    auto& v = per_thread_[static_cast<std::size_t>(thread) % per_thread_.size()];
    if (v.size() < kPerThread) v.push_back(s);
  }
  // Blocks of at most 20,000 samples each.
  std::vector<json> blocks(const std::string& run, int index) const {
    std::vector<json> out;
    json lat = json::array(), svc = json::array();
    auto flush = [&] {
      out.push_back({{"run", run}, {"index", index}, {"latency_us", lat}, {"service_us", svc}});
      lat = json::array();
      svc = json::array();
    };
    for (const auto& v : per_thread_)
      for (const auto& s : v) {
        lat.push_back(s.latency_us);
        svc.push_back(s.service_us);
        if (lat.size() == 20'000) flush();
      }
    if (!lat.empty() || out.empty()) flush();
    return out;
  }

 private:
  std::vector<std::vector<load::Sample>> per_thread_;
};

}  // namespace

int run_worker(const WorkerPlan& plan, int index, const WorkerHooks& hooks) {
  std::shared_ptr<const load::Executor> whole = load::make_executor(plan.executor);
  auto share = load::share_of(whole, index, plan.workers);
  const std::string who = "kgate load worker " + std::to_string(index) + "/" +
                          std::to_string(plan.workers) + " (run " + plan.run_id + ")";
  auto say = [&](const std::string& line) { hooks.out(redact(who + ": " + line) + "\n"); };

  Barrier barrier;
  auto handler = [&](const std::string& method, const std::string& path,
                     const std::string& body) -> detail::HttpAnswer {
    if (method == "GET" && path == "/ready") return {200, json{{"ready", true}}.dump()};
    if (method == "GET" && path == "/clock")
      return {200, json{{"now_unix_ns", unix_ns_now()}}.dump()};
    if (method != "POST" || (path != "/start" && path != "/stop"))
      return {404, json{{"error", "no such endpoint"}}.dump()};
    const json req = json::parse(body, nullptr, false);
    if (!req.is_object() || req.value("run", "") != plan.run_id)
      return {403, json{{"error", "not this run's signal"}}.dump()};
    std::lock_guard lock(barrier.mutex);
    if (path == "/stop") {
      barrier.stop = true;
      barrier.changed.notify_all();
      return {200, json{{"stopping", true}}.dump()};
    }
    const std::int64_t at = req.value("at_unix_ns", std::int64_t{0});
    const std::int64_t now = unix_ns_now();
    if (at <= 0 || at > now + std::chrono::duration_cast<Nanos>(std::chrono::hours(1)).count())
      return {400, json{{"error", "at_unix_ns is missing or more than an hour away"}}.dump()};
    if (barrier.start_unix_ns || barrier.stop)
      return {409, json{{"accepted", false}, {"error", "already started or stopped"}}.dump()};
    barrier.start_unix_ns = at;
    barrier.changed.notify_all();
    return {200, json{{"accepted", true}, {"now_unix_ns", now}}.dump()};
  };
  detail::BarrierServer server(hooks.port_override >= 0 ? hooks.port_override : plan.barrier_port,
                               handler);
  say(share->describe() + "; waiting for the start signal on port " +
      std::to_string(server.port()));

  // Wait for the signal (or a stop, SIGTERM, or the barrier's timeout).
  std::int64_t start_unix_ns = 0;
  {
    const auto deadline = SteadyClock::now() + plan.barrier_timeout;
    std::unique_lock lock(barrier.mutex);
    while (!barrier.start_unix_ns && !barrier.stop) {
      if (hooks.interrupted && hooks.interrupted()) {
        say("terminated before the start signal; nothing was sent");
        return kWorkerTerminated;
      }
      if (SteadyClock::now() >= deadline) {
        say("no start signal within " + load::format_duration(plan.barrier_timeout) +
            "; nothing was sent");
        return kWorkerNoStart;
      }
      barrier.changed.wait_for(lock, std::chrono::milliseconds(100));
    }
    if (!barrier.start_unix_ns) {
      say("stopped before the start signal; nothing was sent");
      return kWorkerDone;
    }
    start_unix_ns = *barrier.start_unix_ns;
  }
  // The barrier instant on this process's steady clock (the engine's).
  const auto t0 = SteadyClock::now() + Nanos(start_unix_ns - unix_ns_now());

  load::EngineOptions options = plan.engine;
  options.start_at = t0;
  options.interval_histograms = true;  // the coordinator merges each interval exactly
  if (!plan.ca_pem.empty()) {
    const auto path = std::filesystem::temp_directory_path() / ("kgate-ca-" + plan.run_id + ".pem");
    std::ofstream(path) << plan.ca_pem;
    options.ca_file = path.string();
  }
  Samples samples;
  if (plan.samples) options.on_sample = [&](int t, const load::Sample& s) { samples.add(t, s); };

  // Stops the engine on the coordinator's /stop or on SIGTERM.
  std::atomic<bool> stop{false}, finished{false};
  std::string stop_reason;
  std::thread watcher([&] {
    while (!finished.load()) {
      bool asked = false;
      {
        std::unique_lock lock(barrier.mutex);
        barrier.changed.wait_for(lock, std::chrono::milliseconds(50));
        asked = barrier.stop;
      }
      if (asked || (hooks.interrupted && hooks.interrupted())) {
        if (!stop.exchange(true))
          stop_reason = asked ? "stopped by the coordinator" : "terminated (SIGTERM)";
      }
    }
  });
  auto next_progress = plan.progress_every;
  auto progress = [&](const load::Progress& p) {
    if (Nanos(static_cast<std::int64_t>(p.elapsed_s * 1e9)) < next_progress) return;
    next_progress += plan.progress_every;
    hooks.out(log_block::encode(
        kProgressKind,
        progress_to_json({plan.run_id, index, p.elapsed_s, p.requests, p.failed, p.dropped})));
  };

  WorkerReport report;
  int code = kWorkerDone;
  try {
    report.result = hooks.scenario ? load::run_load(*share, *hooks.scenario, plan.request, options,
                                                    stop, progress)
                                   : load::run_load(*share, plan.request, options, stop, progress);
  } catch (const std::exception& e) {
    finished = true;
    barrier.changed.notify_all();
    watcher.join();
    say(std::string("cannot run: ") + e.what());
    return kWorkerUnreachable;
  }
  finished = true;
  barrier.changed.notify_all();
  watcher.join();
  if (stop.load() && stop_reason == "terminated (SIGTERM)") code = kWorkerTerminated;

  report.run_id = plan.run_id;
  report.index = index;
  report.workers = plan.workers;
  report.barrier_unix_ns = start_unix_ns;
  report.start_lag_s = report.result.start_lag_s;
  report.expected = share->open_model() ? share->total_iterations() : 0;
  report.stop_reason = stop_reason;
  report.result.target = redact_url(report.result.target);
  if (hooks.after_run) {
    try {
      report.scenario = hooks.after_run();
    } catch (const std::exception& e) {
      report.scenario = {{"cleanup_error", redact(e.what())}};
    }
  }
  if (plan.samples)
    for (const auto& block : samples.blocks(plan.run_id, index))
      hooks.out(log_block::encode(kSamplesKind, block));
  hooks.out(log_block::encode(kReportKind, report_to_json(report)));
  const auto& s = report.result.summary;
  say(std::to_string(s.requests) + " requests, " + std::to_string(s.failed) + " failed, " +
      std::to_string(s.dropped) + " dropped" +
      (stop_reason.empty() ? std::string() : " (" + stop_reason + ")"));
  return code;
}

}  // namespace kgate::dist
