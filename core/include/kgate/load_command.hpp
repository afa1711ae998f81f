#pragma once
// `kgate load URL`: an ad-hoc load run, like wrk or k6 run, with thresholds as an exit code.
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace kgate {

struct LoadArgs {
  std::string url;
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  double rate = 0;     // open model
  int vus = 0;         // closed model
  std::string stages;  // ramping: "30s:100,1m:500"
  std::string duration = "10s";
  std::string think = "0s";
  int connections = 64;
  int threads = 0;
  std::string timeout = "10s", connect_timeout = "3s", total_timeout = "0s", max_queue_wait = "1s";
  bool insecure = false;
  std::string ca_file;
  std::vector<std::string> thresholds;
  std::string out;                   // results JSON
  std::string scenario = "request";  // request | todo-mix (url is then the backend's base URL)
  int identities = 5;
  // Distributed (docs/distributed-load.md): N kgate worker pods in the cluster, each a share of
  // the schedule. The cluster from --config's kubernetes: section, overridden by the flags.
  int workers = 0;
  std::string config_path, kubeconfig, context, namespace_, image, start_timeout;
  bool allow_partial = false;
  bool worker_samples = false;  // tests: workers log every latency sample too
  // --watch deployment/NAME: the Deployment and its HPA sampled once a second during the run
  // (the cluster from --kubeconfig/--context/--namespace, each API call bounded by
  // --request-timeout).
  std::string watch;
  std::string watch_namespace;  // the Deployment's namespace when not --namespace (--workers')
  std::string request_timeout = "5s";
};

CLI::App* add_load_command(CLI::App& app, LoadArgs& args);
// Exit: 0 done (thresholds passed), 1 a threshold failed (or, with workers, a worker's share
// is missing), 2 usage (a bad --watch value, or a --watch Deployment that does not exist), 3
// unreachable (with workers: the cluster refused, or no worker started; with --watch: the API
// could not be read at the start), 130 Ctrl-C.
int cmd_load(const LoadArgs& args);

}  // namespace kgate
