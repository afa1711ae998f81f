#include "env.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

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

namespace kgate::hpa {
namespace {

using SteadyClock = std::chrono::steady_clock;
namespace res = kube::resources;

double steady_seconds(SteadyClock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
double secs_of(Millis m) {
  return std::chrono::duration<double>(m).count();
}

using load::failed_request;
using load::percentile_ms;

constexpr std::size_t kMaxRecords = 4'000'000;
constexpr std::size_t kMaxSamples = 24 * 3600;  // a day of ticks

// The scale-up policies' allowance in one period from `current` replicas (selectPolicy Max, the
// default; Min takes the smallest; Disabled none). Defaults: 100 % or 4 pods per 15 s.
struct Policy {
  int period = 15;
  int add = 0;
};
Policy scale_up_allowance(const json& behavior, int current) {
  const json up = behavior.value("scaleUp", json::object());
  json policies = up.value("policies", json::array());
  const std::string select = up.value("selectPolicy", "Max");
  if (select == "Disabled") return {15, 0};
  if (policies.empty())
    policies = json::array({{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}},
                            {{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}}});
  Policy best{15, select == "Min" ? 1 << 30 : 0};
  for (const auto& p : policies) {
    const int v = p.value("value", 0);
    const int add =
        p.value("type", "") == "Percent" ? static_cast<int>(std::ceil(current * v / 100.0)) : v;
    const bool better = select == "Min" ? add < best.add : add > best.add;
    if (better) best = {p.value("periodSeconds", 15), add};
  }
  return best;
}

}  // namespace

// The engine's observer: one lock per request, bounded.
class HpaEnv::Recorder final : public load::RequestObserver {
 public:
  explicit Recorder(HpaEnv& env) : env_(env) {}
  void observe(int, const load::RequestOutcome& o) noexcept override {
    std::lock_guard lock(env_.mutex_);
    if (env_.records_.size() >= kMaxRecords) return;
    env_.records_.push_back({steady_seconds(o.intended) + env_.offset_,
                             steady_seconds(o.done) + env_.offset_, o.status,
                             static_cast<std::uint8_t>(o.transport)});
  }

 private:
  HpaEnv& env_;
};

HpaEnv::HpaEnv(const Config& config) : cfg_(config) {}

HpaEnv::~HpaEnv() {
  stop_ = true;
  ramp_stop_ = true;
  cv_.notify_all();
  if (load_thread_.joinable()) load_thread_.join();
  if (sampler_thread_.joinable()) sampler_thread_.join();
}

double HpaEnv::now() const {
  return run_ ? run_->now() : 0;
}

int HpaEnv::target_replicas() const {
  return cfg().target_replicas > 0 ? cfg().target_replicas : min_ + 1;
}

void HpaEnv::start(RunContext& run, SuiteResult& out) {
  const auto& k = cfg_.kubernetes;
  if (!k.configured) return;  // the checks skip (kNeedsCluster)
  run_ = &run;
  ClusterClient cluster = cluster_client(k);
  client_ = std::move(cluster.client);
  ns_ = cluster.namespace_;
  timeline_ = std::make_unique<cluster::Timeline>([&run] { return run.now(); });
  // What cannot be found is the preflight's finding (a failing check that says what to
  // change), not a fixture error: the other checks then end inconclusive, pointing at it.
  try {
    cluster::DiscoverOptions d;
    d.ns = ns_;
    d.release = k.release;
    d.backend_deployment = k.backend_deployment;
    found_ = cluster::discover(*client_, d);
  } catch (const std::exception& e) {
    discovery_error_ = e.what();
    return;
  }
  for (const auto& line : found_.describe()) {
    spdlog::info("hpa: {}", line);
    out.properties.push_back({"found", line});
  }
  const auto* w = found_.workload("backend");
  if (!w) {
    discovery_error_ = "no backend Deployment was found (" + found_.how + ")";
    return;
  }
  backend_ = w->name;
  selector_ = w->selector;
  if (!w->hpas.empty()) {
    hpa_name_ = w->hpas.front();
    for (const auto& h : found_.hpas)
      if (cluster::name_of(h) == hpa_name_) hpa_spec_ = h.value("spec", json::object());
    min_ = hpa_spec_.value("minReplicas", 1);
    max_ = hpa_spec_.value("maxReplicas", 1);
    target_cpu_ = cluster::hpa_cpu_target(hpa_spec_);
  }

  cluster::WatchScope scope;
  scope.ns = found_.ns;
  if (!k.release.empty()) scope.label_selector = "app.kubernetes.io/instance=" + k.release;
  scope.tiers.push_back({w->role, w->name, w->selector, w->services, w->hpas});
  watch_ = std::make_unique<cluster::ClusterWatch>(*client_, scope, *timeline_);
  watch_->start(std::chrono::seconds(30));
  offset_ = run.now() - steady_seconds(SteadyClock::now());
  cluster::ScaleTarget target;
  target.ns = ns_;
  target.deployment = backend_;
  target.selector = selector_;
  target.hpa = hpa_name_;
  target.target_cpu = target_cpu_;
  target.min_replicas = min_;
  target.max_replicas = max_;
  target.tolerance = cfg().controller.tolerance;
  sampler_ = std::make_unique<cluster::ScaleSampler>(*client_, target);
  sampler_thread_ = std::thread([this] { sampler(); });
}

// ---- the sampler (cluster::ScaleSampler): once a second, every call bounded by
// kubernetes.request_timeout

void HpaEnv::sampler() {
  while (!stop_) {
    const auto next = SteadyClock::now() + std::chrono::seconds(1);
    const json d = watch_->deployment("backend");
    Sample s = sampler_->sample(now(), &d, &stop_);
    if (stop_) break;
    if (!s.error.empty()) spdlog::debug("hpa sampler: {}", s.error);
    if (s.hpa_desired >= 0) last_desired_ = s.hpa_desired;
    const bool more = s.hpa_desired > min_ || s.wanted > min_;
    {
      std::lock_guard lock(mutex_);
      if (samples_.size() < kMaxSamples) samples_.push_back(s);
      if (x_.started && !x_.t_first_decision && s.hpa_desired > min_) x_.t_first_decision = s.t;
      if (!s.limited.empty() && !limited_seen_) {
        limited_seen_ = true;
        timeline_->add_at(s.t, "ScalingLimited", "hpa/" + hpa_name_, s.limited);
      }
      if (more && x_.started) {
        wants_more_ = true;
        if (cfg().stages.empty()) ramp_stop_ = true;  // the derived ramp holds from here
      }
    }
    cv_.notify_all();
    std::unique_lock lock(mutex_);
    cv_.wait_until(lock, next, [this] { return stop_.load(); });
  }
}

// ---- the load: the engine, driven by an executor; bounded by its schedule and stop_

void HpaEnv::load_thread() {
  auto run_one = [&](const load::Executor& ex, const std::atomic<bool>& stop) {
    load::EngineOptions o;
    o.threads = 1;
    o.connections = cfg().connections;
    o.connect_timeout = cfg_.target.connect_timeout;
    o.request_timeout = cfg_.target.request_timeout;
    o.insecure = cfg_.target.insecure;
    o.ca_file = cfg_.target.ca_file;
    o.observer = recorder_.get();
    o.check_idle_connections = true;
    // Many users: a connection per request, spread by the Service over every Ready pod, so a
    // new replica takes its share as soon as it is an endpoint.
    o.reuse_connections = false;
    if (mix_) {
      load::RequestSpec origin;
      origin.url = cfg_.target.backend;
      load::run_load(ex, *mix_, origin, o, stop);
    } else {
      load::RequestSpec r;
      r.url = join_url(cfg_.target.backend, cfg().path);
      load::run_load(ex, r, o, stop);
    }
  };
  try {
    if (!cfg().stages.empty()) {
      load::ExecutorSpec spec;
      spec.type = "ramping-arrival-rate";
      spec.stages = load::parse_stages(cfg().stages);
      run_one(*load::make_executor(spec), stop_);
    } else {
      // Ramp towards max_rate; the sampler stops it once the HPA wants more than minReplicas.
      load::ExecutorSpec ramp;
      ramp.type = "ramping-arrival-rate";
      ramp.start_rate = std::min(1.0, cfg().max_rate);
      ramp.stages = {{std::chrono::duration_cast<load::Nanos>(cfg().ramp), cfg().max_rate}};
      const double t0 = now();
      run_one(*load::make_executor(ramp), ramp_stop_);
      const double elapsed = now() - t0;
      const double frac = std::min(1.0, elapsed / secs_of(cfg().ramp));
      const double rate = ramp.start_rate + (cfg().max_rate - ramp.start_rate) * frac;
      {
        std::lock_guard lock(mutex_);
        x_.held_rate = rate;
        if (wants_more_) x_.t_trigger = now();
      }
      if (!stop_) {
        load::ExecutorSpec hold;
        hold.type = "constant-arrival-rate";
        hold.rate = std::max(0.1, rate);
        hold.duration = std::chrono::duration_cast<load::Nanos>(cfg().hold);
        run_one(*load::make_executor(hold), stop_);
      }
    }
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    x_.load_error = e.what();
  }
  {
    std::lock_guard lock(mutex_);
    x_.load_done = true;
    x_.t_load_end = now();
  }
  timeline_->add("LoadStopped", "load/hpa", "");
  cv_.notify_all();
}

void HpaEnv::wait(const std::function<bool()>& done, double seconds) {
  const auto deadline = SteadyClock::now() +
                        std::chrono::milliseconds(static_cast<long>(std::max(0.0, seconds) * 1000));
  std::unique_lock lock(mutex_);
  while (SteadyClock::now() < deadline && !stop_ && !(run_ && run_->stop_requested())) {
    lock.unlock();
    const bool d = done();
    lock.lock();
    if (d) return;
    // Woken by each sample and by the load's end; the watch's state is re-read at least
    // every 250 ms, so a pod turning Ready is seen promptly.
    cv_.wait_until(lock, std::min(deadline, SteadyClock::now() + std::chrono::milliseconds(250)));
  }
}

int HpaEnv::ready_pods() const {
  int n = 0;
  for (const auto& p : watch_->pods("backend"))
    if (!p.terminating && !p.deleted && p.ready) ++n;
  return n;
}

std::vector<cluster::PodView> HpaEnv::pods(bool include_deleted) const {
  return watch_ ? watch_->pods("backend", include_deleted) : std::vector<cluster::PodView>{};
}

// ---- the phases

const PreflightResult& HpaEnv::preflight() {
  if (preflight_.ran) return preflight_;
  PreflightResult& p = preflight_;
  p.ran = true;
  auto problem = [&](std::string s) { p.problems.push_back(std::move(s)); };
  if (!discovery_error_.empty()) {
    problem("the backend could not be found: " + discovery_error_ +
            "; set kubernetes.release or kubernetes.backend_deployment");
    return p;
  }
  if (hpa_name_.empty()) {
    problem("no HorizontalPodAutoscaler has scaleTargetRef Deployment/" + backend_ +
            " in namespace " + ns_ +
            ": create one (the project's chart: backend.autoscaling.enabled=true)");
    return p;
  }
  json h;
  try {
    h = client_->get(res::horizontal_pod_autoscalers, ns_, hpa_name_);
  } catch (const std::exception& e) {
    problem("hpa/" + hpa_name_ + " could not be read as autoscaling/v2: " + e.what());
    return p;
  }
  if (h.value("apiVersion", "") != "autoscaling/v2")
    problem("hpa/" + hpa_name_ + " is served as " + h.value("apiVersion", "?") +
            ", not autoscaling/v2: the cluster's API server is too old for this suite");
  p.notes.push_back(fmt::format("hpa/{}: minReplicas {}, maxReplicas {}, cpu target {}", hpa_name_,
                                min_, max_,
                                target_cpu_ > 0 ? fmt::format("{} %", target_cpu_) : "none"));
  // Utilization needs a request on every container the metric counts, read from the live
  // pods: an injected sidecar without one is invisible in the template (kubernetes#108920).
  std::vector<std::pair<std::string, std::string>> util;  // resource, container ("" = all)
  for (const auto& m : hpa_spec_.value("metrics", json::array())) {
    const std::string type = m.value("type", "");
    const json r =
        m.value(type == "ContainerResource" ? "containerResource" : "resource", json::object());
    if ((type == "Resource" || type == "ContainerResource") &&
        r.value("target", json::object()).value("type", "") == "Utilization")
      util.push_back({r.value("name", ""), r.value("container", "")});
  }
  if (util.empty())
    p.notes.push_back("no Resource metric of type Utilization: requests are not needed");
  kube::ListOptions lo;
  lo.label_selector = cluster::selector_text(selector_);
  std::vector<std::string> live;
  try {
    const json list = client_->list(res::pods, ns_, lo);
    for (const auto& pod : list.value("items", json::array())) {
      if (!cluster::pod_live(pod)) continue;
      const std::string pn = cluster::name_of(pod);
      live.push_back(pn);
      for (const auto& [resource, only] : util)
        for (const auto& c : cluster::counted_containers(pod)) {
          const std::string cn = c.value("name", "");
          if (!only.empty() && cn != only) continue;
          const json req = c.value("resources", json::object()).value("requests", json::object());
          if (!req.contains(resource))
            problem("pod " + pn + ", container " + cn + ": no " + resource +
                    " request, so the HPA cannot compute " + resource +
                    " utilization; set resources.requests." + resource +
                    " on every container (injected sidecars too)");
        }
    }
  } catch (const std::exception& e) {
    problem(std::string("the backend's pods could not be listed: ") + e.what());
  }
  if (live.empty()) problem("Deployment/" + backend_ + " has no live pod to measure");
  // metrics.k8s.io for each of them (a new pod's first metrics take a few seconds).
  std::map<std::string, std::string> missing;
  auto metrics_ok = [&] {
    missing.clear();
    for (const auto& pn : live) try {
        client_->raw_get("/apis/metrics.k8s.io/v1beta1/namespaces/" + url_encode_segment(ns_) +
                         "/pods/" + url_encode_segment(pn));
      } catch (const std::exception& e) {
        missing[pn] = e.what();
      }
    return missing.empty();
  };
  const double budget = secs_of(cfg().preflight_wait);
  wait(metrics_ok, budget);
  for (const auto& [pn, why] : missing)
    problem("metrics unavailable for pod " + pn + " (metrics.k8s.io: " + why +
            "): install metrics-server or check the APIService v1beta1.metrics.k8s.io");
  // The HPA's own view: AbleToScale and ScalingActive true.
  json last = h;
  auto conditions_ok = [&] {
    try {
      last = client_->get(res::horizontal_pod_autoscalers, ns_, hpa_name_);
    } catch (const std::exception&) {
      return false;
    }
    return cluster::status_condition(last, "AbleToScale").value("status", "") == "True" &&
           cluster::status_condition(last, "ScalingActive").value("status", "") == "True";
  };
  wait(conditions_ok, p.problems.empty() ? budget : 3.0);
  for (const char* type : {"AbleToScale", "ScalingActive"}) {
    const json c = cluster::status_condition(last, type);
    if (c.is_null())
      problem(std::string("hpa/") + hpa_name_ + " has no " + type + " condition yet: is the " +
              "horizontal-pod-autoscaler controller running?");
    else if (c.value("status", "") != "True")
      problem(std::string("hpa/") + hpa_name_ + " " + type + " is " + c.value("status", "") + " (" +
              c.value("reason", "") + ": " + c.value("message", "") + ")");
  }
  if (!p.problems.empty()) {
    // The controller's own words, when it wrote them: the last of each of its failure reasons
    // (FailedGetResourceMetric, FailedGetPodsMetric, FailedGetScale,
    // FailedComputeMetricsReplicas, ...).
    try {
      kube::ListOptions eo;
      eo.field_selector = "involvedObject.name=" + hpa_name_;
      const json evs = client_->list(res::events, ns_, eo);
      std::map<std::string, std::string> quotes;
      for (const auto& e : evs.value("items", json::array())) {
        const std::string reason = e.value("reason", "");
        if (reason.rfind("Failed", 0) == 0) quotes[reason] = e.value("message", "");
      }
      for (const auto& [reason, quote] : quotes)
        problem("event " + reason + " on hpa/" + hpa_name_ + ": " + quote);
    } catch (const std::exception&) {
    }
  }
  return p;
}

Budget HpaEnv::scale_up_budget() const {
  if (cfg().scale_up_budget.count() > 0)
    return {secs_of(cfg().scale_up_budget), "suites.hpa.scale_up_budget"};
  const json behavior = hpa_spec_.value("behavior", json::object());
  const double sync = secs_of(cfg().controller.sync_period);
  const double stab =
      behavior.value("scaleUp", json::object()).value("stabilizationWindowSeconds", 0);
  double ramp = 0;
  std::string ramp_why;
  if (cfg().stages.empty()) {
    ramp = secs_of(cfg().ramp);
    ramp_why = "the ramp to max_rate";
  } else {
    // Until the explicit stages reach their highest rate.
    double t = 0, peak = -1;
    for (const auto& s : load::parse_stages(cfg().stages)) {
      t += std::chrono::duration<double>(s.duration).count();
      if (s.target > peak) {
        peak = s.target;
        ramp = t;
      }
    }
    ramp_why = "the stages' peak rate";
  }
  // Policy steps from minReplicas to the target, one period each after the first.
  int current = min_, steps = 0;
  double periods = 0;
  while (current < target_replicas() && steps < 100) {
    const Policy pol = scale_up_allowance(behavior, current);
    if (pol.add <= 0) break;
    if (steps > 0) periods += pol.period;
    current += pol.add;
    ++steps;
  }
  const double pod_ready = secs_of(cfg().pod_ready_budget);
  const double total = ramp + 2 * sync + stab + periods + pod_ready;
  return {total,
          fmt::format("{:.0f} s = {:.0f} s {} + 2 x {:.0f} s sync period "
                      "(suites.hpa.controller.sync_period) + {:.0f} s scaleUp stabilization + "
                      "{:.0f} s for {} policy step(s) + {:.0f} s pod Ready "
                      "(suites.hpa.pod_ready_budget)",
                      total, ramp, ramp_why, sync, stab, periods, steps, pod_ready)};
}

Budget HpaEnv::scale_down_budget() const {
  if (cfg().scale_down_budget.count() > 0)
    return {secs_of(cfg().scale_down_budget), "suites.hpa.scale_down_budget"};
  const json down = hpa_spec_.value("behavior", json::object()).value("scaleDown", json::object());
  const double sync = secs_of(cfg().controller.sync_period);
  const bool from_behavior = down.contains("stabilizationWindowSeconds");
  const double stab = from_behavior ? down["stabilizationWindowSeconds"].get<double>()
                                    : secs_of(cfg().controller.downscale_stabilization);
  // The usage must fall out of the metrics' window first: metrics-server's resolution, 15 s.
  const double metrics = 15;
  const double total = stab + 2 * sync + metrics;
  return {total, fmt::format("{:.0f} s = {:.0f} s downscale stabilization ({}) + 2 x {:.0f} s "
                             "sync period + {:.0f} s for the CPU to leave the metrics window",
                             total, stab,
                             from_behavior ? "behavior.scaleDown.stabilizationWindowSeconds"
                                           : "suites.hpa.controller.downscale_stabilization",
                             sync, metrics)};
}

const Experiment& HpaEnv::scale_up() {
  if (x_.scale_up_done) return x_;
  const auto& h = cfg();
  if (cfg_.target.backend.empty()) throw std::runtime_error("the HPA suite needs target.backend");
  if (h.scenario == "todo-mix") {
    for (int i = 0; i < h.identities; ++i)
      ids_.push_back(run_->identity("hpa-load-" + std::to_string(i + 1)));
    mix_ =
        std::make_unique<load::TodoMix>(todo_mix_options(cfg_.profile, cfg_.target.backend, ids_));
  }
  recorder_ = std::make_unique<Recorder>(*this);
  {
    std::lock_guard lock(mutex_);
    x_.started = true;
    x_.t_load0 = now();
    x_.load = (h.scenario == "todo-mix" ? fmt::format("todo mix as {} identities", h.identities)
                                        : "GET " + h.path) +
              " on " + cfg_.target.backend + ", " +
              (h.stages.empty()
                   ? fmt::format("ramp towards {} rps over {} until the HPA wants more than {} "
                                 "replicas, then held {}",
                                 h.max_rate, load::format_duration(h.ramp), min_,
                                 load::format_duration(h.hold))
                   : "stages " + h.stages);
  }
  timeline_->add("LoadStarted", "load/hpa", x_.load);
  load_thread_ = std::thread([this] { load_thread(); });
  // The HPA's doing: it wants at least the target, and that many pods are Ready (a replica
  // count set by someone else is not a scale-up).
  const int target = target_replicas();
  auto reached = [&] { return last_desired_ >= target && ready_pods() >= target; };
  wait(reached, scale_up_budget().seconds);
  std::lock_guard lock(mutex_);
  if (reached()) x_.t_target = now();
  x_.scale_up_done = true;
  return x_;
}

const Experiment& HpaEnv::hold() {
  scale_up();
  if (!x_.load_done) {
    // The schedule bounds it: the stages, or ramp + hold.
    double bound = 0;
    if (!cfg().stages.empty())
      for (const auto& s : load::parse_stages(cfg().stages))
        bound += std::chrono::duration<double>(s.duration).count();
    else
      bound = secs_of(cfg().ramp) + secs_of(cfg().hold);
    wait(
        [&] {
          std::lock_guard lock(mutex_);
          return x_.load_done;
        },
        bound + 30);
  }
  bool done = false;
  {
    std::lock_guard lock(mutex_);
    done = x_.load_done;
  }
  if (load_thread_.joinable() && done) load_thread_.join();
  return x_;
}

const Experiment& HpaEnv::scale_down() {
  hold();
  if (x_.down_done) return x_;
  auto at_min = [&] {
    const json d = watch_->deployment("backend");
    if (d.is_null() || cluster::desired_replicas(d) > min_) return false;
    int live = 0;
    for (const auto& p : watch_->pods("backend"))
      if (!p.terminating && !p.deleted) ++live;
    return live <= min_;
  };
  const double left = x_.t_load_end + scale_down_budget().seconds - now();
  wait(at_min, left);
  std::lock_guard lock(mutex_);
  if (at_min()) x_.t_scaled_down = now();
  x_.down_done = true;
  return x_;
}

// ---- what was measured

std::vector<Sample> HpaEnv::samples(double from, double to) const {
  std::lock_guard lock(mutex_);
  std::vector<Sample> out;
  for (const auto& s : samples_)
    if (s.t >= from && s.t <= to) out.push_back(s);
  return out;
}

WindowStats HpaEnv::window(double from, double to) const {
  std::vector<double> lat;
  WindowStats w;
  double first = 1e18, last = -1;
  {
    std::lock_guard lock(mutex_);
    for (const auto& r : records_) {
      if (r.intended < from || r.intended > to) continue;
      ++w.requests;
      if (failed_request(r.status, r.transport)) ++w.failed;
      lat.push_back(r.done - r.intended);
      first = std::min(first, r.intended);
      last = std::max(last, r.done);
    }
  }
  w.error_rate =
      w.requests ? 100.0 * static_cast<double>(w.failed) / static_cast<double>(w.requests) : 0;
  w.p95_ms = percentile_ms(lat, 95);
  w.p99_ms = percentile_ms(lat, 99);
  if (last > first) w.achieved_rps = static_cast<double>(w.requests - w.failed) / (last - first);
  return w;
}

std::vector<Chart> HpaEnv::charts(double from, double to) const {
  const auto ss = samples(from, to);
  Chart reps{"Replicas (HPA desired, Deployment, Ready pods)", "replicas", {}, {}, true};
  Series desired{"HPA desired", {}, {}}, spec{"Deployment replicas", {}, {}},
      ready{"Ready pods", {}, {}};
  Chart cpu{fmt::format("CPU % of request (target {} %)", target_cpu_), "%", {}, {}, true};
  Series hpa_cpu{"HPA current", {}, {}}, avg{"pods' average", {}, {}};
  std::map<std::string, Series> per_pod;
  for (const auto& s : ss) {
    if (s.hpa_desired >= 0) {
      desired.t.push_back(s.t);
      desired.values.push_back(s.hpa_desired);
    }
    if (s.spec_replicas >= 0) {
      spec.t.push_back(s.t);
      spec.values.push_back(s.spec_replicas);
    }
    ready.t.push_back(s.t);
    ready.values.push_back(s.ready);
    if (s.hpa_cpu) {
      hpa_cpu.t.push_back(s.t);
      hpa_cpu.values.push_back(*s.hpa_cpu);
    }
    if (s.avg_cpu) {
      avg.t.push_back(s.t);
      avg.values.push_back(*s.avg_cpu);
    }
    for (const auto& [pod, v] : s.pod_cpu) {
      auto& ser = per_pod[pod];
      ser.name = pod;
      ser.t.push_back(s.t);
      ser.values.push_back(v);
    }
  }
  reps.series = {desired, spec, ready};
  cpu.series = {hpa_cpu, avg};
  for (auto& [_, ser] : per_pod) cpu.series.push_back(std::move(ser));

  // Offered (by intended time) and achieved (answered, by completion) per second; p95 per
  // second of the requests due in it.
  const auto first = static_cast<long>(std::floor(from));
  const auto n = std::max<long>(1, static_cast<long>(std::ceil(std::min(to, now()))) - first);
  std::vector<double> offered(static_cast<std::size_t>(n)), ok(offered), bad(offered);
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(n));
  {
    std::lock_guard lock(mutex_);
    for (const auto& r : records_) {
      const long i = static_cast<long>(std::floor(r.intended)) - first;
      if (i >= 0 && i < n) {
        offered[static_cast<std::size_t>(i)] += 1;
        lat[static_cast<std::size_t>(i)].push_back(r.done - r.intended);
        if (failed_request(r.status, r.transport)) bad[static_cast<std::size_t>(i)] += 1;
      }
      const long j = static_cast<long>(std::floor(r.done)) - first;
      if (j >= 0 && j < n && !failed_request(r.status, r.transport))
        ok[static_cast<std::size_t>(j)] += 1;
    }
  }
  Chart rps{"Load: offered and achieved requests/s, failed", "req/s", {}, {}, true};
  Chart p95{"Latency p95 from the intended start", "ms", {}, {}, true};
  Series so{"offered", {}, {}}, sa{"achieved", {}, {}}, sf{"failed", {}, {}}, sp{"p95", {}, {}};
  for (long i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    const double t = static_cast<double>(first + i);
    so.t.push_back(t);
    so.values.push_back(offered[k]);
    sa.t.push_back(t);
    sa.values.push_back(ok[k]);
    sf.t.push_back(t);
    sf.values.push_back(bad[k]);
    if (!lat[k].empty()) {
      sp.t.push_back(t);
      sp.values.push_back(percentile_ms(lat[k], 95));
    }
  }
  rps.series = {so, sa, sf};
  p95.series = {sp};
  return {reps, cpu, rps, p95};
}

std::string HpaEnv::last_unhealthy(double since) const {
  std::string out;
  for (const auto& e : timeline_->between(since, 1e18, {"pod/" + backend_}))
    if (e.kind == "Unhealthy" || e.kind == "ProbeWarning") out = e.message;
  return out;
}

std::string HpaEnv::explain_no_scale_up() const {
  const int target = target_replicas();
  const auto ss = samples(x_.t_load0, 1e18);
  int wanted = -1, desired = -1, spec = -1, live = 0, ready = 0;
  std::optional<double> peak_cpu;
  std::map<std::string, int> no_metrics;
  std::string limited;
  for (const auto& s : ss) {
    wanted = std::max(wanted, s.wanted);
    desired = std::max(desired, s.hpa_desired);
    spec = std::max(spec, s.spec_replicas);
    if (s.pods_read) {
      live = std::max(live, s.live);
      ready = std::max(ready, s.ready);
    }
    const auto cpu = s.hpa_cpu ? s.hpa_cpu : s.avg_cpu;
    if (cpu) peak_cpu = std::max(peak_cpu.value_or(0), *cpu);
    for (const auto& p : s.no_metrics) ++no_metrics[p];
    if (!s.limited.empty()) limited = s.limited;
  }
  if (target > max_)
    return fmt::format(
        "desired {} but maxReplicas {}: the target of {} replicas cannot be "
        "reached{}",
        std::max({wanted, desired, target}), max_, target,
        limited.empty() ? "" : " (ScalingLimited " + limited + ")");
  for (const auto& [pod, n] : no_metrics)
    if (n >= 3)
      return "metrics unavailable for pod " + pod + " (" + std::to_string(n) +
             " samples without metrics.k8s.io data): the HPA cannot compute its utilization";
  if (!x_.load_error.empty()) return "the load could not run: " + x_.load_error;
  // The target fits under maxReplicas, so a cap at maxReplicas is not why it was missed; it is
  // still worth a note.
  const std::string capped = wanted > max_ || !limited.empty()
                                 ? fmt::format("; the HPA wanted {}, capped at maxReplicas {}",
                                               std::max(wanted, desired), max_)
                                 : "";
  if (std::max(desired, spec) >= target) {
    // The HPA asked for the target and the Deployment followed: the shortfall is in readiness.
    const std::string probe = last_unhealthy(x_.t_load0);
    return fmt::format("replicas added but not Ready: {} live, at most {} Ready{}{}", live, ready,
                       probe.empty() ? "" : " (readiness probe failing: " + probe + ")", capped);
  }
  if (target_cpu_ > 0 && (!peak_cpu || *peak_cpu < target_cpu_ * (1 + cfg().controller.tolerance)))
    return fmt::format(
        "CPU reached {:.0f} % of request (target {:.0f} %): the load is too light "
        "or the request too large",
        peak_cpu.value_or(0), target_cpu_);
  return fmt::format(
      "the HPA wanted at most {} replicas (desired {}) at a peak CPU of {:.0f} % "
      "(target {:.0f} %){}",
      wanted, desired, peak_cpu.value_or(0), target_cpu_, capped);
}

void HpaEnv::stop(RunContext& run, SuiteResult& out) noexcept {
  stop_ = true;
  ramp_stop_ = true;
  cv_.notify_all();
  if (load_thread_.joinable()) load_thread_.join();
  if (sampler_thread_.joinable()) sampler_thread_.join();
  try {
    if (watch_) watch_->stop();
    if (!x_.load_error.empty()) out.error = "load: " + x_.load_error;
    if (mix_)
      clean_up_todo_mix_for_suite(run, cfg_.target.backend, ids_, *mix_, out, "load cleanup");
    if (timeline_ && x_.started) {
      for (auto& c : charts(std::max(0.0, x_.t_load0 - 5), run.now()))
        out.charts.push_back(std::move(c));
      out.events = timeline_->all();
      out.properties.push_back({"load", x_.load});
    }
  } catch (const std::exception& e) {
    out.error = std::string("stopping: ") + e.what();
  }
}

// ---- the group base class

HpaEnv& HpaCheck::env() {
  auto& e = c().fixture<HpaEnv>();
  if (!e.active()) KGATE_SETUP_ERROR() << "the hpa fixture found no cluster";
  return e;
}

void HpaCheck::require_preflight() {
  const auto& p = env().preflight();
  if (!p.ok())
    KGATE_INCONCLUSIVE() << "not measured: hpa.Preflight.Ready failed ("
                         << (p.problems.empty() ? "did not run" : p.problems.front()) << ")";
}

void HpaCheck::require_not_interrupted() {
  if (c().stop_requested())
    KGATE_INCONCLUSIVE() << "interrupted while the experiment ran: nothing is decided";
}

std::string HpaCheck::secs(double s) {
  return fmt::format("{:.1f} s", s);
}

}  // namespace kgate::hpa
