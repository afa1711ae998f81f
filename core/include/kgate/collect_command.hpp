#pragma once
// `kgate collect`: the reports of a kgate run that happened in a `helm test` pod. The pod's kgate
// (`kgate run --results-block`) ends its log with its results as a marked block
// (common/log_block.hpp, kind "results": results.json's document, redacted); collect finds the
// release's test pod, reads its log through the API's log subresource and writes junit.xml,
// report.html and results.json here. Its exit code is the gate's verdict, so a pipeline runs
// `helm test REL; kgate collect --release REL` and publishes the JUnit file.
#include <string>

#include "kgate/result.hpp"

namespace CLI {
class App;
}

namespace kgate {

struct CollectArgs {
  std::string release;
  std::string ns;        // default: the kubeconfig context's namespace
  std::string selector;  // default: app.kubernetes.io/instance=<release>
  std::string pod;       // a pod by name instead of the release's test pods
  std::string kubeconfig, context, request_timeout = "10s";
  std::string report_dir, junit, html, json;
};

CLI::App* add_collect_command(CLI::App& app, CollectArgs& args);
// Exit: 0 the gate passed, 1 it failed (or the run in the pod was aborted or errored), 2 usage
// or kubeconfig error, 3 no test pod, no finished pod, or no results block in its log (the
// message says which, with the log's last lines), 4 reports not written, 130 interrupted.
int cmd_collect(const CollectArgs& args);

// The block `kgate run --results-block` prints last: results.json's document, compact.
std::string results_block(const RunResult& run);

}  // namespace kgate
