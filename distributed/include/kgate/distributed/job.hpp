#pragma once
// The Kubernetes side of a distributed load run: the Indexed Job of kgate workers, as data.
#include <chrono>
#include <map>
#include <optional>
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
  // A Secret key given to every worker as an environment variable (the todo mix's signing
  // secret): the Job then names the Secret, never its value.
  struct SecretEnv {
    std::string env, secret, key;
  };
  std::optional<SecretEnv> secret_env;
  std::chrono::milliseconds start_timeout{std::chrono::minutes(2)};  // pods Ready within this
  std::chrono::milliseconds start_lead{1000};  // the barrier instant, after the signal
  std::chrono::milliseconds cleanup_timeout{std::chrono::minutes(1)};
  bool allow_partial = false;  // a run that lost a worker may still pass its gate
};

// Labels every object of a run carries; pods are found by kRunLabel=<run id>.
inline constexpr const char* kRunLabel = "kgate.io/load-run";
std::string job_name(const std::string& run_id);
std::string pod_selector(const std::string& run_id);

// The Indexed Job (completionMode Indexed, parallelism = completions = workers, no retries:
// backoffLimitPerIndex 0 so a failed worker is reported, never replaced by one that would
// re-send its share) of pods that run `kgate load-worker` as a non-root user without a service
// account token. activeDeadlineSeconds bounds it and ttlSecondsAfterFinished removes it if
// the coordinator cannot (SIGKILL, lost connection).
nlohmann::json job_manifest(const DistOptions& options, const WorkerPlan& plan,
                            std::chrono::seconds active_deadline);

// "500m", "1", "256Mi", "1.5Gi": a Kubernetes quantity (the API's own grammar, in short).
bool is_quantity(const std::string& text);

}  // namespace kgate::dist
