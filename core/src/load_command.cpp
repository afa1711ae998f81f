#include "kgate/load_command.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <iterator>

#include "kgate/check.hpp"
#include "kgate/check_context.hpp"
#include "kgate/distributed_load.hpp"
#include "kgate/duration.hpp"
#include "kgate/gate.hpp"
#include "kgate/http.hpp"
#include "kgate/identity.hpp"
#include "kgate/load/engine.hpp"
#include "kgate/load/results_json.hpp"
#include "kgate/load/todo_mix.hpp"
#include "kgate/redact.hpp"
#include "kgate/reports.hpp"
#include "kgate/todo_api.hpp"

namespace kgate {

using load::format_micros;

CLI::App* add_load_command(CLI::App& app, LoadArgs& a) {
  auto* c = app.add_subcommand("load", "Drive load at a URL (open or closed model) and measure");
  c->add_option("url", a.url, "http(s) URL to load")->required();
  c->add_option("-r,--rate", a.rate, "open model: requests per second (constant-arrival-rate)");
  c->add_option("-u,--vus", a.vus, "closed model: virtual users, each one request at a time");
  c->add_option("--stages", a.stages,
                "ramp: duration:target pairs, e.g. 30s:100,1m:500; targets are requests per "
                "second, or VUs when --vus is given");
  c->add_option("-d,--duration", a.duration, "how long (constant executors)")
      ->capture_default_str();
  c->add_option("--think", a.think, "closed model: pause between a VU's requests");
  c->add_option("-m,--method", a.method, "HTTP method")->capture_default_str();
  c->add_option("-H,--header", a.headers, "request header 'Name: value' (repeatable)");
  c->add_option("--body", a.body, "request body");
  c->add_option("--connections", a.connections, "open model: cap on open connections")
      ->capture_default_str();
  c->add_option("--threads", a.threads, "I/O threads (default: one per core)");
  c->add_option("--timeout", a.timeout, "request timeout")->capture_default_str();
  c->add_option("--connect-timeout", a.connect_timeout, "connect + TLS handshake timeout")
      ->capture_default_str();
  c->add_option("--total-timeout", a.total_timeout,
                "bound on a whole iteration, connect included (0s: off)")
      ->capture_default_str();
  c->add_option("--max-queue-wait", a.max_queue_wait,
                "open model: an iteration not started within this of its intended time is "
                "dropped")
      ->capture_default_str();
  c->add_flag("-k,--insecure", a.insecure, "skip TLS certificate verification");
  c->add_option("--ca-file", a.ca_file, "PEM file of extra trust anchors");
  c->add_option("--threshold", a.thresholds,
                "gate, e.g. 'p95 < 300ms', 'error_rate < 1%', 'rps >= 500' (repeatable)");
  c->add_option("-o,--out", a.out, "write the results as JSON here");
  c->add_option("--scenario", a.scenario,
                "request (the URL, as given) or todo-mix (list/create/toggle/delete on the "
                "contract's API under the URL; identities minted from $BETTER_AUTH_SECRET; "
                "everything created is deleted afterwards)")
      ->check(CLI::IsMember({"request", "todo-mix"}))
      ->capture_default_str();
  c->add_option("--identities", a.identities, "todo-mix: identities to spread the load over")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  c->add_option("-w,--workers", a.workers,
                "run the load from N kgate worker pods (an Indexed Job) in the cluster, each a "
                "share of this schedule, merged into one exact result")
      ->check(CLI::Range(0, 1000));
  c->add_option("-c,--config", a.config_path,
                "with --workers: kgate.yaml whose kubernetes: section and "
                "suites.load.distributed say where and how the workers run");
  c->add_option("--kubeconfig", a.kubeconfig, "with --workers: kubeconfig file");
  c->add_option("--context", a.context, "with --workers: kubeconfig context");
  c->add_option("-n,--namespace", a.namespace_, "with --workers: namespace of the workers");
  c->add_option("--image", a.image, "with --workers: the kgate image the workers run");
  c->add_option("--start-timeout", a.start_timeout,
                "with --workers: how long the worker pods may take to be Ready");
  c->add_flag("--allow-partial", a.allow_partial,
              "with --workers: a run that lost a worker still passes if its thresholds do");
  c->add_flag("--worker-samples", a.worker_samples,
              "with --workers: workers also log every latency sample (tests)")
      ->group("");
  c->footer(
      "Examples:\n"
      "  kgate load http://localhost:7860/health --rate 2000 --duration 30s\n"
      "  kgate load http://localhost:7860/health --vus 64 --duration 10s --threshold 'p99 < 50ms'\n"
      "  kgate load https://todo.example/api/health --stages 30s:100,1m:1000,30s:0 --out r.json\n"
      "  kgate load http://localhost:7860 --scenario todo-mix --rate 200 --duration 1m\n"
      "  kgate load http://todo-backend:7860/health --rate 20000 --duration 1m --workers 4 \\\n"
      "      --config kgate.yaml      # 4 worker pods in the cluster, one merged result");
  return c;
}

namespace {

std::chrono::nanoseconds dur(const std::string& text, const char* flag) {
  try {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(parse_duration(text));
  } catch (const std::exception& e) {
    throw ConfigError(std::string(flag) + ": " + e.what());
  }
}

std::string count(double v) {
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

// A live line on a terminal; a log line every few seconds otherwise (CI stays quiet but alive).
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(::isatty(STDERR_FILENO) != 0) {}
  void operator()(const load::Progress& p) {
    std::string line =
        fmt::format("{:6.1f}s/{:.0f}s  {:>7} rps  p95 {:>8}  errors {}  dropped {}", p.elapsed_s,
                    p.total_s, p.last ? count(p.last->rps) : "-",
                    p.last ? format_micros(p.last->p95_us) : "-", p.failed, p.dropped);
    if (tty_) {
      std::cerr << "\r" << line << "\033[K" << std::flush;
    } else if (p.elapsed_s >= next_log_) {
      std::cerr << "load: " << line << std::endl;
      next_log_ = p.elapsed_s + 5;
    }
  }
  void end() {
    if (tty_) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  bool tty_;
  double next_log_ = 0;
};

// What every load run prints: counts, latencies, errors, connections.
void print_summary(const load::LoadResult& result) {
  const auto& s = result.summary;
  double rps = s.duration_s > 0 ? static_cast<double>(s.completed) / s.duration_s : 0;
  std::cout << fmt::format("{} requests in {:.1f}s: {} rps, {} failed, {} dropped{}\n", s.requests,
                           s.duration_s, count(rps), s.failed, s.dropped,
                           result.interrupted ? " (interrupted)" : "");
  if (s.latency.count() > 0) {
    std::cout << fmt::format(
        "latency (from intended start)  p50 {}  p95 {}  p99 {}  max {}\n",
        format_micros(s.latency.percentile(50)), format_micros(s.latency.percentile(95)),
        format_micros(s.latency.percentile(99)), format_micros(s.latency.max()));
    std::cout << fmt::format(
        "service time (from send)       p50 {}  p95 {}  p99 {}  max {}\n",
        format_micros(s.service.percentile(50)), format_micros(s.service.percentile(95)),
        format_micros(s.service.percentile(99)), format_micros(s.service.max()));
  }
  if (!s.errors.empty()) {
    std::cout << "errors:";
    for (const auto& [cls, n] : s.errors) std::cout << " " << cls << "=" << n;
    std::cout << "\n";
  }
  std::cout << "connections: " << result.connections_opened << " opened, peak "
            << result.peak_connections << ", threads " << result.threads << "\n";
}

// The todo mix against a backend: fresh identities minted from the secret (as `kgate run` does
// by default), and everything the mix created deleted afterwards.
load::LoadResult run_todo_mix(const LoadArgs& a, const load::Executor& executor,
                              const load::RequestSpec& origin, const load::EngineOptions& options,
                              std::atomic<bool>& stop, const load::ProgressFn& progress) {
  Config cfg;
  cfg.target.backend = a.url;
  while (cfg.target.backend.size() > 1 && cfg.target.backend.back() == '/')
    cfg.target.backend.pop_back();
  cfg.target.insecure = a.insecure;
  cfg.target.ca_file = a.ca_file;
  RunContext run(cfg);
  CheckContext c(run, nullptr);  // not a check: the context for its sends and cleanups
  std::vector<Identity> ids;
  for (int i = 0; i < a.identities; ++i)
    ids.push_back(run.identity("load-" + std::to_string(i + 1)));
  load::TodoMix mix(todo_mix_options(cfg.profile, cfg.target.backend, ids));
  auto result = load::run_load(executor, mix, origin, options, stop, progress);
  std::size_t left = 0;
  for (auto n : clean_up_todo_mix(c, cfg.target.backend, ids, mix)) left += n;
  c.run_cleanups();
  std::cerr << "kgate load: todo mix done; deleted the " << left << " task(s) it left" << std::endl;
  return result;
}

// `kgate load --workers N`: the same schedule from N worker pods of an Indexed Job, merged into
// one exact result (docs/distributed-load.md).
int cmd_load_distributed(const LoadArgs& a, const load::ExecutorSpec& spec,
                         const load::RequestSpec& request, const load::EngineOptions& options,
                         const std::vector<load::Threshold>& thresholds) {
  Config cfg;
  if (!a.config_path.empty()) cfg = load_config(a.config_path);
  KubernetesConfig k = cfg.kubernetes;
  if (!a.kubeconfig.empty()) k.kubeconfig = a.kubeconfig;
  if (!a.context.empty()) k.context = a.context;
  if (!a.namespace_.empty()) k.namespace_ = a.namespace_;
  DistributedLoadConfig d = cfg.load.distributed;
  if (!a.image.empty()) d.image = a.image;
  if (!a.start_timeout.empty())
    d.start_timeout = std::chrono::duration_cast<Millis>(dur(a.start_timeout, "--start-timeout"));
  if (a.allow_partial) d.allow_partial = true;
  if (a.scenario != "request")
    throw ConfigError("--workers: only --scenario request is supported with workers so far");

  dist::WorkerPlan plan;
  plan.run_id = dist::new_run_id();
  plan.workers = a.workers;
  plan.executor = spec;
  plan.request = request;
  plan.engine = options;
  plan.samples = a.worker_samples;
  try {
    dist::check_no_credentials(request);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("--workers: ") + e.what());
  }
  if (!options.ca_file.empty()) {  // the workers get the certificates, not a path of this host
    std::ifstream in(options.ca_file);
    if (!in) throw ConfigError("--ca-file " + options.ca_file + ": cannot read it");
    plan.ca_pem.assign(std::istreambuf_iterator<char>(in), {});
    plan.engine.ca_file.clear();
  }
  ClusterClient cluster = cluster_client(k);
  const dist::DistOptions o = dist_options(d, cluster.namespace_);

  std::cerr << "kgate load: " << request.method << " " << redact_url(request.url) << ", "
            << load::make_executor(spec)->describe() << ", from " << a.workers
            << " worker pod(s) (Job " << dist::job_name(plan.run_id) << " in namespace "
            << o.namespace_ << ")" << std::endl;
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  double next_log = 0;
  std::string last_phase;
  auto live = [&](const dist::LiveStatus& st) {
    std::string line;
    if (st.phase == "starting")
      line = fmt::format("starting: {}/{} worker pods ready{}", st.ready, st.workers,
                         st.note.empty() ? "" : "  (" + st.note + ")");
    else if (st.phase == "running" || st.phase == "collecting")
      line = fmt::format(
          "{:6.1f}s/{:.0f}s  {} running, {} finished  {:>7} rps  requests {}  "
          "errors {}  dropped {}{}",
          st.elapsed_s, st.total_s, st.running, st.finished, count(st.rps), st.requests, st.failed,
          st.dropped, st.phase == "collecting" ? "  (stopping)" : "");
    else
      line = st.phase + (st.note.empty() ? "" : ": " + st.note);
    line = redact(line);
    if (tty) {
      std::cerr << "\r" << line << "\033[K" << std::flush;
    } else if (st.phase != last_phase || st.elapsed_s >= next_log) {
      std::cerr << "load: " << line << std::endl;
      next_log = st.elapsed_s + 5;
    }
    last_phase = st.phase;
  };
  auto end_live = [&] {
    if (tty) std::cerr << "\r\033[K" << std::flush;
  };
  // Ctrl-C is the coordinator's to handle: it stops the workers, collects what they sent and
  // deletes the Job, all through the API. Those calls must not be cut short by the interrupt as
  // the target's requests are; each is bounded by kubernetes.request_timeout instead.
  http::set_interrupt_check(nullptr);
  dist::DistResult r;
  try {
    r = dist::run_distributed(
        *cluster.client, o, plan, [] { return interrupted(); }, live);
  } catch (const std::exception& e) {  // DistError, or the API refused the Job
    end_live();
    std::cerr << "kgate load: " << redact(e.what()) << std::endl;
    return kExitUnreachable;
  }
  end_live();

  const load::LoadResult& result = r.merged;
  std::vector<load::ThresholdResult> verdicts;
  for (const auto& t : thresholds) verdicts.push_back(load::evaluate(t, result.summary));
  print_summary(result);
  std::cout << redact(workers_text(r));
  if (r.scheduled > 0)
    std::cout << fmt::format(
        "schedule: {} requests in the whole schedule, {} sent by the "
        "workers\n",
        r.scheduled, result.summary.requests);
  std::cout << fmt::format("start: max start lag {:.2f} ms behind the barrier instant",
                           r.max_start_lag_ms);
  if (r.clock_spread_ms) std::cout << fmt::format(", clock spread {:.1f} ms", *r.clock_spread_ms);
  std::cout << "\ncleanup: " << redact(r.cleanup) << "\n";
  bool failed = false;
  for (const auto& v : verdicts) {
    std::cout << (v.passed ? "  ok    " : "  FAIL  ") << v.message << "\n";
    failed = failed || !v.passed;
  }
  if (r.partial) {
    std::cout << (o.allow_partial ? "  warn  " : "  FAIL  ")
              << "partial run: the merged figures miss the share of:\n";
    for (const auto& p : r.problems) std::cout << "          " << redact(p) << "\n";
    if (!o.allow_partial) failed = true;
  }
  if (!a.out.empty()) {
    try {
      auto j = load::to_json(result, verdicts);
      j["distributed"] = distributed_json(r);
      reports::write_file_atomically(a.out, j.dump(2) + "\n");
      std::cout << "results: " << a.out << "\n";
    } catch (const std::exception& e) {
      std::cerr << "kgate load: " << redact(e.what()) << std::endl;
      return kExitReportsFailed;
    }
  }
  std::cout << std::flush;
  if (r.interrupted) return kExitInterrupted;
  if (r.started > 0 && result.summary.completed == 0 && result.summary.failed > 0 &&
      result.summary.errors.count("connect")) {
    std::cerr << "kgate load: no worker got an answer from " << redact_url(request.url)
              << std::endl;
    return kExitUnreachable;
  }
  return failed ? kExitGateFailed : kExitPass;
}
}  // namespace

int cmd_load(const LoadArgs& a) {
  load::ExecutorSpec spec;
  load::RequestSpec request;
  load::EngineOptions options;
  std::vector<load::Threshold> thresholds;
  try {
    if (a.rate > 0 && a.vus > 0) throw ConfigError("--rate and --vus exclude each other");
    spec.duration = dur(a.duration, "--duration");
    spec.think_time = dur(a.think, "--think");
    if (!a.stages.empty()) {
      spec.stages = load::parse_stages(a.stages);
      spec.type = a.vus > 0 ? "ramping-vus" : "ramping-arrival-rate";
      spec.start_vus = 0;
      spec.start_rate = 0;
    } else if (a.vus > 0) {
      spec.type = "constant-vus";
      spec.vus = a.vus;
    } else {
      if (a.rate <= 0) throw ConfigError("give --rate (open model) or --vus (closed model)");
      spec.type = "constant-arrival-rate";
      spec.rate = a.rate;
    }
    request.method = a.method;
    request.url = a.url;
    request.body = a.body;
    for (const auto& h : a.headers) {
      auto colon = h.find(':');
      if (colon == std::string::npos || colon == 0)
        throw ConfigError("--header '" + h + "': expected 'Name: value'");
      std::string value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      request.headers.emplace_back(h.substr(0, colon), value);
    }
    options.threads = a.threads;
    options.connections = a.connections;
    options.request_timeout = dur(a.timeout, "--timeout");
    options.connect_timeout = dur(a.connect_timeout, "--connect-timeout");
    options.total_timeout = dur(a.total_timeout, "--total-timeout");
    options.max_queue_wait = dur(a.max_queue_wait, "--max-queue-wait");
    options.insecure = a.insecure;
    options.ca_file = a.ca_file;
    for (const auto& t : a.thresholds) {
      try {
        thresholds.push_back(load::parse_threshold(t));
      } catch (const load::ThresholdError& e) {
        throw ConfigError("--threshold '" + t + "' (column " + std::to_string(e.offset + 1) +
                          "): " + e.what());
      }
    }
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  if (a.workers > 0) return cmd_load_distributed(a, spec, request, options, thresholds);
  auto executor = load::make_executor(spec);

  std::atomic<bool> stop{false};
  ProgressPrinter printer;
  std::cerr << "kgate load: " << request.method << " " << redact_url(request.url) << ", "
            << executor->describe() << std::endl;
  auto progress = [&](const load::Progress& p) {
    if (interrupted()) stop = true;
    printer(p);
  };
  load::LoadResult result;
  try {
    if (a.scenario == "todo-mix") {
      result = run_todo_mix(a, *executor, request, options, stop, progress);
    } else {
      result = load::run_load(*executor, request, options, stop, progress);
    }
  } catch (const IdentityUnavailable& e) {
    printer.end();
    std::cerr << "kgate load: " << redact(e.what()) << std::endl;
    return kExitUsage;
  } catch (const std::runtime_error& e) {
    printer.end();
    std::cerr << "kgate load: " << redact(e.what()) << std::endl;
    return kExitUnreachable;
  }
  printer.end();

  std::vector<load::ThresholdResult> verdicts;
  for (const auto& t : thresholds) verdicts.push_back(load::evaluate(t, result.summary));

  print_summary(result);
  const auto& s = result.summary;
  bool failed = false;
  for (const auto& v : verdicts) {
    std::cout << (v.passed ? "  ok    " : "  FAIL  ") << v.message << "\n";
    failed = failed || !v.passed;
  }
  if (!a.out.empty()) {
    try {
      reports::write_file_atomically(a.out, load::to_json(result, verdicts).dump(2) + "\n");
      std::cout << "results: " << a.out << "\n";
    } catch (const std::exception& e) {
      std::cerr << "kgate load: " << redact(e.what()) << std::endl;
      return kExitReportsFailed;
    }
  }
  std::cout << std::flush;
  if (result.interrupted) return kExitInterrupted;
  if (s.completed == 0 && s.failed > 0 && s.errors.count("connect")) {
    std::cerr << "kgate load: no request got an answer from " << redact_url(request.url)
              << std::endl;
    return kExitUnreachable;
  }
  return failed ? kExitGateFailed : kExitPass;
}

}  // namespace kgate
