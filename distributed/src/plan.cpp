#include "kgate/distributed/plan.hpp"

#include <stdexcept>

#include "kgate/redact.hpp"

namespace kgate::dist {

using nlohmann::json;

namespace {

std::int64_t ns(Nanos d) {
  return d.count();
}

// Reads one field, saying which is missing or of the wrong type.
template <typename T>
T field(const json& j, const char* key, const char* where) {
  auto it = j.find(key);
  if (it == j.end()) throw std::invalid_argument(std::string(where) + "." + key + " is missing");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw std::invalid_argument(std::string(where) + "." + key + " has the wrong type");
  }
}

template <typename T>
T field_or(const json& j, const char* key, const char* where, T fallback) {
  return j.contains(key) ? field<T>(j, key, where) : fallback;
}

}  // namespace

json to_json(const WorkerPlan& p) {
  json stages = json::array();
  for (const auto& s : p.executor.stages)
    stages.push_back({{"duration_ns", ns(s.duration)}, {"target", s.target}});
  json headers = json::array();
  for (const auto& [k, v] : p.request.headers) headers.push_back({k, v});
  const auto& e = p.engine;
  return {{"schema", "kgate/load-plan/v1"},
          {"run", p.run_id},
          {"workers", p.workers},
          {"executor",
           {{"type", p.executor.type},
            {"rate", p.executor.rate},
            {"start_rate", p.executor.start_rate},
            {"vus", p.executor.vus},
            {"start_vus", p.executor.start_vus},
            {"duration_ns", ns(p.executor.duration)},
            {"stages", stages},
            {"think_ns", ns(p.executor.think_time)}}},
          {"request",
           {{"method", p.request.method},
            {"url", p.request.url},
            {"headers", headers},
            {"body", p.request.body}}},
          {"engine",
           {{"threads", e.threads},
            {"connections", e.connections},
            {"connect_timeout_ns", ns(e.connect_timeout)},
            {"request_timeout_ns", ns(e.request_timeout)},
            {"total_timeout_ns", ns(e.total_timeout)},
            {"max_queue_wait_ns", ns(e.max_queue_wait)},
            {"insecure", e.insecure},
            {"interval_ns", ns(e.interval)}}},
          {"ca_pem", p.ca_pem},
          {"scenario", p.scenario},
          {"scenario_options", p.scenario_options},
          {"barrier", {{"port", p.barrier_port}, {"timeout_ns", ns(p.barrier_timeout)}}},
          {"progress_every_ns", ns(p.progress_every)},
          {"samples", p.samples}};
}

WorkerPlan plan_from_json(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("the plan is not a JSON object");
  if (j.value("schema", "") != "kgate/load-plan/v1")
    throw std::invalid_argument(
        "the plan's schema is not kgate/load-plan/v1 (a different kgate "
        "version made it?)");
  WorkerPlan p;
  p.run_id = field<std::string>(j, "run", "plan");
  p.workers = field<int>(j, "workers", "plan");
  if (p.workers < 1) throw std::invalid_argument("plan.workers must be at least 1");
  const json& x = j.at("executor");
  auto& s = p.executor;
  s.type = field<std::string>(x, "type", "plan.executor");
  s.rate = field_or<double>(x, "rate", "plan.executor", 0);
  s.start_rate = field_or<double>(x, "start_rate", "plan.executor", 0);
  s.vus = field_or<int>(x, "vus", "plan.executor", 0);
  s.start_vus = field_or<int>(x, "start_vus", "plan.executor", 0);
  s.duration = Nanos(field_or<std::int64_t>(x, "duration_ns", "plan.executor", 0));
  s.think_time = Nanos(field_or<std::int64_t>(x, "think_ns", "plan.executor", 0));
  for (const auto& st : x.value("stages", json::array()))
    s.stages.push_back({Nanos(field<std::int64_t>(st, "duration_ns", "plan.executor.stages")),
                        field<double>(st, "target", "plan.executor.stages")});
  if (!j.contains("request")) throw std::invalid_argument("plan.request is missing");
  const json& r = j["request"];
  p.request.method = field<std::string>(r, "method", "plan.request");
  p.request.url = field<std::string>(r, "url", "plan.request");
  p.request.body = field_or<std::string>(r, "body", "plan.request", "");
  for (const auto& h : r.value("headers", json::array())) {
    if (!h.is_array() || h.size() != 2 || !h[0].is_string() || !h[1].is_string())
      throw std::invalid_argument("plan.request.headers: each is [name, value]");
    p.request.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
  }
  if (!j.contains("engine")) throw std::invalid_argument("plan.engine is missing");
  const json& e = j["engine"];
  auto& o = p.engine;
  o.threads = field_or<int>(e, "threads", "plan.engine", 0);
  o.connections = field_or<int>(e, "connections", "plan.engine", o.connections);
  o.connect_timeout = Nanos(
      field_or<std::int64_t>(e, "connect_timeout_ns", "plan.engine", o.connect_timeout.count()));
  o.request_timeout = Nanos(
      field_or<std::int64_t>(e, "request_timeout_ns", "plan.engine", o.request_timeout.count()));
  o.total_timeout = Nanos(field_or<std::int64_t>(e, "total_timeout_ns", "plan.engine", 0));
  o.max_queue_wait = Nanos(
      field_or<std::int64_t>(e, "max_queue_wait_ns", "plan.engine", o.max_queue_wait.count()));
  o.insecure = field_or<bool>(e, "insecure", "plan.engine", false);
  o.interval = Nanos(field_or<std::int64_t>(e, "interval_ns", "plan.engine", o.interval.count()));
  if (o.interval.count() <= 0) throw std::invalid_argument("plan.engine.interval_ns must be > 0");
  p.ca_pem = field_or<std::string>(j, "ca_pem", "plan", "");
  p.scenario = field_or<std::string>(j, "scenario", "plan", "request");
  if (p.scenario != "request" && p.scenario != "todo-mix")
    throw std::invalid_argument("plan.scenario '" + p.scenario + "' is not request or todo-mix");
  p.scenario_options = j.value("scenario_options", json::object());
  const json b = j.value("barrier", json::object());
  p.barrier_port = field_or<int>(b, "port", "plan.barrier", p.barrier_port);
  if (p.barrier_port < 1 || p.barrier_port > 65535)
    throw std::invalid_argument("plan.barrier.port is not a TCP port");
  p.barrier_timeout =
      Nanos(field_or<std::int64_t>(b, "timeout_ns", "plan.barrier", p.barrier_timeout.count()));
  p.progress_every =
      Nanos(field_or<std::int64_t>(j, "progress_every_ns", "plan", p.progress_every.count()));
  if (p.progress_every.count() <= 0)
    throw std::invalid_argument("plan.progress_every_ns must be > 0");
  p.samples = field_or<bool>(j, "samples", "plan", false);
  return p;
}

void check_no_credentials(const load::RequestSpec& request) {
  for (const auto& [name, value] : request.headers) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool credential_header =
        lower == "authorization" || lower == "proxy-authorization" || lower == "cookie";
    if (credential_header || redact(value) != value)
      throw std::invalid_argument(
          "header '" + name +
          "' carries a credential: with workers it would be written into the Job's spec, "
          "readable by anyone who may read Jobs in the namespace; let the workers mint their "
          "identities from a Secret instead (suites.load.distributed.secret)");
  }
  if (redact(request.url) != request.url)
    throw std::invalid_argument(
        "the URL carries a credential; with workers it would be written "
        "into the Job's spec");
}

}  // namespace kgate::dist
