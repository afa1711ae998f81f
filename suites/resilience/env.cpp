#include "env.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "kgate/cluster/objects.hpp"
#include "kgate/cluster_client.hpp"
#include "kgate/http.hpp"
#include "kgate/load/engine.hpp"
#include "kgate/load/executor.hpp"
#include "kgate/load/request_stats.hpp"
#include "kgate/load/todo_mix.hpp"
#include "kgate/todo_api.hpp"
#include "kgate/url.hpp"

namespace kgate::resilience {
namespace {

using Transport = load::RequestOutcome::Transport;
using SteadyClock = std::chrono::steady_clock;

double steady_seconds(SteadyClock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

using load::failed_request;
using load::percentile_ms;

constexpr std::size_t kMaxRecords = 4'000'000;  // about 8 h at 100 rps; past it, not kept

}  // namespace

// The engine's observer: one lock per request (a few tens per second), bounded.
class ResilienceEnv::Recorder final : public load::RequestObserver {
 public:
  Recorder(ResilienceEnv& env, bool frontend) : env_(env), frontend_(frontend) {}
  void observe(int, const load::RequestOutcome& o) noexcept override {
    std::lock_guard lock(env_.mutex_);
    if (env_.records_.size() >= kMaxRecords) return;
    env_.records_.push_back({steady_seconds(o.intended) + env_.offset_,
                             steady_seconds(o.done) + env_.offset_, o.status,
                             static_cast<std::uint8_t>(o.transport), frontend_});
  }

 private:
  ResilienceEnv& env_;
  bool frontend_;
};

ResilienceEnv::ResilienceEnv(const Config& config) : cfg_(config) {}
ResilienceEnv::~ResilienceEnv() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void ResilienceEnv::start(RunContext& run, SuiteResult& out) {
  const auto& k = cfg_.kubernetes;
  if (!k.configured) return;  // the checks skip (kNeedsCluster)
  ClusterClient cluster = cluster_client(k);
  client_ = std::move(cluster.client);
  cluster::DiscoverOptions d;
  d.ns = cluster.namespace_;
  d.release = k.release;
  d.backend_deployment = k.backend_deployment;
  d.frontend_deployment = k.frontend_deployment;
  found_ = cluster::discover(*client_, d);
  for (const auto& line : found_.describe()) {
    spdlog::info("resilience: {}", line);
    out.properties.push_back({"found", line});
  }

  timeline_ = std::make_unique<cluster::Timeline>([&run] { return run.now(); });
  cluster::WatchScope scope;
  scope.ns = found_.ns;
  if (!k.release.empty()) scope.label_selector = "app.kubernetes.io/instance=" + k.release;
  for (const char* role : {"backend", "frontend"})
    if (const auto* w = found_.workload(role))
      scope.tiers.push_back({w->role, w->name, w->selector, w->services, w->hpas});
  watch_ = std::make_unique<cluster::ClusterWatch>(*client_, scope, *timeline_);
  watch_->start(std::chrono::seconds(30));

  // A dry run reads the cluster and sends nothing: no identities, no traffic.
  if (cfg_.dry_run) {
    out.properties.push_back(
        {"dry run", "no live traffic; disruptive checks list what they would do"});
    return;
  }
  // The clocks: the engine's steady times onto the run's axis.
  offset_ = run.now() - steady_seconds(SteadyClock::now());
  const auto& rc = cfg_.resilience;
  if (cfg_.target.backend.empty()) throw std::runtime_error("live traffic needs target.backend");
  for (int i = 0; i < rc.identities; ++i)
    ids_.push_back(run.identity("resilience-traffic-" + std::to_string(i + 1)));
  mix_ = std::make_unique<load::TodoMix>(todo_mix_options(cfg_.profile, cfg_.target.backend, ids_));
  api_rec_ = std::make_unique<Recorder>(*this, false);
  web_rec_ = std::make_unique<Recorder>(*this, true);
  threads_.emplace_back([this] { traffic(false); });
  if (rc.frontend_rate > 0 && !cfg_.target.frontend.empty())
    threads_.emplace_back([this] { traffic(true); });
  out.properties.push_back(
      {"traffic", fmt::format("todo mix at {} rps as {} identities on {}; frontend page at {} rps",
                              rc.rate, rc.identities, cfg_.target.backend, rc.frontend_rate)});
}

void ResilienceEnv::traffic(bool frontend) {
  try {
    const auto& rc = cfg_.resilience;
    load::ExecutorSpec spec;
    spec.type = "constant-arrival-rate";
    spec.rate = frontend ? rc.frontend_rate : rc.rate;
    spec.duration = std::chrono::hours(4);  // bound; the fixture's stop ends it long before
    auto executor = load::make_executor(spec);
    load::EngineOptions o;
    o.threads = 1;
    o.connections = 256;  // a connection per request: room for slow answers
    o.connect_timeout = cfg_.target.connect_timeout;
    o.request_timeout = cfg_.target.request_timeout;
    o.insecure = cfg_.target.insecure;
    o.ca_file = cfg_.target.ca_file;
    o.observer = frontend ? web_rec_.get() : api_rec_.get();
    // Like a browser or Go's transport: a kept-alive connection the server closed while idle
    // is not reused (a draining pod closes its idle connections; that is no lost request).
    o.check_idle_connections = true;
    // Many users, not one: each request on a connection of its own, spread by the Service over
    // every Ready pod (a new pod then gets its share as soon as it is an endpoint).
    o.reuse_connections = false;
    if (frontend) {
      load::RequestSpec r;
      r.url = join_url(cfg_.target.frontend, "/");
      load::run_load(*executor, r, o, stop_);
    } else {
      load::RequestSpec origin;
      origin.url = cfg_.target.backend;
      load::run_load(*executor, *mix_, origin, o, stop_);
    }
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    traffic_error_ = e.what();
  }
}

void ResilienceEnv::stop(RunContext& run, SuiteResult& out) noexcept {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  try {
    if (watch_) watch_->stop();
    if (!traffic_error_.empty()) out.error = "live traffic: " + traffic_error_;
    if (mix_)
      clean_up_todo_mix_for_suite(run, cfg_.target.backend, ids_, *mix_, out, "traffic cleanup");
    if (timeline_ && cfg_.dry_run) {
      out.events = timeline_->all();
    } else if (timeline_) {
      const double end = run.now();
      out.charts.push_back(chart("Live traffic: the API (todo mix)", 0, end, false));
      out.charts.push_back(chart("Live traffic: the frontend page", 0, end, true));
      out.events = timeline_->all();
      const auto all = window(0, end, false, 0);
      out.scalars.push_back({"traffic.requests", static_cast<double>(all.requests), "requests"});
      out.scalars.push_back({"traffic.failed", static_cast<double>(all.failed), "requests"});
      out.scalars.push_back({"traffic.availability", all.availability, "%"});
    }
  } catch (const std::exception& e) {
    out.error = std::string("stopping: ") + e.what();
  }
}

std::uint64_t ResilienceEnv::recorded() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

WindowStats ResilienceEnv::window(double from, double to, bool frontend, double baseline) const {
  std::vector<Record> in, base;
  {
    std::lock_guard lock(mutex_);
    for (const auto& r : records_) {
      if (r.frontend != frontend) continue;
      // A request still in flight when the window opens (the disruption) is in it: a pod that
      // drops its in-flight requests on SIGTERM fails exactly those, sent just before.
      const bool in_flight = r.intended < from && r.done >= from;
      if ((r.intended >= from && r.intended <= to) || in_flight) in.push_back(r);
      if (baseline > 0 && r.intended >= from - baseline && !in_flight && r.intended < from)
        base.push_back(r);
    }
  }
  std::sort(in.begin(), in.end(), [](auto& a, auto& b) { return a.intended < b.intended; });
  WindowStats w;
  w.from = from;
  w.to = to;
  w.requests = in.size();
  std::uint64_t streak = 0;
  std::optional<double> last_error;
  std::vector<double> lat, base_lat;
  for (const auto& r : in) {
    lat.push_back(r.done - r.intended);
    if (!failed_request(r.status, r.transport)) {
      if (r.status >= 400) ++w.status_4xx;
      streak = 0;
      continue;
    }
    ++w.failed;
    w.longest_streak = std::max(w.longest_streak, ++streak);
    if (!w.first_error) w.first_error = std::max(0.0, r.intended - from);
    last_error = r.intended;
    switch (static_cast<Transport>(r.transport)) {
      case Transport::kAnswered:
        ++w.status_5xx;
        break;
      case Transport::kConnect:
        ++w.connect;
        break;
      case Transport::kTimeout:
        ++w.timeout;
        break;
      case Transport::kDropped:
        ++w.dropped;
        break;
      default:
        ++w.broken;
        break;
    }
  }
  if (last_error) {
    // Sustained success starts with the first answered request after the last failure.
    for (const auto& r : in)
      if (r.intended > *last_error) {
        w.recovery = std::max(0.0, r.intended - from);
        break;
      }
  }
  for (const auto& r : base) base_lat.push_back(r.done - r.intended);
  w.availability = w.requests ? 100.0 * static_cast<double>(w.requests - w.failed) /
                                    static_cast<double>(w.requests)
                              : 100.0;
  w.p95_ms = percentile_ms(lat, 95);
  w.p99_ms = percentile_ms(lat, 99);
  w.baseline_p95_ms = percentile_ms(base_lat, 95);
  w.baseline_p99_ms = percentile_ms(base_lat, 99);
  return w;
}

Chart ResilienceEnv::chart(const std::string& title, double from, double to, bool frontend) const {
  Chart c{title, "requests/s", {}, {{"answered", {}, {}}, {"failed", {}, {}}}, true};
  const auto first = static_cast<long>(std::floor(from));
  const auto n = std::max<long>(1, static_cast<long>(std::ceil(to)) - first);
  std::vector<double> ok(static_cast<std::size_t>(n)), bad(static_cast<std::size_t>(n));
  {
    std::lock_guard lock(mutex_);
    for (const auto& r : records_) {
      if (r.frontend != frontend || r.intended < from || r.intended > to) continue;
      const auto i = std::min<long>(n - 1, static_cast<long>(r.intended) - first);
      (failed_request(r.status, r.transport) ? bad : ok)[static_cast<std::size_t>(i)] += 1;
    }
  }
  for (long i = 0; i < n; ++i) {
    const double t = static_cast<double>(first + i);
    c.series[0].t.push_back(t);
    c.series[0].values.push_back(ok[static_cast<std::size_t>(i)]);
    c.series[1].t.push_back(t);
    c.series[1].values.push_back(bad[static_cast<std::size_t>(i)]);
  }
  return c;
}

// ---- the group base class

ResilienceCheck::~ResilienceCheck() {
  // The safety net: whatever ended the check (a finding, its timeout, Ctrl-C), put back what
  // it changed. The normal path calls restore() itself and records what failed.
  if (disruptor_)
    for (const auto& f : disruptor_->restore()) spdlog::error("resilience: not restored: {}", f);
}

ResilienceEnv& ResilienceCheck::env() {
  auto& e = c().fixture<ResilienceEnv>();
  if (!e.active()) KGATE_SETUP_ERROR() << "the resilience fixture found no cluster";
  return e;
}

cluster::Disruptor& ResilienceCheck::disruptor() {
  if (!disruptor_) {
    auto& e = env();
    const auto why =
        cluster::disruption_refusal(e.client(), e.ns(), config().kubernetes.disruption_label);
    if (!why.empty()) KGATE_SKIP() << why;
    cluster::DisruptorOptions o;
    o.ns = e.ns();
    o.label = config().kubernetes.disruption_label;
    o.timeline = &e.timeline();
    o.dry_run = config().dry_run;
    disruptor_ = std::make_unique<cluster::Disruptor>(e.client(), o);
  }
  return *disruptor_;
}

const cluster::Workload& ResilienceCheck::workload(const std::string& role) {
  const auto* w = env().found().workload(role);
  if (!w) KGATE_SKIP() << "no " << role << " Deployment was found (" << env().found().how << ")";
  return *w;
}

std::vector<cluster::PodView> ResilienceCheck::live_pods(const std::string& role) {
  std::vector<cluster::PodView> out;
  for (auto& p : env().watch().pods(role))
    if (!p.terminating && !p.deleted) out.push_back(p);
  return out;
}

bool ResilienceCheck::wait_settled(const std::string& role, Millis budget) {
  auto& w = env().watch();
  return w.wait_until(
      [&] {
        const nlohmann::json d = w.deployment(role);
        if (d.is_null() || !cluster::deployment_settled(d)) return false;
        int ready = 0;
        for (const auto& p : w.pods(role)) {
          if (p.deleted) continue;
          if (p.terminating) return false;
          if (p.ready) ++ready;
        }
        return ready == cluster::desired_replicas(d);
      },
      budget, [this] { return c().stop_requested(); });
}

void ResilienceCheck::require_settled(const std::string& role) {
  if (!wait_settled(role, std::chrono::seconds(90)))
    KGATE_INCONCLUSIVE() << "the " << role << " Deployment did not settle before the check ("
                         << cluster::deployment_status_text(env().watch().deployment(role)) << ")";
}

void ResilienceCheck::observe(double seconds) {
  if (dry_run()) return;  // no traffic to observe
  const double until = c().now() + seconds;
  env().watch().wait_until([&] { return c().now() >= until; },
                           std::chrono::milliseconds(static_cast<long>(seconds * 1000) + 50),
                           [this] { return c().stop_requested(); });
}

void ResilienceCheck::planned(const std::string& how) {
  if (!disruptor_ || !disruptor_->dry_run()) return;
  std::string plan;
  for (const auto& step : disruptor_->plan()) plan += (plan.empty() ? "" : "; ") + step;
  KGATE_SKIP() << "dry run, nothing changed: " << (plan.empty() ? "would do nothing" : plan)
               << (how.empty() ? "" : " (" + how + ")");
}

double ResilienceCheck::baseline() const {
  return std::chrono::duration<double>(config().resilience.baseline).count();
}

std::string ResilienceCheck::seconds_text(double s) {
  return fmt::format("{:.2f} s", s);
}

WindowStats ResilienceCheck::report(const std::string& what, double from, double to, bool frontend,
                                    const std::vector<std::string>& objects) {
  auto& e = env();
  const auto w = e.window(from, to, frontend, baseline());
  const std::string p = frontend ? "frontend." : "";
  measure(p + "requests", static_cast<double>(w.requests), "requests");
  measure(p + "failed", static_cast<double>(w.failed), "requests");
  measure(p + "availability", w.availability, "%");
  measure(p + "errors.connect", static_cast<double>(w.connect), "requests");
  measure(p + "errors.timeout", static_cast<double>(w.timeout), "requests");
  measure(p + "errors.reset", static_cast<double>(w.broken), "requests");
  measure(p + "errors.dropped", static_cast<double>(w.dropped), "requests");
  measure(p + "errors.5xx", static_cast<double>(w.status_5xx), "requests");
  measure(p + "answers.4xx", static_cast<double>(w.status_4xx), "requests");
  if (w.first_error) measure(p + "time_to_first_error", *w.first_error, "s");
  if (w.recovery) measure(p + "recovery_time", *w.recovery, "s");
  measure(p + "longest_error_streak", static_cast<double>(w.longest_streak), "requests");
  measure(p + "p95", w.p95_ms, "ms");
  measure(p + "p99", w.p99_ms, "ms");
  measure(p + "baseline.p95", w.baseline_p95_ms, "ms");
  measure(p + "baseline.p99", w.baseline_p99_ms, "ms");
  const double lead = baseline();
  c().chart(e.chart(what, from - lead, to, frontend));
  for (auto& ev : e.timeline().between(from - lead, to, objects))
    c().event_at(ev.t, ev.kind, ev.object, ev.message);
  if (w.requests == 0)
    KGATE_INCONCLUSIVE() << "no live traffic was recorded in the window (" << e.recorded()
                         << " requests so far): the traffic fixture is not "
                         << "reaching " << (frontend ? "target.frontend" : "target.backend");
  return w;
}

void ResilienceCheck::restore(const std::vector<std::string>& roles) {
  if (!disruptor_) return;
  for (const auto& f : disruptor_->restore()) KGATE_EXPECT(false) << "not restored: " << f;
  for (const auto& role : roles)
    KGATE_EXPECT(wait_settled(role, std::chrono::seconds(180)))
        << "after restoring, the " << role << " Deployment did not settle within 180 s ("
        << cluster::deployment_status_text(env().watch().deployment(role)) << ")";
}

}  // namespace kgate::resilience
