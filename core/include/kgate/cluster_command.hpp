#pragma once
// `kgate cluster-info`: which cluster kgate's Kubernetes suites would talk to, and whether they
// can: the kubeconfig as kubectl reads it (--kubeconfig, KUBECONFIG, ~/.kube/config, or the
// in-cluster service account), the context, and the API server's version. No secret is printed.
#include <string>

namespace CLI {
class App;
}

namespace kgate {

struct ClusterArgs {
  std::string kubeconfig;
  std::string context;
  std::string request_timeout = "10s";
};

CLI::App* add_cluster_info_command(CLI::App& app, ClusterArgs& args);
// Exit: 0 reachable, 2 configuration error (file:line:column, missing context...), 3 unreachable
// or credentials refused.
int cmd_cluster_info(const ClusterArgs& args);

}  // namespace kgate
