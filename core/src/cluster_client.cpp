#include "kgate/cluster_client.hpp"

#include <algorithm>

#include "kgate/kube/config.hpp"

namespace kgate {

ClusterClient cluster_client(const KubernetesConfig& k, int max_retries) {
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
  co.max_retries = max_retries;
  ClusterClient out;
  out.namespace_ = k.namespace_.empty() ? cluster.namespace_name : k.namespace_;
  out.client = std::make_unique<kube::Client>(std::move(cluster), co);
  return out;
}

}  // namespace kgate
