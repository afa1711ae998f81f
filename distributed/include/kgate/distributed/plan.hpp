#pragma once
// What every worker of a distributed load run is told, as JSON in its pod (KGATE_LOAD_PLAN):
// the whole schedule (each worker takes its share of it, load::share_of), the request or the
// scenario, the engine's settings, and how to meet the coordinator (the start barrier's port,
// how long to wait for it, how often to report progress). It carries no secret: a Job's spec is
// readable by whoever may read Jobs, so a token or a signing secret reaches the workers through
// a Secret of the run instead (DistOptions::run_secret), and headers that carry credentials are
// refused (check_no_credentials).
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "kgate/load/engine.hpp"
#include "kgate/load/executor.hpp"

namespace kgate::dist {

using Nanos = std::chrono::nanoseconds;

struct WorkerPlan {
  std::string run_id;  // names the Job; ties signals and log blocks to this run
  int workers = 1;
  load::ExecutorSpec executor;  // the whole schedule
  load::RequestSpec request;    // the request (scenario "request"), or the origin (todo-mix)
  // threads, connections, timeouts, insecure. Not ca_file (a path on the coordinator's machine:
  // ca_pem carries the certificates) and not start_at (the barrier sets it).
  load::EngineOptions engine;
  std::string ca_pem;
  std::string scenario = "request";  // request | todo-mix
  // What the worker's side needs to build the scenario (todo-mix: profile, mint settings,
  // weights, identities); opaque to this library.
  nlohmann::json scenario_options = nlohmann::json::object();
  int barrier_port = 8089;
  Nanos barrier_timeout = std::chrono::minutes(10);  // a worker never started gives up then
  Nanos progress_every = std::chrono::seconds(2);
  bool samples = false;  // tests: every latency sample in the log as well (bounded)
};

nlohmann::json to_json(const WorkerPlan& plan);
// Throws std::invalid_argument naming the field that is missing or wrong.
WorkerPlan plan_from_json(const nlohmann::json& j);

// Throws std::invalid_argument when a header would put a credential into the Job's spec
// (Authorization, Cookie, Proxy-Authorization, or a value that looks like a token).
void check_no_credentials(const load::RequestSpec& request);

}  // namespace kgate::dist
