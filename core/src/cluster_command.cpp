#include "kgate/cluster_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>

#include "kgate/duration.hpp"
#include "kgate/gate.hpp"
#include "kgate/http.hpp"
#include "kgate/kube/client.hpp"
#include "kgate/kube/config.hpp"
#include "kgate/redact.hpp"

namespace kgate {

CLI::App* add_cluster_info_command(CLI::App& app, ClusterArgs& args) {
  auto* c = app.add_subcommand(
      "cluster-info", "Show the Kubernetes cluster kgate would use, and check that it answers");
  c->add_option("--kubeconfig", args.kubeconfig,
                "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)");
  c->add_option("--context", args.context, "context to use (default: current-context)");
  c->add_option("--request-timeout", args.request_timeout, "bound on each API request")
      ->capture_default_str();
  return c;
}

int cmd_cluster_info(const ClusterArgs& args) {
  kube::ClusterConfig config;
  std::chrono::milliseconds timeout;
  try {
    timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(args.request_timeout));
    kube::LoadOptions lo;
    lo.kubeconfig = args.kubeconfig;
    lo.context = args.context;
    config = kube::load_config(lo);
  } catch (const std::exception& e) {
    std::cerr << "kgate: configuration error: " << redact(e.what()) << std::endl;
    return kExitUsage;
  }
  const char* auth = config.exec                                           ? "exec plugin"
                     : !config.client_cert_pem.empty()                     ? "client certificate"
                     : !config.token.empty() || !config.token_file.empty() ? "bearer token"
                                                                           : "none";
  std::cout << "source:    " << config.source << "\n"
            << "server:    " << config.server << "\n"
            << "namespace: " << config.namespace_name << "\n"
            << "auth:      " << auth
            << (config.insecure_skip_tls_verify ? " (TLS verification OFF)" : "") << std::endl;
  try {
    kube::ClientOptions co;
    co.request_timeout = timeout;
    co.connect_timeout = std::min(timeout, co.connect_timeout);
    co.max_retries = 1;
    kube::Client client(config, co);
    auto version = client.raw_get("/version");
    std::cout << "version:   " << version.value("gitVersion", "?") << std::endl;
    return kExitPass;
  } catch (const http::TransportError& e) {
    if (e.kind() == http::ErrorKind::Interrupted) return kExitInterrupted;
    std::cerr << "kgate: cluster unreachable: " << redact(e.what()) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "kgate: cluster refused: " << redact(e.what()) << std::endl;
  }
  return kExitUnreachable;
}

}  // namespace kgate
