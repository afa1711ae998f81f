#include "kgate/load_watch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "kgate/cluster/objects.hpp"
#include "kgate/config.hpp"
#include "kgate/kube/client.hpp"
#include "kgate/redact.hpp"

namespace kgate {

using nlohmann::json;
namespace res = kube::resources;

namespace {

constexpr std::size_t kMaxSamples = 24 * 3600;  // a day of ticks bounds the memory

// A DNS-1123 subdomain, as the API requires of a Deployment's name.
bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 253) return false;
  auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  };
  if (!alnum(n.front()) || !alnum(n.back())) return false;
  return std::all_of(n.begin(), n.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

std::string pct(double v) {
  return fmt::format("{:.0f}%", v);
}

}  // namespace

std::string parse_watch_target(const std::string& value) {
  const auto slash = value.find('/');
  if (slash == std::string::npos)
    throw ConfigError("--watch '" + value + "': expected deployment/NAME");
  const std::string kind = value.substr(0, slash), name = value.substr(slash + 1);
  if (kind != "deployment" && kind != "deployments" && kind != "deploy" &&
      kind != "deployment.apps")
    throw ConfigError("--watch '" + value +
                      "': only a Deployment can be watched (deployment/NAME), not '" + kind + "'");
  if (name.empty())
    throw ConfigError("--watch '" + value +
                      "': the Deployment's name is missing (deployment/NAME)");
  if (!valid_name(name))
    throw ConfigError("--watch '" + value + "': '" + name +
                      "' is not a valid Deployment name (lowercase letters, digits, '-' and '.')");
  return name;
}

ScalingSummary summarize_scaling(const std::vector<cluster::ScaleSample>& samples, int initial) {
  ScalingSummary s;
  s.initial = initial;
  for (const auto& x : samples) {
    ++s.samples;
    if (!x.error.empty()) {
      ++s.errors;
      s.last_error = x.error;
    }
    // The HPA's decision when there is one (it precedes the Deployment's change by a sync), else
    // whoever set spec.replicas.
    // A new HPA reports desiredReplicas 0 until its first sync: no decision, nothing known.
    const int desired = x.hpa_desired > 0   ? x.hpa_desired
                        : x.hpa_desired < 0 ? x.spec_replicas
                                            : -1;
    if (!s.t_first_decision && initial >= 0 && desired >= 0 && desired != initial) {
      s.t_first_decision = x.t;
      s.first_decision_to = desired;
    }
    s.max_desired = std::max(s.max_desired, x.spec_replicas);
    if (x.pods_read) s.max_ready = std::max(s.max_ready, x.ready);
    if (x.hpa_cpu) s.peak_hpa_cpu = std::max(s.peak_hpa_cpu.value_or(0), *x.hpa_cpu);
  }
  return s;
}

LoadWatch::LoadWatch(std::unique_ptr<kube::Client> client, const std::string& ns,
                     const std::string& deployment)
    : client_(std::move(client)) {
  const std::string what = "deployment/" + deployment + " in namespace " + ns;
  cluster::ScaleTarget target;
  json d;
  try {
    target = cluster::find_scale_target(*client_, ns, deployment);
    d = client_->get(res::deployments, ns, deployment);
  } catch (const kube::ApiError& e) {
    if (e.http_status() == 404) throw Error("--watch: " + what + " does not exist", false);
    throw Error("--watch: cannot read " + what + ": " + e.what(), true);
  } catch (const std::exception& e) {
    throw Error("--watch: cannot read " + what + ": " + e.what(), true);
  }
  initial_ = cluster::desired_replicas(d);
  sampler_ = std::make_unique<cluster::ScaleSampler>(*client_, std::move(target));
}

LoadWatch::~LoadWatch() {
  stop();
}

std::string LoadWatch::describe() const {
  const auto& t = sampler_->target();
  std::string out = "deployment/" + t.deployment + " in namespace " + t.ns + " (" +
                    std::to_string(initial_) + " replicas)";
  if (t.hpa.empty()) return out + ", no HPA targets it";
  out +=
      ", scaled by hpa/" + t.hpa + fmt::format(" ({}..{} replicas", t.min_replicas, t.max_replicas);
  if (t.target_cpu > 0) out += fmt::format(", cpu target {:.0f} %", t.target_cpu);
  return out + ")";
}

void LoadWatch::start(std::chrono::steady_clock::time_point t0) {
  t0_ = t0;
  thread_ = std::thread([this] { loop(); });
}

void LoadWatch::stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LoadWatch::loop() {
  while (!stop_) {
    const auto tick = std::chrono::steady_clock::now();
    const double t = std::chrono::duration<double>(tick - t0_).count();
    auto s = sampler_->sample(t, nullptr, &stop_);
    if (stop_) break;  // cut short by stop(): partial, not a sample
    s.error = redact(s.error);
    std::unique_lock lock(mutex_);
    if (samples_.size() < kMaxSamples) samples_.push_back(std::move(s));
    // A tick a second on the watch's own schedule: a slow API delays the next tick, never the
    // load.
    cv_.wait_until(lock, tick + std::chrono::seconds(1), [this] { return stop_.load(); });
  }
}

std::vector<cluster::ScaleSample> LoadWatch::samples() const {
  std::lock_guard lock(mutex_);
  return samples_;
}

std::string LoadWatch::live_text() const {
  std::optional<cluster::ScaleSample> s;
  {
    std::lock_guard lock(mutex_);
    if (samples_.empty()) return "replicas ?";
    s = samples_.back();
  }
  std::string out =
      s->pods_read ? fmt::format("replicas {}/{} ready", s->ready,
                                 s->spec_replicas >= 0 ? std::to_string(s->spec_replicas) : "?")
                   : "replicas ?";
  const auto& t = sampler_->target();
  if (!t.hpa.empty() && s->hpa_desired >= 0) {
    out += "  hpa cpu " + (s->hpa_cpu ? pct(*s->hpa_cpu) : std::string("?"));
    if (t.target_cpu > 0) out += "/" + pct(t.target_cpu);
    out += " desired " + std::to_string(s->hpa_desired);
  }
  if (!s->error.empty()) out += "  watch: " + s->error.substr(0, 100);
  return out;
}

json LoadWatch::to_json() const {
  const auto ss = samples();
  const auto& t = sampler_->target();
  const auto sum = summarize_scaling(ss, initial_);
  json rows = json::array();
  for (const auto& s : ss) {
    json r = {{"t", s.t}};
    if (s.spec_replicas >= 0) r["replicas_desired"] = s.spec_replicas;
    if (s.pods_read) {
      r["replicas_current"] = s.live;
      r["replicas_ready"] = s.ready;
    }
    if (s.hpa_desired >= 0) {
      r["hpa_desired"] = s.hpa_desired;
      r["hpa_current"] = s.hpa_current;
    }
    if (s.hpa_cpu) r["hpa_cpu"] = *s.hpa_cpu;
    if (s.avg_cpu) r["pods_cpu"] = *s.avg_cpu;
    if (!s.error.empty()) r["error"] = s.error;
    rows.push_back(std::move(r));
  }
  json out = {{"deployment", t.deployment},
              {"namespace", t.ns},
              {"hpa", t.hpa.empty() ? json(nullptr) : json(t.hpa)},
              {"initial_replicas", initial_},
              {"samples", rows},
              {"sampling_errors", sum.errors}};
  if (!t.hpa.empty()) {
    out["min_replicas"] = t.min_replicas;
    out["max_replicas"] = t.max_replicas;
    if (t.target_cpu > 0) out["target_cpu"] = t.target_cpu;
  }
  out["first_scale_decision_to"] =
      sum.t_first_decision ? json(sum.first_decision_to) : json(nullptr);
  out["first_scale_decision_s"] =
      sum.t_first_decision ? json(*sum.t_first_decision) : json(nullptr);
  out["max_replicas_desired"] = sum.max_desired >= 0 ? json(sum.max_desired) : json(nullptr);
  out["max_replicas_ready"] = sum.max_ready >= 0 ? json(sum.max_ready) : json(nullptr);
  if (sum.peak_hpa_cpu) out["peak_hpa_cpu"] = *sum.peak_hpa_cpu;
  return out;
}

void LoadWatch::add_to_series(json& series, double interval_s) const {
  const auto ss = samples();
  std::size_t k = 0;
  const cluster::ScaleSample* last = nullptr;
  for (auto& row : series) {
    const double end = row.value("t", 0.0) + interval_s;
    while (k < ss.size() && ss[k].t < end) last = &ss[k++];
    if (!last) continue;  // nothing sampled yet in this interval
    if (last->spec_replicas >= 0) row["replicas_desired"] = last->spec_replicas;
    if (last->pods_read) {
      row["replicas_current"] = last->live;
      row["replicas_ready"] = last->ready;
    }
    if (last->hpa_desired >= 0) row["hpa_desired"] = last->hpa_desired;
    if (last->hpa_cpu) row["hpa_cpu"] = *last->hpa_cpu;
  }
}

std::string LoadWatch::summary_text() const {
  const auto ss = samples();
  const auto sum = summarize_scaling(ss, initial_);
  const auto& t = sampler_->target();
  std::string out =
      "scaling: deployment/" + t.deployment + " from " + std::to_string(initial_) + " replicas";
  if (sum.samples == 0 || sum.errors == sum.samples) {
    return out + ": not measured, no sample could be read" +
           (sum.last_error.empty() ? "" : " (" + sum.last_error + ")") + "\n";
  }
  if (sum.t_first_decision)
    out += fmt::format(", first scale decision at {:.1f} s (to {})", *sum.t_first_decision,
                       sum.first_decision_to);
  else
    out += ", no scale decision";
  out += fmt::format(", max {} desired / {} Ready", sum.max_desired, sum.max_ready);
  if (sum.peak_hpa_cpu)
    out += fmt::format(", hpa cpu peak {:.0f} %", *sum.peak_hpa_cpu) +
           (t.target_cpu > 0 ? fmt::format(" (target {:.0f} %)", t.target_cpu) : "");
  out += fmt::format("; {} samples", sum.samples);
  if (sum.errors > 0) out += fmt::format(", {} with errors (last: {})", sum.errors, sum.last_error);
  return out + "\n";
}

}  // namespace kgate
