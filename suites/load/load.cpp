// Load: drive the configured request with the configured executor, then gate on each threshold
// (one check per threshold, carrying the measured value). The run itself is a check too, so a
// target that cannot take any load fails visibly rather than making every threshold skip.
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <set>

#include "kgate/check.hpp"
#include "kgate/distributed/coordinator.hpp"
#include "kgate/distributed/todo_mix.hpp"
#include "kgate/distributed_load.hpp"
#include "kgate/http.hpp"
#include "kgate/load/engine.hpp"
#include "kgate/load/results_json.hpp"
#include "kgate/load/todo_mix.hpp"
#include "kgate/runner.hpp"

#include <fmt/format.h>
#include "kgate/url.hpp"

namespace kgate {
namespace {

using load::format_micros;

constexpr const char* kRunId = "load.Run.Scenario";

std::string base_url(const Config& c) {
  const auto& l = c.load;
  if (l.base == "frontend") return c.target.frontend;
  if (l.base == "ingress") return c.target.ingress;
  return c.target.backend;
}

class LoadRun : public Check {
 public:
  static constexpr GroupInfo group{"load", "Run"};
  using Check::Check;

 protected:
  std::vector<Identity> ids_;

  // The todo mix over the identities in ids_, with the configured weights.
  load::TodoMixOptions todo_mix_settings(const std::string& base) {
    const auto& l = config().load;
    auto m = todo_mix_options(config().profile, base, ids_);
    m.list = l.mix_list;
    m.create = l.mix_create;
    m.toggle = l.mix_toggle;
    m.remove = l.mix_delete;
    return m;
  }
  std::unique_ptr<load::TodoMix> todo_mix(const std::string& base) {
    return std::make_unique<load::TodoMix>(todo_mix_settings(base));
  }

  // Deletes what the mix created (after the check, whatever its outcome). Finding what to
  // delete may fail (the target is down after the load); that is reported as left behind, and
  // never discards the run that happened.
  void clean_up(const std::string& base, const load::TodoMix& mix) {
    try {
      auto counts = clean_up_todo_mix(c(), base, ids_, mix);
      for (std::size_t i = 0; i < ids_.size(); ++i)
        property("cleanup." + ids_[i].label, std::to_string(counts[i]) + " tasks");
    } catch (const CheckStopped& s) {
      property("left behind", "the todo mix's tasks (listing them failed: " + s.reason + ")");
    } catch (const std::exception& e) {
      property("left behind",
               std::string("the todo mix's tasks (listing them failed: ") + e.what() + ")");
    }
  }
  // Throughput, latency and errors over time (on the run's clock: the engine's second i starts
  // at `origin + start_s`), and both latency distributions.
  // suites.load.workers: the schedule from an Indexed Job of kgate workers in the cluster of
  // the kubernetes: section, merged exactly (docs/distributed-load.md). The workers' table goes
  // into the check's result; a missing share marks the run partial.
  // With `mix`, the workers run the todo mix: each its own identities, through the run's Secret
  // (dist::put_todo_mix); the caller deletes what it created afterwards.
  load::LoadResult run_on_workers(const load::ExecutorSpec& spec, const load::RequestSpec& request,
                                  const load::EngineOptions& o,
                                  const load::TodoMixOptions* mix = nullptr) {
    const auto& l = config().load;
    dist::WorkerPlan plan;
    plan.run_id = dist::new_run_id();
    plan.workers = l.workers;
    plan.executor = spec;
    plan.request = request;
    plan.engine = o;
    if (!o.ca_file.empty())
      KGATE_SETUP_ERROR() << "target.ca_file is not sent to workers yet: run without workers";
    try {
      dist::check_no_credentials(request);
    } catch (const std::invalid_argument& e) {
      KGATE_SETUP_ERROR() << e.what();
    }
    ClusterClient cluster = cluster_client(config().kubernetes);
    auto options = dist_options(l.distributed, cluster.namespace_);
    if (mix) {
      try {
        dist::put_todo_mix(*mix, plan, options);
      } catch (const std::invalid_argument& e) {
        KGATE_SETUP_ERROR() << e.what();
      }
    }
    property("job", dist::job_name(plan.run_id) + " in namespace " + options.namespace_);
    // The coordinator's API calls (stop the workers, read their logs, delete the Job) must
    // outlive a stop: each is bounded by kubernetes.request_timeout instead.
    http::set_interrupt_check(nullptr);
    struct Restore {
      ~Restore() { http::set_interrupt_check(&stop_requested_anywhere); }
    } restore;
    dist::DistResult r;
    try {
      r = dist::run_distributed(
          *cluster.client, options, plan, [this] { return c().stop_requested(); },
          [this](const dist::LiveStatus& st) {
            c().progress(st.phase == "running" || st.phase == "collecting"
                             ? fmt::format("{:.0f}s/{:.0f}s {} workers running {:.0f} rps "
                                           "requests {} failed {}",
                                           st.elapsed_s, st.total_s, st.running, st.rps,
                                           st.requests, st.failed)
                             : fmt::format("{}: {}/{} workers ready {}", st.phase, st.ready,
                                           st.workers, st.note));
          });
    } catch (const std::exception& e) {
      KGATE_SETUP_ERROR() << "distributed load: " << e.what();
    }
    c().table(workers_table(r));
    measure("workers.started", r.started, "workers");
    measure("workers.max_start_lag", r.max_start_lag_ms, "ms");
    if (r.clock_spread_ms) measure("workers.clock_spread", *r.clock_spread_ms, "ms");
    if (r.scheduled) measure("scheduled", static_cast<double>(r.scheduled), "requests");
    property("cleanup", r.cleanup);
    for (const auto& note : r.setup_notes) property("warning", note);
    if (mix) {  // the operations the workers sent (a killed worker's are not known)
      std::map<std::string, std::uint64_t> sent;
      for (const auto& row : r.rows) {
        const nlohmann::json ops = row.scenario.value("operations", nlohmann::json::object());
        for (const auto& [op, n] : ops.items())
          if (n.is_number_unsigned()) sent[op] += n.get<std::uint64_t>();
      }
      for (const auto& [op, n] : sent) property("sent." + op, std::to_string(n));
    }
    partial_ = r.partial;
    problems_ = r.problems;
    return r.merged;
  }
  bool partial_ = false;
  std::vector<std::string> problems_;

  void add_charts(const load::LoadResult& r, double origin) {
    const double interval = r.series.size() > 1 ? r.series[1].start_s - r.series[0].start_s : 1;
    auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
    Chart throughput{"Throughput", "req/s", {}, {{"answered", {}, {}}, {"failed", {}, {}}}};
    Chart latency{"Latency from the intended start",
                  "ms",
                  {},
                  {{"p50", {}, {}}, {"p95", {}, {}}, {"p99", {}, {}}}};
    Chart errors{"Errors by class", "per second", {}, {}};
    std::map<std::string, std::size_t> error_series;
    for (const auto& i : r.series)
      for (const auto& [cls, n] : i.errors)
        if (!error_series.count(cls)) {
          error_series[cls] = errors.series.size();
          errors.series.push_back({cls, {}, {}});
        }
    auto add = [](Series& s, double t, double v) {
      s.t.push_back(t);
      s.values.push_back(v);
    };
    for (const auto& i : r.series) {
      const double t = origin + i.start_s;
      add(throughput.series[0], t, i.rps);
      add(throughput.series[1], t, static_cast<double>(i.failed) / interval);
      add(latency.series[0], t, ms(i.p50_us));
      add(latency.series[1], t, ms(i.p95_us));
      add(latency.series[2], t, ms(i.p99_us));
      for (auto& e : errors.series) {
        auto it = i.errors.find(e.name);
        add(e, t, it == i.errors.end() ? 0.0 : static_cast<double>(it->second) / interval);
      }
    }
    Chart distribution{"Latency distribution",
                       "ms",
                       {"p50", "p90", "p95", "p99", "p99.9", "max"},
                       {{"from intended start", {}, {}}, {"service time", {}, {}}}};
    for (double q : {50.0, 90.0, 95.0, 99.0, 99.9, 100.0}) {
      const auto& s = r.summary;
      distribution.series[0].values.push_back(s.latency.count() ? ms(s.latency.percentile(q)) : 0);
      distribution.series[1].values.push_back(s.service.count() ? ms(s.service.percentile(q)) : 0);
    }
    c().chart(std::move(throughput));
    c().chart(std::move(latency));
    if (!errors.series.empty()) c().chart(std::move(errors));
    c().chart(std::move(distribution));
  }
};

KGATE_CHECK(LoadRun, Scenario,
            {.title = "Drive the configured load and record how the target held up",
             .figures = {{"requests", "requests"},
                         {"rps", "req/s"},
                         {"failed", "requests"},
                         {"dropped", "requests"},
                         {"error_rate", "%"},
                         {"p50", "ms"},
                         {"p95", "ms"},
                         {"p99", "ms"},
                         {"service.p99", "ms"}}}) {
  const auto& l = config().load;
  std::string base = base_url(config());
  if (base.empty()) KGATE_SKIP() << "suites.load.base is " << l.base << " but no such URL is set";
  load::ExecutorSpec spec;
  spec.type = l.executor;
  spec.rate = l.rate;
  spec.start_rate = l.executor == "ramping-arrival-rate" ? l.rate : 0;
  spec.vus = l.vus;
  spec.start_vus = l.executor == "ramping-vus" ? l.vus : 0;
  spec.duration = l.duration;
  spec.think_time = l.think;
  if (!l.stages.empty()) spec.stages = load::parse_stages(l.stages);
  auto executor = load::make_executor(spec);

  load::RequestSpec request;
  request.method = l.method;
  std::string path = l.path;
  request.body = l.body;
  if (!l.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  if (l.authenticated) {
    const Identity& loader = c().identity("load");
    request.headers.emplace_back("Authorization", "Bearer " + loader.token);
    for (auto pos = path.find("{user_id}"); pos != std::string::npos; pos = path.find("{user_id}"))
      path.replace(pos, 9, url_encode_segment(loader.user_id));
  }
  request.url = join_url(base, path);
  load::EngineOptions o;
  o.threads = l.threads;
  o.connections = l.connections;
  o.connect_timeout = config().target.connect_timeout;
  o.request_timeout = config().target.request_timeout;
  o.total_timeout = l.total_timeout;
  o.max_queue_wait = l.max_queue_wait;
  o.insecure = config().target.insecure;
  o.ca_file = config().target.ca_file;

  std::atomic<bool> stop{false};
  auto progress = [&](const load::Progress& p) {
    if (c().stop_requested()) stop = true;  // Ctrl-C or the check's timeout
    if (p.last)
      c().progress(fmt::format("{:.0f}s/{:.0f}s {:.0f} rps p95 {} failed {} dropped {}",
                               p.elapsed_s, p.total_s, p.last->rps, format_micros(p.last->p95_us),
                               p.failed, p.dropped));
  };
  load::LoadResult result;
  double started = 0;
  if (l.scenario == "todo-mix" && l.workers > 0) {
    // On workers: the identities are obtained here and handed to the workers; the mix below is
    // never run, its title prefix (the workers') finds everything they created for the cleanup,
    // even that of a worker killed before it could report.
    for (int i = 0; i < l.identities; ++i)
      ids_.push_back(c().identity("load-" + std::to_string(i + 1)));
    const auto settings = todo_mix_settings(base);
    const load::TodoMix finder(settings);
    spdlog::info("load: todo mix on {} as {} identities, {}, from {} worker pods", base,
                 l.identities, executor->describe(), l.workers);
    load::RequestSpec origin;
    origin.url = base;
    started = c().now();
    result = run_on_workers(spec, origin, o, &settings);
    c().publish(result);  // the thresholds read it, whatever the cleanup does
    clean_up(base, finder);
  } else if (l.scenario == "todo-mix") {
    for (int i = 0; i < l.identities; ++i)
      ids_.push_back(c().identity("load-" + std::to_string(i + 1)));
    auto mix = todo_mix(base);
    spdlog::info("load: todo mix on {} as {} identities, {}", base, l.identities,
                 executor->describe());
    load::RequestSpec origin;
    origin.url = base;
    started = c().now();
    result = load::run_load(*executor, *mix, origin, o, stop, progress);
    c().publish(result);  // the thresholds read it, whatever the cleanup does
    for (const auto& [op, n] : mix->counts()) property("sent." + op, std::to_string(n));
    clean_up(base, *mix);
  } else if (l.workers > 0) {
    spdlog::info("load: {} {}, {}, from {} worker pods", request.method, request.url,
                 executor->describe(), l.workers);
    started = c().now();
    result = run_on_workers(spec, request, o);
  } else {
    spdlog::info("load: {} {}, {}", request.method, request.url, executor->describe());
    started = c().now();
    result = load::run_load(*executor, request, o, stop, progress);
  }
  const auto& s = result.summary;
  auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  property("executor", result.executor);
  measure("requests", static_cast<double>(s.requests), "requests");
  measure("rps", s.duration_s > 0 ? static_cast<double>(s.completed) / s.duration_s : 0, "req/s");
  measure("failed", static_cast<double>(s.failed), "requests");
  measure("dropped", static_cast<double>(s.dropped), "requests");
  if (s.requests > 0)  // no requests, no rate: a criterion on it is then not verified
    measure("error_rate", 100.0 * static_cast<double>(s.failed) / static_cast<double>(s.requests),
            "%");
  if (s.latency.count() > 0) {
    measure("p50", ms(s.latency.percentile(50)), "ms");
    measure("p95", ms(s.latency.percentile(95)), "ms");
    measure("p99", ms(s.latency.percentile(99)), "ms");
    measure("service.p99", ms(s.service.percentile(99)), "ms");
  }
  for (const auto& [cls, n] : s.errors)
    measure("errors." + cls, static_cast<double>(n), "requests");
  add_charts(result, started);
  c().publish(result);  // the thresholds read it
  std::uint64_t succeeded = 0;
  for (const auto& [code, n] : s.status_codes)
    if (code >= 200 && code < 400) succeeded += n;
  std::string errors;
  for (const auto& [cls, n] : s.errors)
    errors += (errors.empty() ? "" : ", ") + cls + " " + std::to_string(n);
  if (partial_) {
    std::string why;
    for (const auto& p : problems_) why += "\n  " + p;
    if (l.distributed.allow_partial)  // the thresholds decide, on what the workers sent
      property("partial", "allowed by suites.load.distributed.allow_partial; missing:" + why);
    else
      KGATE_EXPECT(false) << "partial run: the merged figures miss the share of:" << why;
  }
  KGATE_REQUIRE(succeeded > 0) << "not one of the " << s.requests << " requests to "
                               << (request.url.empty() ? base : request.url)
                               << " succeeded (errors: " << (errors.empty() ? "none" : errors)
                               << "): the target did not take this load at all";
}

// One check per configured threshold, evaluated on the run above, which it is handed explicitly.
class LoadThreshold : public Check {
 public:
  LoadThreshold(CheckContext& c, std::string text) : Check(c), text_(std::move(text)) {}
  void run() override {
    const auto* result = c().result_of<load::LoadResult>(kRunId);
    if (!result) KGATE_SKIP() << "the load run did not happen (see " << kRunId << ")";
    auto t = load::parse_threshold(text_);
    auto r = load::evaluate(t, result->summary);
    c().threshold({text_, r.measured_text, r.passed});
    KGATE_EXPECT(r.passed) << r.message;
  }

 private:
  std::string text_;
};

void register_thresholds(const Config& config) {
  for (const auto& text : config.load.thresholds) {
    CheckDef def;
    def.suite = "load";
    def.group = "Thresholds";
    def.name = text;
    def.id = "load.Thresholds." + text;
    def.info.title = "Threshold: " + text;
    def.info.depends_on = {kRunId};
    def.tags = {"thresholds"};
    def.file = "load.cpp";
    def.make = [text](CheckContext& c) -> std::unique_ptr<Check> {
      return std::make_unique<LoadThreshold>(c, text);
    };
    add_check(std::move(def));
  }
}

// A load run lasts as long as its configuration says: its checks get that, plus margin for
// setup and cleanup, unless suites.load.check_timeout says otherwise.
Millis load_timeout(const Config& config) {
  const auto& l = config.load;
  Millis total = l.duration;
  if (!l.stages.empty()) {
    total = Millis(0);
    for (const auto& st : load::parse_stages(l.stages))
      total += std::chrono::duration_cast<Millis>(st.duration);
  }
  return total + std::chrono::minutes(2);
}

}  // namespace

KGATE_SUITE(load, {.name = "load",
                   .title = "Load",
                   .description = "Drives the configured request or the todo mix with an "
                                  "executor and gates on thresholds",
                   .order = 40,
                   .dynamic_checks = register_thresholds,
                   .default_check_timeout = load_timeout});

namespace {}  // namespace
}  // namespace kgate
