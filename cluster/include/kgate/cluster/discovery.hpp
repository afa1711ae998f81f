#pragma once
// Finding the app in a namespace: its Deployments (by the Helm release's
// app.kubernetes.io/instance label, or by name), and what belongs to them: ReplicaSets, pods,
// the Services that select their pods, those Services' EndpointSlices, Ingresses routing to
// them, HorizontalPodAutoscalers scaling them and PodDisruptionBudgets covering them.
// Read-only: list on each kind. A kind kgate may not list (403) is noted, not fatal, except
// Deployments and pods, without which there is nothing to test.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kgate/kube/client.hpp"

namespace kgate::cluster {

using nlohmann::json;

// One tier of the app: a Deployment and what is attached to it.
struct Workload {
  std::string role;  // "backend" or "frontend"
  std::string name;  // the Deployment's
  json deployment;
  json selector;                       // spec.selector
  json template_labels;                // spec.template.metadata.labels
  std::vector<std::string> services;   // Services selecting its pods
  std::vector<std::string> hpas;       // HPAs whose scaleTargetRef is this Deployment
  std::vector<std::string> pdbs;       // PDBs whose selector matches its pods' labels
  std::vector<std::string> ingresses;  // Ingresses with a backend among its Services
  int replicas() const;
};

struct DiscoverOptions {
  std::string ns;
  std::string release;  // Helm release: app.kubernetes.io/instance=<release>
  std::string backend_deployment, frontend_deployment;  // explicit names win
};

struct Discovery {
  std::string ns;
  std::string how;  // "release todo (label app.kubernetes.io/instance=todo)"
  std::optional<Workload> backend, frontend;
  std::vector<json> deployments, replica_sets, pods, services, endpoint_slices, ingresses, hpas,
      pdbs;
  std::vector<std::string> unreadable;  // kinds kgate could not list, with the API's words

  const Workload* workload(std::string_view role) const;
  // What was found, one line each, for the console and the report.
  std::vector<std::string> describe() const;
};

// Lists and classifies. Throws kube::ApiError when Deployments or pods cannot be listed, and
// std::runtime_error naming what was looked for when no backend Deployment is found.
Discovery discover(kube::Client& client, const DiscoverOptions& options);

// The classification alone, over objects already listed (the part the unit tests cover).
void classify(Discovery& d, const DiscoverOptions& options);

}  // namespace kgate::cluster
