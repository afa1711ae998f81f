#pragma once
// Loaders: multi-document YAML (a file, a directory, standard input) and `helm template`.
// Both keep line numbers and, for charts, the "# Source:" template of every object.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kgate/audit/object.hpp"

namespace kgate::audit {

// Every object in a multi-document YAML text (as `helm template` or `kustomize build` print it).
// Lines are counted in `text`; `file` is what locations name. Empty documents and Lists are
// handled (a List's items become objects). Throws InputError naming file:line:column.
Objects parse_manifests(std::string_view text, const std::string& file);

// A file, a directory (its *.yaml, *.yml and *.json files, recursively, in name order) or "-"
// (standard input). Throws InputError.
Objects load_manifests(const std::string& path);

struct ChartOptions {
  std::string chart;                      // the chart's directory
  std::vector<std::string> values_files;  // -f
  std::vector<std::string> set;           // --set k=v
  std::string release = "release-name";   // helm template's own default
  std::string ns = "default";
  std::string helm;  // empty: find_helm()
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  std::function<bool()> interrupted;  // polled while helm runs
};

// helm: $KGATE_HELM, else `helm` on the PATH, else ~/.cache/kgate/bin/helm. Throws InputError
// saying where it looked when there is none.
std::string find_helm();

// Renders the chart with `helm template` (hooks and tests included, as a release installs them)
// and loads the objects; each keeps its template for locations (see ChartSources).
// Throws InputError (no helm, helm failed: its message) or std::runtime_error on timeout.
Objects render_chart(const ChartOptions& options);

}  // namespace kgate::audit
