// Load: drive the configured request with the configured executor, then gate on each threshold
// (one check per threshold, carrying the measured value). The run itself is a check too, so a
// target that cannot take any load fails visibly rather than making every threshold skip.
#include <spdlog/spdlog.h>

#include <optional>
#include <set>

#include "kgate/check.hpp"
#include "kgate/load/engine.hpp"
#include "kgate/load/results_json.hpp"
#include "kgate/load/todo_mix.hpp"
#include "kgate/runner.hpp"
#include "kgate/url.hpp"

namespace kgate {
namespace {

using load::format_micros;

std::optional<load::LoadResult>& last_run() {
  static std::optional<load::LoadResult> r;
  return r;
}

std::string base_url(const Config& c) {
  const auto& l = c.load;
  if (l.base == "frontend") return c.target.frontend;
  if (l.base == "ingress") return c.target.ingress;
  return c.target.backend;
}

class LoadRun : public Check {
 protected:
  std::vector<Identity> ids_;

  // The todo mix over the identities in ids_, with the configured weights.
  std::unique_ptr<load::TodoMix> todo_mix(const std::string& base) {
    const auto& l = config().load;
    auto m = todo_mix_options(config().profile, base, ids_);
    m.list = l.mix_list;
    m.create = l.mix_create;
    m.toggle = l.mix_toggle;
    m.remove = l.mix_delete;
    return std::make_unique<load::TodoMix>(std::move(m));
  }

  // Deletes what the mix created (after the check, whatever its outcome).
  void clean_up(const std::string& base, const load::TodoMix& mix) {
    auto counts = clean_up_todo_mix(c(), base, ids_, mix);
    for (std::size_t i = 0; i < ids_.size(); ++i)
      property("cleanup." + ids_[i].label, std::to_string(counts[i]) + " tasks");
  }
  // Throughput, latency and errors over time, and both latency distributions.
  void add_charts(const load::LoadResult& r) {
    const double interval = r.series.size() > 1 ? r.series[1].start_s - r.series[0].start_s : 1;
    auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
    Chart throughput{"Throughput", "req/s", interval, {}, {{"answered", {}}, {"failed", {}}}};
    Chart latency{"Latency from the intended start",
                  "ms",
                  interval,
                  {},
                  {{"p50", {}}, {"p95", {}}, {"p99", {}}}};
    Chart errors{"Errors by class", "per interval", interval, {}, {}};
    std::map<std::string, std::size_t> error_series;
    for (const auto& i : r.series)
      for (const auto& [cls, n] : i.errors)
        if (!error_series.count(cls)) {
          error_series[cls] = errors.series.size();
          errors.series.push_back({cls, {}});
        }
    for (const auto& i : r.series) {
      throughput.series[0].values.push_back(i.rps);
      throughput.series[1].values.push_back(static_cast<double>(i.failed) / interval);
      latency.series[0].values.push_back(ms(i.p50_us));
      latency.series[1].values.push_back(ms(i.p95_us));
      latency.series[2].values.push_back(ms(i.p99_us));
      for (auto& e : errors.series) {
        auto it = i.errors.find(e.name);
        e.values.push_back(it == i.errors.end() ? 0.0 : static_cast<double>(it->second));
      }
    }
    Chart distribution{"Latency distribution",
                       "ms",
                       0,
                       {"p50", "p90", "p95", "p99", "p99.9", "max"},
                       {{"from intended start", {}}, {"service time", {}}}};
    for (double q : {50.0, 90.0, 95.0, 99.0, 99.9, 100.0}) {
      const auto& s = r.summary;
      distribution.series[0].values.push_back(s.latency.count() ? ms(s.latency.percentile(q)) : 0);
      distribution.series[1].values.push_back(s.service.count() ? ms(s.service.percentile(q)) : 0);
    }
    auto& charts = ctx().check().charts;
    charts.push_back(std::move(throughput));
    charts.push_back(std::move(latency));
    if (!errors.series.empty()) charts.push_back(std::move(errors));
    charts.push_back(std::move(distribution));
  }
};

TEST_F(LoadRun, Scenario) {
  const auto& l = config().load;
  title("Drive the configured load and record how the target held up");
  std::string base = base_url(config());
  if (base.empty()) GTEST_SKIP() << "suites.load.base is " << l.base << " but no such URL is set";
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
    KGATE_IDENTITY(loader, "load");
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
  double next_log = 0;
  auto progress = [&](const load::Progress& p) {
    if (interrupted()) stop = true;
    if (p.elapsed_s >= next_log && p.last) {  // quiet but alive: a line every 5 s
      spdlog::info("load: {:.0f}s/{:.0f}s {:.0f} rps p95 {} failed {} dropped {}", p.elapsed_s,
                   p.total_s, p.last->rps, format_micros(p.last->p95_us), p.failed, p.dropped);
      next_log = p.elapsed_s + 5;
    }
  };
  load::LoadResult result;
  if (l.scenario == "todo-mix") {
    for (int i = 0; i < l.identities; ++i) {
      KGATE_IDENTITY(id, "load-" + std::to_string(i + 1));
      ids_.push_back(id);
    }
    auto mix = todo_mix(base);
    spdlog::info("load: todo mix on {} as {} identities, {}", base, l.identities,
                 executor->describe());
    load::RequestSpec origin;
    origin.url = base;
    result = load::run_load(*executor, *mix, origin, o, stop, progress);
    for (const auto& [op, n] : mix->counts()) property("sent." + op, std::to_string(n));
    clean_up(base, *mix);
  } else {
    spdlog::info("load: {} {}, {}", request.method, request.url, executor->describe());
    result = load::run_load(*executor, request, o, stop, progress);
  }
  const auto& s = result.summary;
  property("executor", result.executor);
  property("requests", std::to_string(s.requests));
  property("rps", s.duration_s > 0 ? static_cast<double>(s.completed) / s.duration_s : 0);
  property("failed", std::to_string(s.failed));
  property("dropped", std::to_string(s.dropped));
  if (s.latency.count() > 0) {
    property("p50", format_micros(s.latency.percentile(50)));
    property("p95", format_micros(s.latency.percentile(95)));
    property("p99", format_micros(s.latency.percentile(99)));
    property("service.p99", format_micros(s.service.percentile(99)));
  }
  for (const auto& [cls, n] : s.errors) property("errors." + cls, std::to_string(n));
  add_charts(result);
  last_run() = std::move(result);
  KGATE_REQUIRE(s.completed > 0) << "no request to " << request.url << " got an answer ("
                                 << s.requests << " sent; errors: "
                                 << (s.errors.empty() ? std::string("none")
                                                      : s.errors.begin()->first)
                                 << ")";
}

// One check per configured threshold, evaluated on the run above.
class LoadThreshold : public Check {
 public:
  explicit LoadThreshold(std::string text) : text_(std::move(text)) {}
  void TestBody() override {
    title("Threshold: " + text_);
    auto& run = last_run();
    if (!run) GTEST_SKIP() << "the load run did not happen (see load.Run.Scenario)";
    auto t = load::parse_threshold(text_);
    auto r = load::evaluate(t, run->summary);
    property("measured", r.measured_text);
    property("threshold", text_);
    KGATE_EXPECT(r.passed) << r.message;
  }

 private:
  std::string text_;
};

void register_thresholds(const Config& config) {
  for (const auto& text : config.load.thresholds) {
    ::testing::RegisterTest("LoadThresholds", text.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [text]() -> Check* { return new LoadThreshold(text); });
  }
}

[[maybe_unused]] const bool registered = add_check_registrar(&register_thresholds);

}  // namespace
}  // namespace kgate
