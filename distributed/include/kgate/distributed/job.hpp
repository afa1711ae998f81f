#pragma once
// The Kubernetes side of a distributed load run: the Indexed Job of kgate workers, as data.
#include <chrono>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "kgate/distributed/plan.hpp"

namespace kgate::dist {

// Where and how the workers run (suites.load.distributed, or kgate load's flags).
struct DistOptions {
  std::string namespace_ = "default";
  std::string image = "kgate/kgate:latest";  // an image whose entrypoint is kgate
  std::string image_pull_policy;             // "" : the cluster's default for the tag
  // Container resources, as Kubernetes quantities ("500m", "256Mi"); empty: not set.
  std::map<std::string, std::string> requests{{"cpu", "250m"}, {"memory", "64Mi"}};
  std::map<std::string, std::string> limits{{"memory", "512Mi"}};
  // Values for the workers' eyes only (the todo mix's identities): the coordinator puts them
  // into a Secret of the run (secret_name), created before the Job, owned by it and deleted with
  // it; each key reaches the worker pods as the environment variable of that name through a
  // secretKeyRef, so the Job's spec names the Secret, never a value. Keys are environment
  // variable names.
  std::map<std::string, std::string> run_secret;
  std::chrono::milliseconds start_timeout{std::chrono::minutes(2)};  // pods Ready within this
  std::chrono::milliseconds start_lead{1000};  // the barrier instant, after the signal
  std::chrono::milliseconds cleanup_timeout{std::chrono::minutes(1)};
  bool allow_partial = false;  // a run that lost a worker may still pass its gate
};

// Labels every object of a run carries; pods are found by kRunLabel=<run id>.
inline constexpr const char* kRunLabel = "kgate.io/load-run";
std::string job_name(const std::string& run_id);
std::string pod_selector(const std::string& run_id);
// The run's Secret (DistOptions::run_secret), named after the Job (another kind, same name).
std::string secret_name(const std::string& run_id);

// The Indexed Job (completionMode Indexed, parallelism = completions = workers, no retries:
// backoffLimitPerIndex 0 so a failed worker is reported, never replaced by one that would
// re-send its share) of pods that run `kgate load-worker` as a non-root user without a service
// account token. activeDeadlineSeconds bounds it and ttlSecondsAfterFinished removes it if
// the coordinator cannot (SIGKILL, lost connection).
nlohmann::json job_manifest(const DistOptions& options, const WorkerPlan& plan,
                            std::chrono::seconds active_deadline);

// The run's Secret: options.run_secret as data, with the run's labels. ownerReferences to the Job
// are added once the Job exists (its uid is known only then): owner_reference().
nlohmann::json secret_manifest(const DistOptions& options, const WorkerPlan& plan);
// An ownerReferences entry naming `job` (a Job as the API returned it), so that deleting the Job
// (or its ttlSecondsAfterFinished) garbage-collects what it owns.
nlohmann::json owner_reference(const nlohmann::json& job);

// "500m", "1", "256Mi", "1.5Gi": a Kubernetes quantity (the API's own grammar, in short).
bool is_quantity(const std::string& text);

}  // namespace kgate::dist
