#pragma once
// The cluster of a `kubernetes:` section, as every Kubernetes part of kgate reaches it (the
// audit, resilience and load suites, the sign-off): the kubeconfig as kubectl reads it, every
// API call bounded by kubernetes.request_timeout (connecting included), and the namespace the
// section names or else the context's.
#include <memory>
#include <string>

#include "kgate/config.hpp"
#include "kgate/kube/client.hpp"

namespace kgate {

struct ClusterClient {
  std::unique_ptr<kube::Client> client;
  std::string namespace_;
};

// Throws ConfigError ("kubernetes: ...") naming the kubeconfig problem. `max_retries` bounds
// the client's retries of 429/5xx/dropped connections (a sign-off detail is worth one try).
ClusterClient cluster_client(const KubernetesConfig& k, int max_retries = 3);

// The same from command-line flags as written (`kgate audit --live`, `kgate collect`):
// --kubeconfig, --context, --namespace (empty: the context's) and --request-timeout.
// `max_retries` < 0: the client's default.
ClusterClient cluster_client(const std::string& kubeconfig, const std::string& context,
                             const std::string& ns, const std::string& request_timeout,
                             int max_retries = -1);

}  // namespace kgate
