#include "kgate/load_command.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>

#include "kgate/check.hpp"
#include "kgate/check_context.hpp"
#include "kgate/cluster_client.hpp"
#include "kgate/distributed/todo_mix.hpp"
#include "kgate/distributed_load.hpp"
#include "kgate/duration.hpp"
#include "kgate/gate.hpp"
#include "kgate/http.hpp"
#include "kgate/identity.hpp"
#include "kgate/load/engine.hpp"
#include "kgate/load/results_json.hpp"
#include "kgate/load/todo_mix.hpp"
#include "kgate/load_watch.hpp"
#include "kgate/redact.hpp"
#include "kgate/reports.hpp"
#include "kgate/todo_api.hpp"

namespace kgate {

using load::format_micros;
using nlohmann::json;

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
  c->add_option("--watch", a.watch,
                "deployment/NAME: sample the Deployment and the HPA scaling it once a second "
                "during the run (replicas, HPA CPU) into the live line, the results' series and "
                "the summary");
  c->add_option("--watch-namespace", a.watch_namespace,
                "with --watch: the Deployment's namespace, when not --namespace (with --workers, "
                "the workers' namespace)");
  c->add_option("--kubeconfig", a.kubeconfig, "with --workers or --watch: kubeconfig file");
  c->add_option("--context", a.context, "with --workers or --watch: kubeconfig context");
  c->add_option("-n,--namespace", a.namespace_,
                "with --workers: namespace of the workers; with --watch: the Deployment's "
                "(default: the context's)");
  c->add_option("--request-timeout", a.request_timeout, "with --watch: bound on each API request")
      ->capture_default_str();
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
      "  kgate load http://todo-backend:7860 --scenario todo-mix --rate 150 --duration 1m \\\n"
      "      --watch deployment/todo-backend -n todo   # replicas and HPA CPU beside the load\n"
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
  // `extra`: appended to the line (the --watch's replicas and HPA), or null.
  explicit ProgressPrinter(std::function<std::string()> extra = nullptr)
      : tty_(::isatty(STDERR_FILENO) != 0), extra_(std::move(extra)) {}
  void operator()(const load::Progress& p) {
    std::string line =
        fmt::format("{:6.1f}s/{:.0f}s  {:>7} rps  p95 {:>8}  errors {}  dropped {}", p.elapsed_s,
                    p.total_s, p.last ? count(p.last->rps) : "-",
                    p.last ? format_micros(p.last->p95_us) : "-", p.failed, p.dropped);
    if (extra_) line += "  |  " + extra_();
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
  std::function<std::string()> extra_;
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

// What the coordinator's sweep of a todo mix on workers did.
struct TodoMixSweep {
  std::size_t deleted = 0;
  std::vector<std::string> problems;  // a task left, a list or a delete that failed
};

// The todo mix of a distributed run, on the coordinator's side: the run's identities (obtained
// as the local mix obtains them) and, after the run, the sweep of everything the mix created.
// The sweep is the coordinator's rather than each worker's because a worker may be killed
// before it could clean up; the run's identities own nothing but what the mix created, and the
// mix titles every task with the run's prefix, so listing them finds it all. It needs the
// coordinator to reach the URL too (checked before the Job is created).
struct WorkerMix {
  Config cfg;
  std::string base;
  std::unique_ptr<RunContext> run;
  std::unique_ptr<CheckContext> ctx;
  std::vector<Identity> ids;
  load::TodoMixOptions options;

  WorkerMix(const LoadArgs& a, const Config& config) : cfg(config) {
    base = a.url;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    cfg.target.backend = base;
    cfg.target.insecure = a.insecure;
    if (!a.ca_file.empty()) cfg.target.ca_file = a.ca_file;
    run = std::make_unique<RunContext>(cfg);
    ctx = std::make_unique<CheckContext>(*run, nullptr);  // not a check: its sends and cleanups
    for (int i = 0; i < a.identities; ++i)
      ids.push_back(run->identity("load-" + std::to_string(i + 1)));
    options = todo_mix_options(cfg.profile, base, ids);
  }

  // Lists the first identity's tasks: the identities work and the sweep will reach the app.
  void check_reachable() {
    std::string why;
    try {
      TodoApi api(*ctx, base, ids.front());
      const auto answer = api.list();
      if (answer.status == 200) return;
      why = "listing the tasks of a run identity answered " + std::to_string(answer.status);
    } catch (const CheckStopped& s) {
      why = s.reason;
    } catch (const std::exception& e) {
      why = e.what();
    }
    throw std::runtime_error("the todo mix on workers needs this process to reach " +
                             redact_url(base) +
                             " too (to check the identities and to delete "
                             "what the mix creates): " +
                             why);
  }

  TodoMixSweep sweep() {
    TodoMixSweep out;
    const load::TodoMix finder(options);  // never run: its title prefix finds the run's tasks
    try {
      std::size_t found = 0;
      for (auto n : clean_up_todo_mix(*ctx, base, ids, finder)) found += n;
      for (auto& f : ctx->run_cleanups()) out.problems.push_back(std::move(f));
      // Deleted is what is no longer there: list again.
      std::size_t left = 0;
      for (const auto& id : ids) {
        TodoApi api(*ctx, base, id);
        const auto answer = api.list();
        const auto doc = parse_json(answer.body);
        const auto list = doc ? task_list_of(*doc, cfg.profile) : std::nullopt;
        if (answer.status != 200 || !list) {
          out.problems.push_back("listing " + id.label + "'s tasks afterwards answered " +
                                 std::to_string(answer.status) + ": cannot tell what is left");
          continue;
        }
        std::size_t mine = 0;
        for (const auto& t : *list)
          if (t.value("title", "").rfind(options.title_prefix, 0) == 0) ++mine;
        if (mine > 0)
          out.problems.push_back(std::to_string(mine) + " task(s) of " + id.label + " (user " +
                                 id.user_id + ") titled " + options.title_prefix + "… are left");
        left += mine;
      }
      out.deleted = found >= left ? found - left : 0;
    } catch (const CheckStopped& s) {
      out.problems.push_back("the sweep stopped: " + s.reason);
    } catch (const std::exception& e) {
      out.problems.push_back(std::string("the sweep failed: ") + e.what());
    }
    return out;
  }
};

// The --watch of a run, read before any load so that a typo or an unreachable API is said
// first: nullptr and `exit` set when it cannot be (2: no such Deployment, 3: API unreachable).
std::unique_ptr<LoadWatch> open_watch(const LoadArgs& a, const std::string& name,
                                      const std::string& kubeconfig, const std::string& context,
                                      const std::string& ns, int& exit) {
  // One retry: the next tick a second later is the retry that matters, and a stop waits for
  // one call (and its retry) at most.
  ClusterClient cluster =
      cluster_client(kubeconfig, context, a.watch_namespace.empty() ? ns : a.watch_namespace,
                     a.request_timeout, 1);  // ConfigError: exit 2
  try {
    auto watch = std::make_unique<LoadWatch>(std::move(cluster.client), cluster.namespace_, name);
    std::cerr << "kgate load: watching " << watch->describe() << std::endl;
    return watch;
  } catch (const LoadWatch::Error& e) {
    std::cerr << "kgate load: " << redact(e.what()) << std::endl;
    exit = e.unreachable ? kExitUnreachable : kExitUsage;
    return nullptr;
  }
}

// `kgate load --workers N`: the same schedule from N worker pods of an Indexed Job, merged into
// one exact result (docs/distributed-load.md).
int cmd_load_distributed(const LoadArgs& a, const load::ExecutorSpec& spec,
                         const load::RequestSpec& request, const load::EngineOptions& options,
                         const std::vector<load::Threshold>& thresholds,
                         const std::string& watch_name) {
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
  if (a.scenario == "todo-mix" && a.identities < a.workers)
    throw ConfigError("--identities " + std::to_string(a.identities) + " is less than --workers " +
                      std::to_string(a.workers) +
                      ": each worker needs identities of its own (two workers sharing one would "
                      "toggle and delete each other's tasks unknowingly)");

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
  dist::DistOptions o = dist_options(d, cluster.namespace_);
  std::unique_ptr<LoadWatch> watch;
  if (!watch_name.empty()) {
    int exit = 0;
    watch = open_watch(a, watch_name, k.kubeconfig, k.context, cluster.namespace_, exit);
    if (!watch) return exit;
  }
  // The todo mix: identities obtained here as the local mix obtains them (the auth settings of
  // --config, by default minted from $BETTER_AUTH_SECRET), split among the workers, their tokens
  // in the run's Secret. The secret that signs them never leaves this process.
  std::unique_ptr<WorkerMix> mix;
  if (a.scenario == "todo-mix") {
    try {
      mix = std::make_unique<WorkerMix>(a, cfg);
      mix->check_reachable();
    } catch (const IdentityUnavailable& e) {
      std::cerr << "kgate load: " << redact(e.what()) << std::endl;
      return kExitUsage;
    } catch (const std::runtime_error& e) {
      std::cerr << "kgate load: " << redact(e.what()) << std::endl;
      return kExitUnreachable;
    }
    dist::put_todo_mix(mix->options, plan, o);
  }

  std::cerr << "kgate load: "
            << (mix ? "todo mix on " + redact_url(mix->base) + " as " +
                          std::to_string(mix->ids.size()) + " identities (tasks titled " +
                          mix->options.title_prefix + "…)"
                    : request.method + " " + redact_url(request.url))
            << ", " << load::make_executor(spec)->describe() << ", from " << a.workers
            << " worker pod(s) (Job " << dist::job_name(plan.run_id) << " in namespace "
            << o.namespace_ << ")" << std::endl;
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  double next_log = 0;
  std::string last_phase;
  auto live = [&](const dist::LiveStatus& st) {
    std::string line;
    // The watch's clock is the load's: t = 0 at the workers' barrier instant.
    if (watch && !watch->started() && (st.phase == "running" || st.phase == "collecting"))
      watch->start(std::chrono::steady_clock::now() -
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(st.elapsed_s)));
    if (st.phase == "starting")
      line = fmt::format("starting: {}/{} worker pods ready{}", st.ready, st.workers,
                         st.note.empty() ? "" : "  (" + st.note + ")");
    else if (st.phase == "running" && st.elapsed_s < 0)  // signalled, the barrier not reached
      line = fmt::format("starting: {} worker pods ready, sending in {:.1f}s", st.running,
                         -st.elapsed_s);
    else if (st.phase == "running" || st.phase == "collecting")
      line = fmt::format(
          "{:6.1f}s/{:.0f}s  {} running, {} finished  {:>7} rps  requests {}  "
          "errors {}  dropped {}{}{}",
          st.elapsed_s, st.total_s, st.running, st.finished, count(st.rps), st.requests, st.failed,
          st.dropped, st.phase == "collecting" ? "  (stopping)" : "",
          watch ? "  |  " + watch->live_text() : "");
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
  } catch (const std::exception& e) {  // DistError, or the API refused the Job (or failed)
    end_live();
    std::cerr << "kgate load: " << redact(e.what()) << std::endl;
    if (mix) {  // a worker may have sent some of the mix before the API failed: sweep anyway
      const auto swept = mix->sweep();
      std::cerr << "kgate load: todo mix cleanup: deleted " << swept.deleted << " task(s)"
                << (swept.problems.empty() ? ", none left" : "; what may be left:") << std::endl;
      for (const auto& p : swept.problems) std::cerr << "  " << redact(p) << std::endl;
    }
    return kExitUnreachable;
  }
  end_live();
  if (watch) watch->stop();
  // Whatever happened to the workers (killed, evicted, interrupted), the run's identities own
  // only what the mix created: the sweep deletes it and checks that nothing is left.
  std::optional<TodoMixSweep> sweep;
  if (mix) sweep = mix->sweep();

  const load::LoadResult& result = r.merged;
  std::vector<load::ThresholdResult> verdicts;
  for (const auto& t : thresholds) verdicts.push_back(load::evaluate(t, result.summary));
  print_summary(result);
  if (watch) std::cout << redact(watch->summary_text());
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
  for (const auto& note : r.setup_notes) std::cout << "  warn  " << redact(note) << "\n";
  bool failed = false;
  json mix_json;
  if (mix) {
    std::map<std::string, std::uint64_t> ops;
    std::uint64_t left_by_workers = 0;
    for (const auto& row : r.rows) {
      const json sent = row.scenario.value("operations", json::object());  // not a temporary
      for (const auto& [op, n] : sent.items())
        if (n.is_number_unsigned()) ops[op] += n.get<std::uint64_t>();
      left_by_workers += row.scenario.value("tasks_left", std::uint64_t{0});
    }
    std::string line = "todo mix:";
    for (const auto& [op, n] : ops) line += " " + op + "=" + std::to_string(n);
    std::cout << line << "\n";
    std::cout << "todo mix cleanup: deleted " << sweep->deleted << " task(s) of the run's "
              << mix->ids.size() << " identities";
    if (sweep->problems.empty()) {
      std::cout << ", none left\n";
    } else {
      std::cout << "\n  FAIL  todo mix cleanup: what the mix created may be left in the app:\n";
      for (const auto& p : sweep->problems) std::cout << "          " << redact(p) << "\n";
      failed = true;
    }
    json users = json::array();
    for (const auto& id : mix->ids) users.push_back(id.user_id);  // not secret: the tokens are
    mix_json = {{"operations", ops},
                {"identities", users},
                {"title_prefix", mix->options.title_prefix},
                {"tasks_left_by_workers", left_by_workers},
                {"cleanup", {{"deleted", sweep->deleted}, {"problems", json::array()}}}};
    for (const auto& p : sweep->problems) mix_json["cleanup"]["problems"].push_back(redact(p));
  }
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
      if (mix) j["todo_mix"] = mix_json;
      if (watch) watch->add_to_results(j, std::chrono::duration<double>(options.interval).count());
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
  std::string watch_name;
  try {
    if (a.rate > 0 && a.vus > 0) throw ConfigError("--rate and --vus exclude each other");
    if (!a.watch.empty()) watch_name = parse_watch_target(a.watch);
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
  if (a.workers > 0) return cmd_load_distributed(a, spec, request, options, thresholds, watch_name);
  auto executor = load::make_executor(spec);

  // The watch reads its Deployment before any load: a typo or an unreachable API is said now.
  std::unique_ptr<LoadWatch> watch;
  if (!watch_name.empty()) {
    int exit = 0;
    watch = open_watch(a, watch_name, a.kubeconfig, a.context, a.namespace_, exit);
    if (!watch) return exit;
  }

  std::atomic<bool> stop{false};
  ProgressPrinter printer(watch ? std::function<std::string()>([&] { return watch->live_text(); })
                                : nullptr);
  std::cerr << "kgate load: " << request.method << " " << redact_url(request.url) << ", "
            << executor->describe() << std::endl;
  auto progress = [&](const load::Progress& p) {
    if (interrupted()) stop = true;
    printer(p);
  };
  load::LoadResult result;
  if (watch) watch->start();  // t = 0 a moment before the engine's
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
  if (watch) watch->stop();

  std::vector<load::ThresholdResult> verdicts;
  for (const auto& t : thresholds) verdicts.push_back(load::evaluate(t, result.summary));

  print_summary(result);
  if (watch) std::cout << redact(watch->summary_text());
  const auto& s = result.summary;
  bool failed = false;
  for (const auto& v : verdicts) {
    std::cout << (v.passed ? "  ok    " : "  FAIL  ") << v.message << "\n";
    failed = failed || !v.passed;
  }
  if (!a.out.empty()) {
    try {
      auto j = load::to_json(result, verdicts);
      if (watch) watch->add_to_results(j, std::chrono::duration<double>(options.interval).count());
      reports::write_file_atomically(a.out, j.dump(2) + "\n");
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
