#include "kgate/distributed_load.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "kgate/check_context.hpp"
#include "kgate/distributed/worker.hpp"
#include "kgate/gate.hpp"
#include "kgate/identity.hpp"
#include "kgate/kube/config.hpp"
#include "kgate/load/todo_mix.hpp"
#include "kgate/redact.hpp"
#include "kgate/todo_api.hpp"
#include "kgate/url.hpp"

namespace kgate {

using nlohmann::json;

ClusterClient cluster_client(const KubernetesConfig& k) {
  kube::ClusterConfig cluster;
  try {
    kube::LoadOptions lo;
    lo.kubeconfig = k.kubeconfig;
    lo.context = k.context;
    cluster = kube::load_config(lo);
  } catch (const kube::ConfigError& e) {
    throw ConfigError(std::string("kubernetes: ") + e.what());
  }
  kube::ClientOptions co;
  co.request_timeout = k.request_timeout;
  co.connect_timeout = std::min<std::chrono::milliseconds>(k.request_timeout, co.connect_timeout);
  co.max_retries = 3;
  ClusterClient out;
  out.namespace_ = k.namespace_.empty() ? cluster.namespace_name : k.namespace_;
  out.client = std::make_unique<kube::Client>(std::move(cluster), co);
  return out;
}

dist::DistOptions dist_options(const DistributedLoadConfig& d, const std::string& namespace_,
                               const std::string& secret_env) {
  dist::DistOptions o;
  o.namespace_ = namespace_;
  o.image = d.image;
  o.image_pull_policy = d.image_pull_policy;
  o.requests = d.requests;
  o.limits = d.limits;
  if (!d.secret_name.empty()) o.secret_env = {secret_env, d.secret_name, d.secret_key};
  o.start_timeout = d.start_timeout;
  o.start_lead = d.start_lead;
  o.allow_partial = d.allow_partial;
  return o;
}

json identity_options(const Config& c, bool todo_mix, bool authenticated) {
  const auto& p = c.profile;
  const auto& m = c.auth.mint;
  const auto& l = c.load;
  return {{"todo_mix", todo_mix},
          {"authenticated", authenticated},
          {"identities", l.identities},
          {"weights",
           {{"list", l.mix_list},
            {"create", l.mix_create},
            {"toggle", l.mix_toggle},
            {"delete", l.mix_delete}}},
          {"profile",
           {{"tasks_path", p.tasks_path},
            {"task_path", p.task_path},
            {"complete_path", p.complete_path},
            {"complete_method", p.complete_method},
            {"update_method", p.update_method},
            {"list_field", p.list_field},
            {"task_id_format", p.task_id_format},
            {"create_status", p.create_status},
            {"delete_status", p.delete_status}}},
          {"mint",
           {{"secret_env", m.secret_env},
            {"user_claim", m.user_claim},
            {"user_id_format", m.user_id_format},
            {"ttl_ms", m.ttl.count()},
            {"issuer", m.issuer},
            {"audience", m.audience}}}};
}

namespace {

// The configuration a worker acts under: the profile and mint settings the coordinator sent.
Config worker_config(const json& o, const std::string& base) {
  Config c;
  c.target.backend = base;
  const json p = o.value("profile", json::object());
  auto& pr = c.profile;
  pr.tasks_path = p.value("tasks_path", pr.tasks_path);
  pr.task_path = p.value("task_path", pr.task_path);
  pr.complete_path = p.value("complete_path", pr.complete_path);
  pr.complete_method = p.value("complete_method", pr.complete_method);
  pr.update_method = p.value("update_method", pr.update_method);
  pr.list_field = p.value("list_field", pr.list_field);
  pr.task_id_format = p.value("task_id_format", pr.task_id_format);
  pr.create_status = p.value("create_status", pr.create_status);
  pr.delete_status = p.value("delete_status", pr.delete_status);
  const json m = o.value("mint", json::object());
  auto& mi = c.auth.mint;
  c.auth.mode = "mint";
  mi.secret_env = m.value("secret_env", mi.secret_env);
  mi.user_claim = m.value("user_claim", mi.user_claim);
  mi.user_id_format = m.value("user_id_format", mi.user_id_format);
  mi.ttl = Millis(m.value("ttl_ms", mi.ttl.count()));
  mi.issuer = m.value("issuer", mi.issuer);
  mi.audience = m.value("audience", mi.audience);
  return c;
}

std::string fixed(double v, int digits) {
  return fmt::format("{:.{}f}", v, digits);
}

}  // namespace

Table workers_table(const dist::DistResult& r) {
  Table t;
  t.title = "Workers (" + std::to_string(r.started) + " of " + std::to_string(r.workers) +
            " started; Job " + r.job + ")";
  t.columns = {"worker", "pod",     "state",     "requests",     "expected", "rps",
               "errors", "dropped", "start lag", "clock offset", "reason"};
  for (const auto& w : r.rows)
    t.rows.push_back({std::to_string(w.index), w.pod.empty() ? "-" : w.pod, w.state,
                      std::to_string(w.requests), w.expected ? std::to_string(w.expected) : "-",
                      w.merged ? fixed(w.achieved_rps, 1) : "-", std::to_string(w.failed),
                      std::to_string(w.dropped),
                      w.start_lag_ms ? fixed(*w.start_lag_ms, 2) + " ms" : "-",
                      w.clock_offset_ms ? fixed(*w.clock_offset_ms, 1) + " ± " +
                                              fixed(w.clock_uncertainty_ms.value_or(0), 1) + " ms"
                                        : "-",
                      w.reason.empty() ? "" : w.reason});
  return t;
}

std::string workers_text(const dist::DistResult& r) {
  const Table t = workers_table(r);
  std::vector<std::size_t> width(t.columns.size() - 1, 0);  // the reason goes last, unpadded
  auto widen = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  widen(t.columns);
  for (const auto& row : t.rows) widen(row);
  std::string out = t.title + "\n";
  auto line = [&](const std::vector<std::string>& row) {
    std::string l = " ";
    for (std::size_t i = 0; i < width.size(); ++i)
      l += " " + row[i] + std::string(width[i] - row[i].size(), ' ');
    l += " " + row.back();
    while (!l.empty() && l.back() == ' ') l.pop_back();
    return l + "\n";
  };
  out += line(t.columns);
  for (const auto& row : t.rows) out += line(row);
  return out;
}

json distributed_json(const dist::DistResult& r) {
  json rows = json::array();
  for (const auto& w : r.rows) {
    json row = {{"index", w.index},
                {"pod", w.pod},
                {"node", w.node},
                {"state", w.state},
                {"reason", redact(w.reason)},
                {"merged", w.merged},
                {"expected", w.expected},
                {"requests", w.requests},
                {"completed", w.completed},
                {"failed", w.failed},
                {"dropped", w.dropped},
                {"duration_s", w.duration_s},
                {"achieved_rps", w.achieved_rps},
                {"start_lag_ms", w.start_lag_ms ? json(*w.start_lag_ms) : json()},
                {"clock_offset_ms", w.clock_offset_ms ? json(*w.clock_offset_ms) : json()}};
    if (!w.latency_samples.empty()) row["latency_samples_us"] = w.latency_samples;
    rows.push_back(std::move(row));
  }
  json problems = json::array();
  for (const auto& p : r.problems) problems.push_back(redact(p));
  return {{"job", r.job},
          {"namespace", r.namespace_},
          {"run", r.run_id},
          {"workers", r.workers},
          {"started", r.started},
          {"scheduled", r.scheduled},
          {"partial", r.partial},
          {"problems", problems},
          {"interrupted", r.interrupted},
          {"start_unix_ns", r.start_unix_ns},
          {"max_start_lag_ms", r.max_start_lag_ms},
          {"clock_spread_ms", r.clock_spread_ms ? json(*r.clock_spread_ms) : json()},
          {"cleaned_up", r.cleaned_up},
          {"cleanup", redact(r.cleanup)},
          {"rows", rows}};
}

CLI::App* add_load_worker_command(CLI::App& app) {
  auto* c = app.add_subcommand(
      "load-worker",
      "A worker of a distributed load run (in a pod kgate created: reads $KGATE_LOAD_PLAN and "
      "$JOB_COMPLETION_INDEX)");
  c->group("");  // not for people: `kgate load --workers N` starts these
  return c;
}

int cmd_load_worker() {
  const char* plan_text = std::getenv("KGATE_LOAD_PLAN");
  const char* index_text = std::getenv("JOB_COMPLETION_INDEX");
  if (!plan_text || !*plan_text || !index_text || !*index_text) {
    std::cerr << "kgate load-worker: KGATE_LOAD_PLAN and JOB_COMPLETION_INDEX must be set: this "
                 "command runs in the pods `kgate load --workers N` creates"
              << std::endl;
    return kExitUsage;
  }
  dist::WorkerPlan plan;
  int index = -1;
  try {
    plan = dist::plan_from_json(json::parse(plan_text));
    index = std::stoi(index_text);
    if (index < 0 || index >= plan.workers)
      throw std::invalid_argument("JOB_COMPLETION_INDEX " + std::string(index_text) +
                                  " is not in [0, " + std::to_string(plan.workers) + ")");
  } catch (const std::exception& e) {
    std::cerr << "kgate load-worker: " << redact(e.what()) << std::endl;
    return kExitUsage;
  }
  static std::mutex out_mutex;
  dist::WorkerHooks hooks;
  hooks.interrupted = [] { return interrupted(); };
  hooks.out = [](const std::string& text) {
    std::lock_guard lock(out_mutex);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  };

  // Identities (todo mix, authenticated requests): minted here from the Secret in the env.
  const json& so = plan.scenario_options;
  const bool todo_mix = plan.scenario == "todo-mix";
  const bool authenticated = so.value("authenticated", false);
  std::unique_ptr<RunContext> run;
  std::unique_ptr<CheckContext> ctx;
  std::unique_ptr<load::TodoMix> mix;
  std::vector<Identity> ids;
  std::string base = plan.request.url;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (todo_mix || authenticated) {
    try {
      run = std::make_unique<RunContext>(worker_config(so, base));
      ctx = std::make_unique<CheckContext>(*run, nullptr);
      const std::string prefix = "load-w" + std::to_string(index) + "-";
      if (todo_mix) {
        for (int i = 0; i < so.value("identities", 5); ++i)
          ids.push_back(run->identity(prefix + std::to_string(i + 1)));
        auto m = todo_mix_options(run->config().profile, base, ids);
        const json w = so.value("weights", json::object());
        m.list = w.value("list", m.list);
        m.create = w.value("create", m.create);
        m.toggle = w.value("toggle", m.toggle);
        m.remove = w.value("delete", m.remove);
        mix = std::make_unique<load::TodoMix>(std::move(m));
        hooks.scenario = mix.get();
        hooks.after_run = [&]() -> json {
          json out = json::object();
          for (const auto& [op, n] : mix->counts()) out["sent"][op] = n;
          std::size_t left = 0;
          for (auto n : clean_up_todo_mix(*ctx, base, ids, *mix)) left += n;
          const auto failed = ctx->run_cleanups();
          out["deleted"] = left - std::min(left, failed.size());
          out["left_behind"] = failed;
          return out;
        };
      } else {
        const Identity& id = run->identity(prefix + "1");
        plan.request.headers.emplace_back("Authorization", "Bearer " + id.token);
        for (auto at = plan.request.url.find("{user_id}"); at != std::string::npos;
             at = plan.request.url.find("{user_id}"))
          plan.request.url.replace(at, 9, url_encode_segment(id.user_id));
      }
    } catch (const std::exception& e) {
      hooks.out(redact("kgate load worker " + std::to_string(index) +
                       ": cannot prepare its identities: " + e.what()) +
                "\n");
      return dist::kWorkerSetupFailed;
    }
  }
  try {
    return dist::run_worker(plan, index, hooks);
  } catch (const std::exception& e) {
    hooks.out(redact("kgate load worker " + std::to_string(index) + ": " + e.what()) + "\n");
    return dist::kWorkerSetupFailed;
  }
}

}  // namespace kgate
