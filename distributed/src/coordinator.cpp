#include "kgate/distributed/coordinator.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "kgate/distributed/report.hpp"
#include "kgate/log_block.hpp"
#include "kgate/redact.hpp"

namespace kgate::dist {

using nlohmann::json;
namespace res = kube::resources;

namespace {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;
using std::chrono::milliseconds;

const kube::ResourceType kJobs{"batch", "v1", "jobs", true};
constexpr const char* kIndexKey = "batch.kubernetes.io/job-completion-index";

std::int64_t unix_ns_now() {
  return std::chrono::duration_cast<Nanos>(SystemClock::now().time_since_epoch()).count();
}

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

std::string name_of(const json& pod) {
  return pod["metadata"].value("name", "");
}

// The completion index from the annotation (or the label of the same name, newer clusters).
std::optional<int> index_of(const json& pod) {
  for (const char* where : {"annotations", "labels"}) {
    const json m = pod["metadata"].value(where, json::object());
    auto it = m.find(kIndexKey);
    if (it != m.end() && it->is_string()) {
      try {
        return std::stoi(it->get<std::string>());
      } catch (const std::exception&) {
      }
    }
  }
  return std::nullopt;
}

json condition(const json& pod, const std::string& type) {
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == type) return c;
  return json::object();
}

bool is_ready(const json& pod) {
  return condition(pod, "Ready").value("status", "") == "True" &&
         !pod["metadata"].contains("deletionTimestamp");
}

std::string phase_of(const json& pod) {
  return pod.value("status", json::object()).value("phase", "");
}

bool is_finished(const json& pod) {
  const std::string p = phase_of(pod);
  return p == "Succeeded" || p == "Failed";
}

json container_state(const json& pod) {
  const auto statuses =
      pod.value("status", json::object()).value("containerStatuses", json::array());
  return statuses.empty() ? json::object() : statuses[0].value("state", json::object());
}

std::string exit_text(const json& terminated) {
  const int code = terminated.value("exitCode", -1);
  std::string out = "exit " + std::to_string(code);
  if (code == 137) out += " (SIGKILL)";
  if (code == 143) out += " (SIGTERM)";
  if (code == 3) out += " (it could not reach the target)";
  if (code == 4) out += " (it got no start signal)";
  if (code == 5) out += " (it could not set up: see its log)";
  const std::string msg = terminated.value("message", "");
  if (!msg.empty()) out += ": " + msg;
  return out;
}

// Whatever a sleep of up to `d` should wait for: a stop.
void pause(milliseconds d, const std::function<bool()>& stop) {
  const auto until = SteadyClock::now() + d;
  while (SteadyClock::now() < until && !(stop && stop()))
    std::this_thread::sleep_for(std::min<milliseconds>(milliseconds(50), d));
}

// One worker as the coordinator follows it.
struct Tracked {
  std::optional<json> pod;  // the last state seen (nullopt: no pod yet, or gone)
  std::string pod_name;     // fixed once it is signalled
  bool signalled = false, done = false, seen_terminating = false;
  std::string last_log;  // the whole log, read when it ended or while it terminated
  std::optional<ProgressReport> progress;
  std::optional<WorkerReport> report;
  std::optional<double> offset_ms, uncertainty_ms;
  std::string reason;  // a problem the pod showed
};

}  // namespace

std::string new_run_id() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<std::uint64_t>(unix_ns_now()));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 10; ++i) out += hex[rng() % 16];
  return out;
}

std::string pod_problem(const json& pod) {
  const json disruption = condition(pod, "DisruptionTarget");
  if (disruption.value("status", "") == "True") {
    std::string why = disruption.value("reason", "");
    const std::string msg = disruption.value("message", "");
    return "evicted (" + why + (msg.empty() ? "" : ": " + msg) + ")";
  }
  const json state = container_state(pod);
  if (state.contains("terminated")) {
    const json& t = state["terminated"];
    if (t.value("exitCode", 0) != 0 || phase_of(pod) == "Failed") return exit_text(t);
  }
  if (state.contains("waiting")) {
    const json& w = state["waiting"];
    const std::string reason = w.value("reason", "");
    if (reason != "ContainerCreating" && reason != "PodInitializing" && !reason.empty())
      return reason + (w.value("message", "").empty() ? "" : ": " + w.value("message", ""));
  }
  const json scheduled = condition(pod, "PodScheduled");
  if (scheduled.value("status", "") == "False")
    return scheduled.value("reason", "Unschedulable") + ": " + scheduled.value("message", "");
  if (phase_of(pod) == "Failed") {
    const std::string reason = pod["status"].value("reason", "");
    const std::string msg = pod["status"].value("message", "");
    return "failed" + (reason.empty() ? "" : " (" + reason + ")") + (msg.empty() ? "" : ": " + msg);
  }
  return "";
}

DistResult run_distributed(kube::Client& client, const DistOptions& o, const WorkerPlan& plan,
                           const std::function<bool()>& stop,
                           const std::function<void(const LiveStatus&)>& live) {
  auto stopped = [&] { return stop && stop(); };
  const std::string ns = o.namespace_;
  const std::string job = job_name(plan.run_id);
  const bool has_secret = !o.run_secret.empty();
  const std::string secret = secret_name(plan.run_id);
  const int n = plan.workers;
  std::shared_ptr<const load::Executor> whole = load::make_executor(plan.executor);
  const double total_s = std::chrono::duration<double>(whole->duration()).count();

  DistResult out;
  out.job = job;
  out.namespace_ = ns;
  out.run_id = plan.run_id;
  out.workers = n;
  out.scheduled = whole->open_model() ? whole->total_iterations() : 0;

  kube::ListOptions by_run;
  by_run.label_selector = pod_selector(plan.run_id);
  auto pods_by_index = [&] {
    std::map<int, std::vector<json>> m;
    const json list = client.list(res::pods, ns, by_run);
    for (const auto& p : list["items"])
      if (auto i = index_of(p); i && *i >= 0 && *i < n) m[*i].push_back(p);
    return m;
  };

  // Deletes the Job with foreground propagation and waits until it and its pods are gone.
  auto clean_up = [&]() {
    if (live)
      live({.phase = "cleaning up", .workers = n, .total_s = total_s, .note = "deleting " + job});
    // The Secret goes explicitly too (its owner reference to the Job is the fallback for a
    // coordinator killed before this), whether or not the Job's delete went through.
    std::string secret_error;
    if (has_secret) {
      try {
        client.remove(res::secrets, ns, secret);
      } catch (const std::exception& e) {
        secret_error = "; could not delete Secret " + secret + ": " + redact(e.what());
      }
    }
    try {
      kube::DeleteOptions d;
      d.propagation_policy = "Foreground";
      client.remove(kJobs, ns, job, d);
      const auto deadline = SteadyClock::now() + o.cleanup_timeout;
      std::string left;
      for (;;) {
        const bool job_left = client.find(kJobs, ns, job).has_value();
        const bool secret_left = has_secret && client.find(res::secrets, ns, secret).has_value();
        const auto pods = client.list(res::pods, ns, by_run)["items"];
        if (!job_left && !secret_left && pods.empty()) {
          out.cleaned_up = true;
          out.cleanup =
              "deleted Job " + job +
              (has_secret ? ", its pods and Secret " + secret : std::string(" and its pods"));
          return;
        }
        std::vector<std::string> parts;
        if (job_left) parts.push_back("Job " + job);
        if (!pods.empty()) parts.push_back(std::to_string(pods.size()) + " pod(s)");
        if (secret_left) parts.push_back("Secret " + secret);
        left.clear();
        for (const auto& part : parts) left += (left.empty() ? "" : ", ") + part;
        if (SteadyClock::now() >= deadline) break;
        std::this_thread::sleep_for(milliseconds(200));
      }
      out.cleanup =
          "still there after " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(o.cleanup_timeout).count()) +
          " s: " + left + " (ttlSecondsAfterFinished removes the Job later)" + secret_error;
    } catch (const std::exception& e) {
      out.cleanup =
          std::string("could not delete Job ") + job + ": " + redact(e.what()) + secret_error;
    }
  };

  // The run's Secret first (the pods read it as they start), then the Job, then the Secret's
  // owner reference to the Job (its uid exists only now) so that the Job's deletion or its TTL
  // garbage-collects the Secret even if this process dies before cleaning up.
  if (has_secret) client.create(res::secrets, ns, secret_manifest(o, plan));
  json created;
  try {
    created =
        client.create(kJobs, ns, job_manifest(o, plan, [&] {
                        auto s = std::chrono::ceil<std::chrono::seconds>(
                            o.start_timeout + whole->duration() + plan.engine.connect_timeout +
                            plan.engine.request_timeout + std::chrono::minutes(2));
                        return std::chrono::seconds(s.count());
                      }()));
  } catch (...) {
    if (has_secret) {
      try {
        client.remove(res::secrets, ns, secret);
      } catch (const std::exception&) {
        // The API refused the Job and now this: the error above is the one to show.
      }
    }
    throw;
  }
  if (has_secret) {
    try {
      client.patch(res::secrets, ns, secret,
                   {{"metadata", {{"ownerReferences", json::array({owner_reference(created)})}}}});
    } catch (const std::exception& e) {
      // Not fatal: the explicit delete at the end still removes it.
      out.setup_notes.push_back("Secret " + secret + " has no owner reference to the Job (" +
                                redact(e.what()) + "): only kgate's own cleanup removes it");
    }
  }

  std::vector<Tracked> workers(static_cast<std::size_t>(n));
  try {
    // --- every worker Ready (listening for the signal), or the start timeout ------------------
    const auto start_deadline = SteadyClock::now() + o.start_timeout;
    for (;;) {
      auto pods = pods_by_index();
      int ready = 0, hopeless = 0;
      std::string note;
      for (int i = 0; i < n; ++i) {
        auto& w = workers[static_cast<std::size_t>(i)];
        auto it = pods.find(i);
        w.pod.reset();
        if (it == pods.end()) continue;
        for (const auto& p : it->second) {
          if (!w.pod || is_ready(p)) w.pod = p;
        }
        if (is_ready(*w.pod)) {
          ++ready;
        } else {
          w.reason = pod_problem(*w.pod);
          if (is_finished(*w.pod)) ++hopeless;
          if (note.empty() && !w.reason.empty()) note = name_of(*w.pod) + ": " + w.reason;
        }
      }
      if (live)
        live({.phase = "starting", .workers = n, .ready = ready, .total_s = total_s, .note = note});
      if (ready == n || ready + hopeless == n || stopped() || SteadyClock::now() >= start_deadline)
        break;
      std::this_thread::sleep_for(milliseconds(250));
    }
    std::vector<int> ready;
    for (int i = 0; i < n; ++i) {
      auto& w = workers[static_cast<std::size_t>(i)];
      if (w.pod && is_ready(*w.pod)) ready.push_back(i);
    }
    if (stopped()) {
      out.interrupted = true;
    } else if (ready.empty()) {
      std::string why;
      for (int i = 0; i < n; ++i) {
        const auto& w = workers[static_cast<std::size_t>(i)];
        why += "\n  worker " + std::to_string(i) + ": " +
               (w.pod ? "pod " + name_of(*w.pod) + ": " +
                            (w.reason.empty() ? "not Ready (" + phase_of(*w.pod) + ")" : w.reason)
                      : std::string("no pod was created"));
      }
      throw DistError(
          "no worker became Ready within " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(o.start_timeout).count()) +
          " s:" + why);
    }

    // --- the start barrier: one instant, on the workers' clocks ------------------------------
    const std::string port = std::to_string(plan.barrier_port);
    std::int64_t offset0 = 0;  // the workers' clock minus ours
    if (!out.interrupted) {
      // The cluster's clock from one worker (the coordinator's may differ), and the round trip
      // that says how long signalling every worker takes.
      const std::string first = name_of(*workers[static_cast<std::size_t>(ready[0])].pod);
      const std::int64_t s0 = unix_ns_now();
      const json clock = client.get(res::pods, ns, first + ":" + port, "proxy/clock");
      const std::int64_t a0 = unix_ns_now();
      offset0 = clock.value("now_unix_ns", std::int64_t{0}) - (s0 + a0) / 2;
      const std::int64_t lead =
          std::max<std::int64_t>(std::chrono::duration_cast<Nanos>(o.start_lead).count(),
                                 (a0 - s0) * 4 * static_cast<std::int64_t>(ready.size()));
      out.start_unix_ns = unix_ns_now() + offset0 + lead;
      for (int i : ready) {
        auto& w = workers[static_cast<std::size_t>(i)];
        w.pod_name = name_of(*w.pod);
        const std::int64_t s = unix_ns_now();
        try {
          const json answer = client.create(
              res::pods, ns, {{"run", plan.run_id}, {"at_unix_ns", out.start_unix_ns}},
              w.pod_name + ":" + port, "proxy/start");
          const std::int64_t a = unix_ns_now();
          if (!answer.value("accepted", false)) throw std::runtime_error(answer.dump());
          w.signalled = true;
          w.offset_ms = ms(answer.value("now_unix_ns", std::int64_t{0}) - (s + a) / 2);
          w.uncertainty_ms = ms(a - s) / 2;
          ++out.started;
        } catch (const std::exception& e) {
          w.reason = std::string("the start signal did not reach it: ") + redact(e.what());
        }
      }
      if (out.started == 0)
        throw DistError("no worker took the start signal: " +
                        workers[static_cast<std::size_t>(ready[0])].reason);
    }

    // --- the run: progress, ends, evictions; Ctrl-C stops the workers -------------------------
    const auto start_steady =
        SteadyClock::now() + Nanos(out.start_unix_ns - offset0 - unix_ns_now());
    auto collect_deadline = start_steady + whole->duration() + plan.engine.connect_timeout +
                            plan.engine.request_timeout + std::chrono::seconds(60);
    auto next_progress = SteadyClock::now();
    std::uint64_t last_requests = 0;
    auto last_round = SteadyClock::now();
    double rps = 0;
    bool told_to_stop = out.interrupted;
    auto tell_stop = [&] {
      for (auto& w : workers) {
        if (!w.signalled || w.done) continue;
        try {
          client.create(res::pods, ns, {{"run", plan.run_id}}, w.pod_name + ":" + port,
                        "proxy/stop");
        } catch (const std::exception&) {
          // It may have ended already; its pod's state says what happened.
        }
      }
    };
    while (out.started > 0) {
      if (!told_to_stop && stopped()) {
        out.interrupted = told_to_stop = true;
        tell_stop();
        collect_deadline = SteadyClock::now() + std::chrono::seconds(15);
      }
      std::map<std::string, json> pods;
      const json list = client.list(res::pods, ns, by_run);  // kept: the loop reads into it
      for (const auto& p : list["items"]) pods[name_of(p)] = p;
      int running = 0, finished = 0;
      for (auto& w : workers) {
        if (!w.signalled) continue;
        if (w.done) {
          ++finished;
          continue;
        }
        auto it = pods.find(w.pod_name);
        if (it == pods.end()) {  // deleted from under us: what its log said is all there is
          w.done = true;
          if (w.reason.empty()) w.reason = "its pod was deleted";
          ++finished;
          continue;
        }
        w.pod = it->second;
        const bool terminating = it->second["metadata"].contains("deletionTimestamp");
        if (terminating || is_finished(it->second)) {
          if (terminating && !w.seen_terminating) {
            w.seen_terminating = true;
            const std::string p = pod_problem(it->second);
            w.reason = p.empty() ? "its pod was deleted" : p;
          }
          try {
            w.last_log = client.logs(ns, w.pod_name, kube::LogOptions{});
          } catch (const std::exception&) {
            // The log went with the pod; the last one read stands.
          }
          if (auto r = find_report(w.last_log, plan.run_id, static_cast<int>(&w - &workers[0])))
            w.report = std::move(r);
          if (is_finished(it->second)) {
            w.done = true;
            if (const std::string p = pod_problem(it->second); !p.empty() && !w.seen_terminating)
              w.reason = p;
          }
        }
        if (w.done)
          ++finished;
        else
          ++running;
      }
      const auto now = SteadyClock::now();
      if (now >= next_progress) {
        next_progress = now + plan.progress_every;
        for (auto& w : workers) {
          if (!w.signalled || w.done) continue;
          kube::LogOptions tail;
          tail.tail_lines = 16;
          try {
            if (auto p = find_progress(client.logs(ns, w.pod_name, tail), plan.run_id,
                                       static_cast<int>(&w - &workers[0])))
              w.progress = p;
          } catch (const std::exception&) {
          }
        }
        LiveStatus s{.phase = told_to_stop ? "collecting" : "running",
                     .workers = n,
                     .running = running,
                     .finished = finished,
                     .total_s = total_s};
        for (const auto& w : workers) {
          const auto* pr = w.report ? nullptr : (w.progress ? &*w.progress : nullptr);
          if (w.report) {
            s.requests += w.report->result.summary.requests;
            s.failed += w.report->result.summary.failed;
            s.dropped += w.report->result.summary.dropped;
          } else if (pr) {
            s.requests += pr->requests;
            s.failed += pr->failed;
            s.dropped += pr->dropped;
          }
        }
        s.elapsed_s = std::chrono::duration<double>(now - start_steady).count();
        const double dt = std::chrono::duration<double>(now - last_round).count();
        if (dt > 0 && s.requests >= last_requests)
          rps = static_cast<double>(s.requests - last_requests) / dt;
        last_requests = s.requests;
        last_round = now;
        s.rps = rps;
        if (live) live(s);
      }
      if (running == 0) break;
      if (now >= collect_deadline) {
        if (!told_to_stop) {  // overdue: ask them to end and give them a little longer
          told_to_stop = true;
          tell_stop();
          collect_deadline = now + std::chrono::seconds(15);
          continue;
        }
        for (auto& w : workers)
          if (w.signalled && !w.done) {
            w.done = true;
            w.reason = "did not finish in time";
          }
        break;
      }
      pause(milliseconds(500), {});
    }
  } catch (...) {
    clean_up();
    throw;
  }
  clean_up();

  // --- the verdict's inputs: rows, problems, the exact merge ----------------------------------
  std::vector<const load::LoadResult*> parts;
  std::vector<double> offsets;
  for (int i = 0; i < n; ++i) {
    auto& w = workers[static_cast<std::size_t>(i)];
    WorkerRow row;
    row.index = i;
    if (w.pod) {
      row.pod = name_of(*w.pod);
      row.node = w.pod->value("spec", json::object()).value("nodeName", "");
    }
    row.clock_offset_ms = w.offset_ms;
    row.clock_uncertainty_ms = w.uncertainty_ms;
    if (w.offset_ms) offsets.push_back(*w.offset_ms);
    if (w.progress) row.last_progress_s = w.progress->t;
    auto share = load::share_of(whole, i, n);
    row.expected = share->open_model() ? share->total_iterations() : 0;
    row.vus = share->open_model() ? 0 : share->max_vus();
    if (plan.samples && w.report)
      for (const auto& b : log_block::decode_all(w.last_log, kSamplesKind))
        if (b.payload.value("run", "") == plan.run_id && b.payload.value("index", -1) == i)
          for (const auto& v : b.payload.value("latency_us", json::array()))
            row.latency_samples.push_back(v.get<std::uint64_t>());
    if (w.report) {
      const auto& r = *w.report;
      const auto& s = r.result.summary;
      row.requests = s.requests;
      row.completed = s.completed;
      row.failed = s.failed;
      row.dropped = s.dropped;
      row.duration_s = s.duration_s;
      row.achieved_rps = s.duration_s > 0 ? static_cast<double>(s.completed) / s.duration_s : 0;
      row.start_lag_ms = r.start_lag_s * 1e3;
      out.max_start_lag_ms = std::max(out.max_start_lag_ms, *row.start_lag_ms);
      row.merged = true;
      row.peak_connections = r.result.peak_connections;
      row.scenario = r.scenario;
      parts.push_back(&w.report->result);
      if (r.stop_reason.empty()) {
        row.state = "completed";
      } else if (r.stop_reason == "stopped by the coordinator") {
        row.state = "stopped";
        row.reason = r.stop_reason;
      } else {
        row.state = w.reason.rfind("evicted", 0) == 0 ? "evicted" : "terminated";
        row.reason = w.reason.empty() ? r.stop_reason : w.reason;
      }
    } else if (!w.signalled) {
      row.state = "never started";
      row.reason = w.reason.empty() ? (w.pod ? "not Ready (" + phase_of(*w.pod) + ")"
                                             : std::string("no pod was created"))
                                    : w.reason;
    } else {
      row.state = w.reason.rfind("evicted", 0) == 0 ? "evicted" : "failed";
      if (w.reason.empty()) w.reason = "it left no report";
      row.reason = w.reason;
      if (w.progress)
        row.reason += "; its last progress report (" + std::to_string(w.progress->requests) +
                      " requests at " + std::to_string(static_cast<int>(w.progress->t)) +
                      " s) is not in the merged figures";
      row.requests = w.progress ? w.progress->requests : 0;
      row.failed = w.progress ? w.progress->failed : 0;
      row.dropped = w.progress ? w.progress->dropped : 0;
    }
    const bool whole_share = row.state == "completed" || row.state == "stopped";
    if (!whole_share) {
      out.partial = true;
      out.problems.push_back("worker " + std::to_string(i) +
                             (row.pod.empty() ? "" : " (pod " + row.pod + ")") + " " + row.state +
                             ": " + row.reason);
    }
    out.rows.push_back(std::move(row));
  }
  if (offsets.size() > 1) {
    auto [lo, hi] = std::minmax_element(offsets.begin(), offsets.end());
    out.clock_spread_ms = *hi - *lo;
  }
  out.merged = merge_results(parts, whole->describe() + " on " + std::to_string(n) + " workers",
                             plan.request.method + " " + plan.request.url);
  out.merged.interrupted = out.interrupted;
  if (parts.empty()) out.merged.summary.duration_s = 0;
  return out;
}

}  // namespace kgate::dist
