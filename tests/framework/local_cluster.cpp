#include "framework/local_cluster.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <kgate/kube/config.hpp>
#include <kgate/wait.hpp>

#include "framework/todo_app.hpp"

namespace kgate::testfw {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

bool is_ready(const json& pod) {
  if (pod["metadata"].contains("deletionTimestamp")) return false;
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

}  // namespace

LocalCluster::LocalCluster(std::chrono::seconds timeout) {
  const std::string source = env_or("KGATE_SOURCE_DIR", KGATE_SOURCE_DIR);
  const std::string build = env_or("KGATE_BUILD_DIR", KGATE_BUILD_DIR);
  base_dir_ = make_temp_dir("kgate-cluster-");
  dir_ = base_dir_ + "/cluster";  // the script's own folder; its output stays beside it
  kubeconfig_ = dir_ + "/kubeconfig";

  ProcessSpec spec;
  spec.program = source + "/fixtures/local-cluster/local-cluster.sh";
  spec.args = {"up",
               "--dir",
               dir_,
               "--node-agent",
               build + "/fixtures/node-agent/kgate-node-agent",
               "--image",
               "todo-app=" + build + "/app/todo-app",
               "--image",
               "kgate=" + build + "/core/kgate",
               "--parent-pid",
               std::to_string(::getpid())};
  spec.log_path = base_dir_ + "/local-cluster.out";
  const auto start = std::chrono::steady_clock::now();
  process_ = ChildProcess(spec);
  bool exited = false;
  auto waited = wait_until(
      [&](std::string* why) {
        exited = !process_.running();
        *why = exited ? "local-cluster.sh exited" : "waiting for " + dir_ + "/env";
        return exited || fs::exists(dir_ + "/env");
      },
      timeout, std::chrono::milliseconds(200));
  if (!waited.ok || exited) {
    std::string tails = process_.log_tail(2000);
    for (const char* c : {"apiserver", "controller-manager", "node-agent"}) {
      tails += "\n--- " + std::string(c) + ".log\n" + log_tail(c, 1500);
    }
    process_.stop(SIGTERM, std::chrono::seconds(20));
    throw std::runtime_error("local cluster did not start: " + waited.last_error + "\n" + tails);
  }
  startup_ = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::istringstream env(read_file(dir_ + "/env"));
  for (std::string line; std::getline(env, line);) {
    if (line.rfind("KGATE_CLUSTER_NODE_IP=", 0) == 0) node_ip_ = line.substr(22);
    if (line.rfind("KGATE_CLUSTER_NETNS=", 0) == 0) netns_ = line.substr(20);
  }
  // Into the cluster's network: this thread, the threads it starts from now on and the processes
  // it spawns (common/process starts a child in its caller's namespace).
  host_netns_fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const std::string ns_path = "/run/netns/" + netns_;
  int fd = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (netns_.empty() || fd < 0 || host_netns_fd_ < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (host_netns_fd_ >= 0) ::close(host_netns_fd_);
    errno = err;
    process_.stop(SIGTERM, std::chrono::seconds(20));
    throw std::runtime_error("cannot enter the cluster's network namespace '" + netns_ +
                             "': " + std::strerror(errno));
  }
  ::close(fd);
  kube::LoadOptions lo;
  lo.kubeconfig = kubeconfig_;
  client_ = std::make_unique<kube::Client>(kube::load_config(lo));
}

void LocalCluster::leave_netns() {
  if (host_netns_fd_ < 0) return;
  // Back to the host's namespace first: teardown kills every process left in the cluster's.
  if (::setns(host_netns_fd_, CLONE_NEWNET) != 0)
    std::cerr << "local cluster: cannot return to the host's network namespace: "
              << std::strerror(errno) << "\n";
  ::close(host_netns_fd_);
  host_netns_fd_ = -1;
}

LocalCluster::~LocalCluster() {
  client_.reset();
  leave_netns();
  process_.stop(SIGTERM, std::chrono::seconds(30));
  remove_temp_dir(base_dir_);  // kept when KGATE_KEEP_TMP is set
}

std::string LocalCluster::log_tail(const std::string& component, std::size_t bytes) const {
  std::string text = read_file(dir_ + "/" + component + ".log");
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

LocalCluster::Result LocalCluster::kubectl(const std::vector<std::string>& args,
                                           std::chrono::seconds timeout) {
  return command("kubectl", args, timeout);
}

LocalCluster::Result LocalCluster::on_host(const std::vector<std::string>& argv,
                                           std::chrono::seconds timeout) {
  Result r;
  std::exception_ptr error;
  // A thread of its own enters the host's namespace; the child starts in its caller's.
  std::thread host([&] {
    try {
      if (::setns(host_netns_fd_, CLONE_NEWNET) != 0)
        throw std::runtime_error(std::string("setns to the host's namespace: ") +
                                 std::strerror(errno));
      r = command(argv.at(0), {argv.begin() + 1, argv.end()}, timeout);
    } catch (...) {
      error = std::current_exception();
    }
  });
  host.join();
  if (error) std::rethrow_exception(error);
  return r;
}

std::map<std::string, std::string> LocalCluster::tool_env() const {
  return {{"KUBECONFIG", kubeconfig_},
          {"HELM_CACHE_HOME", dir_ + "/helm-cache"},
          {"HELM_CONFIG_HOME", dir_ + "/helm-config"},
          {"HELM_DATA_HOME", dir_ + "/helm-data"}};
}

LocalCluster::Result LocalCluster::command(const std::string& program,
                                           const std::vector<std::string>& args,
                                           std::chrono::seconds timeout,
                                           const std::map<std::string, std::string>& env) {
  static std::atomic<int> counter{0};
  ProcessSpec spec;
  spec.program = program;
  spec.args = args;
  spec.env_set = tool_env();
  for (const auto& [k, v] : env) spec.env_set[k] = v;
  std::string base = program.substr(program.rfind('/') + 1);
  spec.log_path = base_dir_ + "/" + base + "-" + std::to_string(++counter) + ".out";
  ChildProcess p(spec);
  Result r;
  auto status = p.wait(timeout);
  if (!status) {
    p.stop(SIGTERM, std::chrono::seconds(10));
    r.status = -1;
  } else {
    r.status = *status;
  }
  r.output = read_file(spec.log_path);
  return r;
}

void LocalCluster::apply(const std::string& yaml) {
  static int counter = 0;
  const std::string file = dir_ + "/manifest-" + std::to_string(++counter) + ".yaml";
  std::ofstream(file) << yaml;
  auto r = kubectl({"apply", "-f", file});
  if (r.status != 0) throw std::runtime_error("kubectl apply failed: " + r.output);
}

std::vector<json> ready_pods(kube::Client& client, const std::string& ns,
                             const std::string& selector) {
  kube::ListOptions lo;
  lo.label_selector = selector;
  std::vector<json> out;
  const json list = client.list(kube::resources::pods, ns, lo);  // outlives the loop below
  for (const auto& pod : list["items"]) {
    if (is_ready(pod)) out.push_back(pod);
  }
  return out;
}

std::vector<json> wait_for_ready_pods(kube::Client& client, const std::string& ns,
                                      const std::string& selector, int count,
                                      std::chrono::seconds timeout) {
  std::vector<json> pods;
  auto r = wait_until(
      [&](std::string* why) {
        kube::ListOptions lo;
        lo.label_selector = selector;
        auto all = client.list(kube::resources::pods, ns, lo)["items"];
        pods = ready_pods(client, ns, selector);
        *why = std::to_string(pods.size()) + " of " + std::to_string(all.size()) +
               " pods ready (want " + std::to_string(count) + ")";
        if (!all.empty()) {
          auto status = all.back().value("status", json::object());
          *why += "; last pod phase " + status.value("phase", "?") + ", containers " +
                  status.value("containerStatuses", json::array()).dump();
        }
        return static_cast<int>(pods.size()) == count && static_cast<int>(all.size()) == count;
      },
      timeout, std::chrono::milliseconds(250));
  if (!r.ok) {
    throw std::runtime_error("pods " + selector + " in " + ns + " not ready after " +
                             std::to_string(timeout.count()) + "s: " + r.last_error);
  }
  return pods;
}

std::string service_url(kube::Client& client, const std::string& ns, const std::string& name) {
  auto svc = client.get(kube::resources::services, ns, name);
  return "http://" + svc["spec"].value("clusterIP", "") + ":" +
         std::to_string(svc["spec"]["ports"][0].value("port", 0));
}

std::string kgate_binary() {
  return env_or("KGATE_BUILD_DIR", KGATE_BUILD_DIR) + "/core/kgate";
}

std::string helm_binary() {
  const char* home = std::getenv("HOME");
  return env_or("KGATE_HELM", std::string(home ? home : "") + "/.cache/kgate/bin/helm");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace kgate::testfw
