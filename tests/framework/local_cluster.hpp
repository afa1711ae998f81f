#pragma once
// The local Kubernetes cluster for `cluster` tests: fixtures/local-cluster/local-cluster.sh
// (real etcd, kube-apiserver, kube-controller-manager, and kgate-node-agent running pods as
// processes), started once, torn down by the destructor. Waiting helpers in the style of the
// Kubernetes e2e framework: poll a condition with a deadline, never sleep a fixed time.
//
// The cluster lives in a network namespace of its own (see local-cluster.sh). The constructor
// moves the calling thread into it (setns), so the test, the threads it starts afterwards and
// every process it spawns (kubectl, helm, kgate) talk to the cluster from inside; the destructor
// moves back before the cluster is torn down. Construct it before starting threads of your own.
//
//   kgate::testfw::LocalCluster cluster;
//   cluster.apply(deployment_yaml);
//   auto pods = wait_for_ready_pods(cluster.client(), "default", "app=todo", 2, 90s);
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <kgate/kube/client.hpp>
#include <kgate/process.hpp>

namespace kgate::testfw {

class LocalCluster {
 public:
  // Starts the cluster and waits for its node to be Ready. Throws with the logs' tails.
  explicit LocalCluster(std::chrono::seconds timeout = std::chrono::seconds(180));
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  const std::string& kubeconfig() const { return kubeconfig_; }
  const std::string& dir() const { return dir_; }
  const std::string& node_ip() const { return node_ip_; }
  const std::string& netns() const { return netns_; }  // kgate-lc-...
  std::chrono::milliseconds startup_time() const { return startup_; }
  kube::Client& client() { return *client_; }

  struct Result {
    int status = -1;
    std::string output;  // stdout + stderr
  };
  // kubectl with this cluster's kubeconfig.
  Result kubectl(const std::vector<std::string>& args,
                 std::chrono::seconds timeout = std::chrono::seconds(60));
  // kubectl apply -f of the YAML text; throws on failure with kubectl's output.
  void apply(const std::string& yaml);
  // The environment of a command run beside this cluster as a user would run it: KUBECONFIG is
  // the cluster's, and helm keeps its cache, configuration and data in the cluster's folder
  // (never the user's own).
  std::map<std::string, std::string> tool_env() const;
  // Any program (helm, kgate, ip), run in the cluster's network with tool_env() plus `env`; its
  // output also stays in a numbered log in the cluster's folder. Past `timeout` it gets SIGTERM
  // (kgate still writes its reports), then SIGKILL, and the status is -1.
  Result command(const std::string& program, const std::vector<std::string>& args,
                 std::chrono::seconds timeout = std::chrono::seconds(60),
                 const std::map<std::string, std::string>& env = {});
  // A command run in the host's network namespace (the one the test started in), for checking
  // that nothing of the cluster is visible there.
  Result on_host(const std::vector<std::string>& argv,
                 std::chrono::seconds timeout = std::chrono::seconds(30));
  // The tail of a component's log (apiserver, controller-manager, node-agent, etcd).
  std::string log_tail(const std::string& component, std::size_t bytes = 3000) const;

 private:
  void leave_netns();

  std::string base_dir_, dir_, kubeconfig_, node_ip_, netns_;
  int host_netns_fd_ = -1;
  std::chrono::milliseconds startup_{0};
  ChildProcess process_;
  std::unique_ptr<kube::Client> client_;
};

// Ready pods (not terminating) matching the selector.
std::vector<nlohmann::json> ready_pods(kube::Client& client, const std::string& ns,
                                       const std::string& selector);
// Waits until exactly `count` pods match and are Ready; returns them. Throws on timeout,
// saying what it saw last.
std::vector<nlohmann::json> wait_for_ready_pods(kube::Client& client, const std::string& ns,
                                                const std::string& selector, int count,
                                                std::chrono::seconds timeout);
// A Service's ClusterIP:port as "http://ip:port".
std::string service_url(kube::Client& client, const std::string& ns, const std::string& name);

// The kgate binary of this build ($KGATE_BUILD_DIR/core/kgate), as the cluster tests run it.
std::string kgate_binary();
// The real helm: $KGATE_HELM, else scripts/install-helm.sh's ~/.cache/kgate/bin/helm.
std::string helm_binary();
// A whole file as it is on disk ("" when it cannot be read): reports, logs, kubeconfigs.
std::string read_file(const std::string& path);

}  // namespace kgate::testfw
