#include "kgate/cluster_client.hpp"

#include <algorithm>

#include "kgate/duration.hpp"
#include "kgate/kube/config.hpp"

namespace kgate {

namespace {

// `where` prefixes a kubeconfig problem: the config section, or nothing for command-line flags
// (the kubeconfig's own message names its file and key).
ClusterClient connect(const KubernetesConfig& k, int max_retries, const std::string& where) {
  kube::ClusterConfig cluster;
  try {
    kube::LoadOptions lo;
    lo.kubeconfig = k.kubeconfig;
    lo.context = k.context;
    cluster = kube::load_config(lo);
  } catch (const kube::ConfigError& e) {
    throw ConfigError(where + e.what());
  }
  kube::ClientOptions co;
  co.request_timeout = k.request_timeout;
  co.connect_timeout = std::min<std::chrono::milliseconds>(k.request_timeout, co.connect_timeout);
  co.max_retries = max_retries;
  ClusterClient out;
  out.namespace_ = k.namespace_.empty() ? cluster.namespace_name : k.namespace_;
  out.client = std::make_unique<kube::Client>(std::move(cluster), co);
  return out;
}

}  // namespace

ClusterClient cluster_client(const KubernetesConfig& k, int max_retries) {
  return connect(k, max_retries, "kubernetes: ");
}

ClusterClient cluster_client(const std::string& kubeconfig, const std::string& context,
                             const std::string& ns, const std::string& request_timeout,
                             int max_retries) {
  KubernetesConfig k;
  k.kubeconfig = kubeconfig;
  k.context = context;
  k.namespace_ = ns;
  try {
    k.request_timeout = std::chrono::duration_cast<Millis>(parse_duration(request_timeout));
  } catch (const std::exception& e) {
    throw ConfigError("--request-timeout: " + std::string(e.what()));
  }
  return connect(k, max_retries < 0 ? kube::ClientOptions{}.max_retries : max_retries, "");
}

}  // namespace kgate
