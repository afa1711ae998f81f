#pragma once
// Where kgate's Kubernetes client finds its cluster, credentials and namespace: kubeconfig files
// read the way kubectl (client-go clientcmd) reads them, or the pod's service account when kgate
// runs inside the cluster. Certificates and keys are only transported as PEM text here; the TLS
// layer parses them.
//
// Secrets (tokens, keys, exec credentials) never appear in a ConfigError message; the ones loaded
// are registered with kgate::register_secret so that redact() also blanks them in logs and reports.
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kgate::kube {

struct ExecConfig {         // users[].user.exec
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;      // a PATH name, or a path (relative ones resolved by the loader)
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to the inherited environment
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never | IfAvailable | Always; "" means IfAvailable
};

struct ClusterConfig {
  std::string server;  // https://host:port (no trailing slash)
  std::string ca_pem;  // from certificate-authority-data (base64-decoded) or certificate-authority
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string token;       // static bearer token
  std::string token_file;  // tokenFile: re-read by the client on each request (rotation). When
                           // set, token is empty: the file is the one source of the token.
  std::string client_cert_pem, client_key_pem;  // from *-data (base64) or files
  std::optional<ExecConfig> exec;
  std::string namespace_name = "default";  // from the context, else "default"
  std::string context_name;                // "" for in-cluster
  std::string cluster_name, user_name;     // the kubeconfig entries used ("" for in-cluster)
  std::string source;  // e.g. "/root/.kube/config (context kind-a)" or "in-cluster"
};

struct LoadOptions {
  std::string kubeconfig;                     // --kubeconfig: a single file, wins over KUBECONFIG
  std::string context;                        // --context: wins over current-context
  std::optional<std::string> kubeconfig_env;  // tests inject KUBECONFIG; nullopt: getenv
  std::optional<std::string> home;            // tests inject HOME for ~/.kube/config
  std::string in_cluster_root = "/var/run/secrets/kubernetes.io/serviceaccount";
  // Tests inject; nullopt: getenv KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT.
  std::optional<std::string> service_host, service_port;
  // In-cluster namespace override (downward API), as client-go; nullopt: getenv POD_NAMESPACE.
  std::optional<std::string> pod_namespace;
};

class ConfigError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The kubeconfig if one is found (--kubeconfig, else the KUBECONFIG list, else ~/.kube/config),
// else the in-cluster configuration, else ConfigError. As client-go, a kubeconfig that holds
// nothing (empty files) also falls back to in-cluster, unless --context was given.
ClusterConfig load_config(const LoadOptions& options);
ClusterConfig load_kubeconfig(const LoadOptions& options);    // kubeconfig only
ClusterConfig in_cluster_config(const LoadOptions& options);  // in-cluster only
// One kubeconfig given as text, read as if from the file source_name (relative paths resolve
// against its directory); `context` as --context. The fuzz target's entry, and any caller that
// has the text already.
ClusterConfig parse_kubeconfig(const std::string& text, const std::string& source_name,
                               const std::string& context = "");

// Reads a bearer token file (tokenFile, the service account token): trimmed, non-empty. Throws
// ConfigError naming the path. The client calls it per request so that rotated tokens are used.
std::string read_token_file(const std::string& path);

struct ExecCredential {
  std::string token, client_cert_pem, client_key_pem;
  std::optional<std::chrono::system_clock::time_point> expires;
};

// Runs the credential plugin (spawned with pipes, KUBERNETES_EXEC_INFO set as kubectl does, stdin
// /dev/null so it is never interactive, killed with its process group after timeout) and parses
// the ExecCredential it prints. Throws ConfigError naming the command (never the credential),
// with the tail of the plugin's stderr and the install hint.
ExecCredential run_exec_plugin(const ExecConfig& exec, const ClusterConfig& cluster,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace kgate::kube
