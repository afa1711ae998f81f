#include "kgate/cluster/watch.hpp"

#include <algorithm>
#include <set>

#include "kgate/cluster/objects.hpp"
#include "kgate/http.hpp"

namespace kgate::cluster {
namespace {

namespace res = kube::resources;
using Clock = std::chrono::steady_clock;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<EndpointView> endpoints_of(const json& slice, const std::string& service) {
  std::vector<EndpointView> out;
  for (const auto& ep : slice.value("endpoints", json::array())) {
    EndpointView v;
    v.service = service;
    auto addresses = ep.value("addresses", json::array());
    v.address = addresses.empty() ? "" : addresses[0].get<std::string>();
    const auto ref = ep.value("targetRef", json::object());
    v.pod = ref.value("kind", "") == "Pod" ? ref.value("name", "") : "";
    const auto cond = ep.value("conditions", json::object());
    // The API: an absent `ready` is to be read as true; `serving` follows ready unless given.
    v.ready = !cond.contains("ready") || cond["ready"].is_null() || cond.value("ready", true);
    v.serving = cond.contains("serving") && !cond["serving"].is_null()
                    ? cond.value("serving", false)
                    : v.ready;
    v.terminating = cond.value("terminating", false);
    out.push_back(std::move(v));
  }
  return out;
}

std::string endpoint_key(const EndpointView& e) {
  return e.pod.empty() ? e.address : e.pod;
}

std::string endpoint_ref(const EndpointView& e) {
  return "endpoints/" + e.service + "/" + (e.pod.empty() ? e.address : e.pod);
}

std::string endpoint_state(const EndpointView& e) {
  return std::string("ready=") + (e.ready ? "true" : "false") +
         " serving=" + (e.serving ? "true" : "false") +
         " terminating=" + (e.terminating ? "true" : "false") +
         (e.address.empty() ? "" : " " + e.address);
}

int restarts_of(const json& pod) {
  int n = 0;
  for (const auto& c :
       pod.value("status", json::object()).value("containerStatuses", json::array()))
    n += c.value("restartCount", 0);
  return n;
}

std::string hpa_text(const json& h) {
  const auto spec = h.value("spec", json::object());
  const auto status = h.value("status", json::object());
  std::string metrics;
  for (const auto& m : status.value("currentMetrics", json::array())) {
    const auto r = m.value("resource", json::object());
    const auto cur = r.value("current", json::object());
    if (cur.contains("averageUtilization"))
      metrics += (metrics.empty() ? "" : ", ") + r.value("name", "?") + " " +
                 std::to_string(cur.value("averageUtilization", 0)) + "%";
  }
  return "desired " + std::to_string(status.value("desiredReplicas", 0)) + ", current " +
         std::to_string(status.value("currentReplicas", 0)) + " (min " +
         std::to_string(spec.value("minReplicas", 1)) + ", max " +
         std::to_string(spec.value("maxReplicas", 0)) + ")" +
         (metrics.empty() ? "" : "; " + metrics);
}

}  // namespace

ClusterWatch::ClusterWatch(kube::Client& client, WatchScope scope, Timeline& timeline)
    : client_(client), scope_(std::move(scope)), timeline_(timeline) {}

ClusterWatch::~ClusterWatch() {
  stop();
}

const WatchScope::Tier* ClusterWatch::tier_of_pod(const json& labels) const {
  for (const auto& t : scope_.tiers)
    if (selector_matches(t.selector, labels)) return &t;
  return nullptr;
}

const WatchScope::Tier* ClusterWatch::tier_of_service(const std::string& service) const {
  for (const auto& t : scope_.tiers)
    if (std::find(t.services.begin(), t.services.end(), service) != t.services.end()) return &t;
  return nullptr;
}

void ClusterWatch::changed() {
  {
    std::lock_guard lock(mutex_);
    ++version_;
  }
  cv_.notify_all();
}

void ClusterWatch::start(std::chrono::milliseconds timeout) {
  bool any_hpa = false;
  for (const auto& t : scope_.tiers) any_hpa = any_hpa || !t.hpas.empty();
  struct Spec {
    const kube::ResourceType* type;
    std::string selector, what;
  };
  std::vector<Spec> specs{{&res::pods, scope_.label_selector, "pods"},
                          {&res::endpoint_slices, "", "endpointslices"},
                          {&res::deployments, scope_.label_selector, "deployments"}};
  if (any_hpa) specs.push_back({&res::horizontal_pod_autoscalers, "", "horizontalpodautoscalers"});
  if (scope_.events) specs.push_back({&res::events, "", "events"});
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : specs) listed_[s.what] = false;
  }
  for (const auto& s : specs)
    threads_.emplace_back([this, s] { run(*s.type, s.selector, s.what); });
  std::string why;
  const bool ok = wait_until(
      [this, &why] {
        std::lock_guard lock(mutex_);
        for (const auto& [what, listed] : listed_)
          if (!listed) {
            why = what + (error_.empty() ? "" : ": " + error_);
            return false;
          }
        return true;
      },
      timeout,
      [this] {
        std::lock_guard lock(mutex_);
        return error_.find("403") != std::string::npos ||
               error_.find("forbidden") != std::string::npos;
      });
  if (!ok) {
    stop();
    throw std::runtime_error("the watch of " + why + " did not start within " +
                             std::to_string(timeout.count()) + " ms");
  }
}

void ClusterWatch::stop() noexcept {
  stop_ = true;
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void ClusterWatch::run(const kube::ResourceType& type, const std::string& label_selector,
                       const std::string& what) {
  bool initial = true;
  int failures = 0;
  auto nap = [this](std::chrono::milliseconds d) {
    const auto until = Clock::now() + d;
    while (!stop_ && Clock::now() < until) {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
  };
  while (!stop_) {
    kube::WatchOptions wo;
    wo.label_selector = label_selector;
    // Short server-side streams: each ends within seconds, so stop() is prompt; the client
    // resumes from the last resourceVersion in between, losing nothing.
    wo.timeout_seconds = 3;
    wo.idle_timeout = std::chrono::seconds(20);
    try {
      client_.watch(
          type, scope_.ns, wo,
          [&](const kube::WatchEvent& e) {
            if (stop_) return false;
            if (e.type == "RELIST") {
              relist(type, e.object, initial);
              if (initial) {
                std::lock_guard lock(mutex_);
                listed_[what] = true;
              }
              initial = false;
            } else if (e.type != "BOOKMARK") {
              on_event(type, e, false);
            }
            failures = 0;
            changed();
            return !stop_;
          },
          &stop_);
    } catch (const http::TransportError& e) {
      if (stop_) break;
      // Interrupted: a check's timeout or Ctrl-C stops every blocking call for a moment. Start
      // again from a fresh list (diffed against what is known), after a short pause.
      if (e.kind() != http::ErrorKind::Interrupted) {
        std::lock_guard lock(mutex_);
        error_ = what + ": " + e.what();
        ++failures;
      }
      nap(std::chrono::milliseconds(failures > 0 ? 1000 : 200));
    } catch (const std::exception& e) {
      if (stop_) break;
      {
        std::lock_guard lock(mutex_);
        error_ = what + ": " + e.what();
      }
      timeline_.add("WatchFailed", "kgate/watch/" + what, e.what());
      changed();
      const auto* api = dynamic_cast<const kube::ApiError*>(&e);
      if (api && api->http_status() == 403) return;  // no permission: retrying cannot help
      nap(std::chrono::milliseconds(1000 * std::min(++failures, 5)));
    }
  }
}

void ClusterWatch::relist(const kube::ResourceType& type, const json& list, bool initial) {
  const auto items = list.value("items", json::array());
  if (&type == &res::pods) {
    std::set<std::string> present;
    for (const auto& p : items) {
      present.insert(name_of(p));
      on_pod(p, false, initial);
    }
    if (!initial) {
      std::vector<std::string> gone;
      {
        std::lock_guard lock(mutex_);
        for (const auto& [name, v] : pods_)
          if (!v.deleted && !present.count(name)) gone.push_back(name);
      }
      for (const auto& name : gone) on_pod(json{{"metadata", {{"name", name}}}}, true, false);
    }
  } else if (&type == &res::endpoint_slices) {
    std::set<std::string> present;
    for (const auto& s : items) {
      present.insert(name_of(s));
      on_slice(s, false, initial);
    }
    std::vector<std::string> gone;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [name, eps] : slices_)
        if (!present.count(name)) gone.push_back(name);
    }
    for (const auto& name : gone) on_slice(json{{"metadata", {{"name", name}}}}, true, initial);
  } else if (&type == &res::deployments) {
    for (const auto& d : items) on_deployment(d, initial);
  } else if (&type == &res::horizontal_pod_autoscalers) {
    for (const auto& h : items) on_hpa(h, initial);
  } else if (&type == &res::events) {
    for (const auto& e : items) {
      if (initial) {
        std::lock_guard lock(mutex_);
        event_counts_[uid_of(e)] = e.value("count", 1);
      } else {
        on_k8s_event(e);
      }
    }
  }
}

void ClusterWatch::on_event(const kube::ResourceType& type, const kube::WatchEvent& e,
                            bool initial) {
  const bool deleted = e.type == "DELETED";
  if (&type == &res::pods) on_pod(e.object, deleted, initial);
  if (&type == &res::endpoint_slices) on_slice(e.object, deleted, initial);
  if (&type == &res::deployments && !deleted) on_deployment(e.object, initial);
  if (&type == &res::horizontal_pod_autoscalers && !deleted) on_hpa(e.object, initial);
  if (&type == &res::events && !deleted) on_k8s_event(e.object);
}

void ClusterWatch::on_pod(const json& pod, bool deleted, bool initial) {
  const std::string name = name_of(pod);
  const double t = timeline_.now();
  std::vector<std::tuple<std::string, std::string>> emit;  // kind, message
  {
    std::lock_guard lock(mutex_);
    auto it = pods_.find(name);
    if (deleted) {
      if (it == pods_.end() || it->second.deleted) return;
      it->second.deleted = true;
      it->second.deleted_at = t;
      it->second.ready = false;
      emit.emplace_back("PodDeleted", it->second.role + " pod gone");
    } else {
      const auto labels = pod.value("metadata", json::object()).value("labels", json::object());
      const auto* tier = tier_of_pod(labels);
      if (!tier) return;
      const bool fresh = it == pods_.end() || it->second.uid != uid_of(pod);
      PodView& v = pods_[name];
      if (fresh) {
        v = PodView{};
        v.name = name;
        v.uid = uid_of(pod);
        v.role = tier->role;
        v.first_seen = t;
        if (!initial)
          emit.emplace_back("PodCreated", tier->role + " pod created (replica set " +
                                              owner_of(pod, "ReplicaSet") + ")");
      }
      const auto status = pod.value("status", json::object());
      const bool scheduled = pod_condition(pod, "PodScheduled") == "True";
      const bool ready = pod_ready(pod);
      const bool terminating = pod_terminating(pod);
      const int restarts = restarts_of(pod);
      const std::string phase = status.value("phase", "");
      if (!initial && !fresh) {
        if (scheduled && !v.scheduled)
          emit.emplace_back(
              "Scheduled",
              "bound to " + pod.value("spec", json::object()).value("nodeName", std::string("?")));
        if (ready && !v.ready)
          emit.emplace_back("Ready", "pod Ready (" + status.value("podIP", "") + ")");
        if (!ready && v.ready && !terminating) emit.emplace_back("NotReady", "readiness lost");
        if (terminating && !v.terminating)
          emit.emplace_back(
              "Terminating",
              "deletion requested, grace " +
                  std::to_string(pod["metadata"].value("deletionGracePeriodSeconds", 0)) + " s");
        if (restarts > v.restarts)
          emit.emplace_back("ContainerRestarted", std::to_string(restarts) + " restarts");
        if (phase != v.phase && (phase == "Failed" || phase == "Succeeded"))
          emit.emplace_back("Phase", phase);
      } else if (fresh && !initial) {
        if (scheduled) emit.emplace_back("Scheduled", "bound at creation");
        if (ready) emit.emplace_back("Ready", "pod Ready");
      }
      if (ready && !v.ready_at) v.ready_at = t;
      if (terminating && !v.terminating_at) v.terminating_at = t;
      v.scheduled = scheduled;
      v.ready = ready;
      v.terminating = terminating;
      v.restarts = restarts;
      v.phase = phase;
      v.ip = status.value("podIP", v.ip);
    }
  }
  for (auto& [kind, message] : emit) timeline_.add_at(t, kind, "pod/" + name, message);
}

void ClusterWatch::on_slice(const json& slice, bool deleted, bool initial) {
  const std::string name = name_of(slice);
  const double t = timeline_.now();
  std::string service = slice.value("metadata", json::object())
                            .value("labels", json::object())
                            .value("kubernetes.io/service-name", "");
  std::vector<std::tuple<std::string, std::string, std::string>> emit;  // kind, object, message
  std::string role;
  {
    std::lock_guard lock(mutex_);
    auto old_it = slices_.find(name);
    if (deleted && old_it == slices_.end()) return;
    if (service.empty() && old_it != slices_.end() && !old_it->second.empty())
      service = old_it->second.front().service;
    const auto* tier = tier_of_service(service);
    if (!tier) return;
    role = tier->role;
    std::vector<EndpointView> now =
        deleted ? std::vector<EndpointView>{} : endpoints_of(slice, service);
    std::vector<EndpointView> before =
        old_it == slices_.end() ? std::vector<EndpointView>{} : old_it->second;
    if (!initial) {
      for (const auto& n : now) {
        auto was = std::find_if(before.begin(), before.end(), [&](const EndpointView& b) {
          return endpoint_key(b) == endpoint_key(n);
        });
        if (was == before.end()) {
          emit.emplace_back(n.ready ? "EndpointAdded" : "EndpointAddedNotReady", endpoint_ref(n),
                            endpoint_state(n));
        } else if (n.ready && !was->ready) {
          emit.emplace_back("EndpointReady", endpoint_ref(n), endpoint_state(n));
        } else if (!n.ready && was->ready) {
          emit.emplace_back(n.terminating ? "EndpointTerminating" : "EndpointNotReady",
                            endpoint_ref(n), endpoint_state(n));
        } else if (n.terminating != was->terminating || n.serving != was->serving) {
          emit.emplace_back(n.terminating ? "EndpointTerminating" : "EndpointChanged",
                            endpoint_ref(n), endpoint_state(n));
        }
      }
      for (const auto& b : before) {
        const bool kept = std::any_of(now.begin(), now.end(), [&](const EndpointView& n) {
          return endpoint_key(b) == endpoint_key(n);
        });
        if (!kept)
          emit.emplace_back("EndpointRemoved", endpoint_ref(b), "withdrawn from the slice");
      }
    }
    if (deleted)
      slices_.erase(name);
    else
      slices_[name] = std::move(now);
    record_endpoint_counts(role, t);
  }
  for (auto& [kind, object, message] : emit) timeline_.add_at(t, kind, object, message);
}

// Called with mutex_ held.
void ClusterWatch::record_endpoint_counts(const std::string& role, double t) {
  std::map<std::string, EndpointView> by_key;
  for (const auto& [slice, eps] : slices_)
    for (const auto& e : eps) {
      const auto* tier = tier_of_service(e.service);
      if (tier && tier->role == role) by_key[endpoint_key(e)] = e;
    }
  EndpointCount c;
  c.t = t;
  for (const auto& [k, e] : by_key) {
    if (e.ready)
      ++c.ready;
    else if (e.terminating)
      ++c.terminating;
    else
      ++c.not_ready;
  }
  auto& h = endpoint_history_[role];
  if (!h.empty() && h.back().ready == c.ready && h.back().not_ready == c.not_ready &&
      h.back().terminating == c.terminating)
    return;
  h.push_back(c);
}

void ClusterWatch::on_deployment(const json& d, bool initial) {
  const std::string name = name_of(d);
  const double t = timeline_.now();
  std::vector<std::tuple<std::string, std::string>> emit;
  {
    std::lock_guard lock(mutex_);
    const WatchScope::Tier* tier = nullptr;
    for (const auto& tr : scope_.tiers)
      if (tr.deployment == name) tier = &tr;
    if (!tier) return;
    auto& old = deployments_[tier->role];
    if (!initial && !old.is_null()) {
      if (desired_replicas(old) != desired_replicas(d))
        emit.emplace_back("ReplicasChanged", "spec.replicas " +
                                                 std::to_string(desired_replicas(old)) + " -> " +
                                                 std::to_string(desired_replicas(d)));
      const std::string before = deployment_status_text(old), after = deployment_status_text(d);
      if (before != after) emit.emplace_back("DeploymentStatus", after);
      if (!deployment_settled(old) && deployment_settled(d))
        emit.emplace_back("RolloutComplete", after);
    }
    old = d;
  }
  for (auto& [kind, message] : emit) timeline_.add_at(t, kind, "deployment/" + name, message);
}

void ClusterWatch::on_hpa(const json& h, bool initial) {
  const std::string name = name_of(h);
  const double t = timeline_.now();
  std::string message;
  {
    std::lock_guard lock(mutex_);
    const bool ours = std::any_of(scope_.tiers.begin(), scope_.tiers.end(), [&](const auto& tr) {
      return std::find(tr.hpas.begin(), tr.hpas.end(), name) != tr.hpas.end();
    });
    if (!ours) return;
    auto& old = hpas_[name];
    if (!initial && !old.is_null() && hpa_text(old) != hpa_text(h)) message = hpa_text(h);
    old = h;
  }
  if (!message.empty()) timeline_.add_at(t, "HPA", "hpa/" + name, message);
}

void ClusterWatch::on_k8s_event(const json& e) {
  const auto involved = e.value("involvedObject", json::object());
  const std::string kind = involved.value("kind", ""), name = involved.value("name", "");
  bool ours = false;
  {
    std::lock_guard lock(mutex_);
    for (const auto& tr : scope_.tiers) {
      const bool prefixed = name.rfind(tr.deployment + "-", 0) == 0;
      if ((kind == "Pod" && (pods_.count(name) || prefixed)) ||
          (kind == "ReplicaSet" && prefixed) || (kind == "Deployment" && name == tr.deployment) ||
          (kind == "HorizontalPodAutoscaler" &&
           std::find(tr.hpas.begin(), tr.hpas.end(), name) != tr.hpas.end()))
        ours = true;
    }
    if (!ours) return;
    const int count = e.value("count", 1);
    auto& seen = event_counts_[uid_of(e)];
    if (seen >= count && seen > 0) return;
    seen = count;
  }
  timeline_.add(e.value("reason", "Event"), lower(kind) + "/" + name, e.value("message", ""));
}

std::vector<PodView> ClusterWatch::pods(std::string_view role, bool include_deleted) const {
  std::lock_guard lock(mutex_);
  std::vector<PodView> out;
  for (const auto& [name, v] : pods_)
    if (v.role == role && (include_deleted || !v.deleted)) out.push_back(v);
  return out;
}

std::optional<PodView> ClusterWatch::pod(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = pods_.find(std::string(name));
  if (it == pods_.end()) return std::nullopt;
  return it->second;
}

std::vector<EndpointView> ClusterWatch::endpoints(std::string_view role) const {
  std::lock_guard lock(mutex_);
  std::vector<EndpointView> out;
  for (const auto& [slice, eps] : slices_)
    for (const auto& e : eps) {
      const auto* tier = tier_of_service(e.service);
      if (tier && tier->role == role) out.push_back(e);
    }
  return out;
}

std::vector<EndpointCount> ClusterWatch::endpoint_history(std::string_view role) const {
  std::lock_guard lock(mutex_);
  auto it = endpoint_history_.find(std::string(role));
  return it == endpoint_history_.end() ? std::vector<EndpointCount>{} : it->second;
}

json ClusterWatch::deployment(std::string_view role) const {
  std::lock_guard lock(mutex_);
  auto it = deployments_.find(std::string(role));
  return it == deployments_.end() ? json() : it->second;
}

json ClusterWatch::hpa(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = hpas_.find(std::string(name));
  return it == hpas_.end() ? json() : it->second;
}

std::string ClusterWatch::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

bool ClusterWatch::wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                              const std::function<bool()>& give_up) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::uint64_t seen;
    {
      std::lock_guard lock(mutex_);
      seen = version_;
    }
    if (pred()) return true;
    if (give_up && give_up()) return false;
    if (Clock::now() >= deadline || stop_) return false;
    std::unique_lock lock(mutex_);
    // Woken by every change; the 100 ms bound only lets give_up() be asked (Ctrl-C).
    cv_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(100)),
                   [&] { return version_ != seen || stop_; });
  }
}

}  // namespace kgate::cluster
