#pragma once
// The audit's object model: a manifest file, a rendered chart and the live cluster all become
// the same list of Kubernetes objects (nlohmann::json, as the API serves them), each carrying
// where it came from so that a finding can point at a file and line.
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kgate::audit {

using nlohmann::json;

// A place a finding points at. file is empty for live objects.
struct Location {
  std::string file;  // a path as the loader saw it (relative to the working directory or absolute)
  int line = 0;      // 1-based; 0 when unknown
};

// Input that cannot be read: the message names the place (file:line:column, the flag, the key).
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ChartSources;  // a chart's template files, to map rendered objects back to them (chart.hpp)

struct Object {
  json body;
  // Where it came from.
  std::string file;           // manifest file, "-" for standard input; the chart's path for charts
  int document_line = 0;      // the document's first line in `file` (manifests)
  std::string template_path;  // rendered charts: the "# Source:" path, "todo/templates/x.yaml"
  int rendered_line = 0;      // rendered charts: the document's line in helm's output for it
  bool live = false;          // read from the cluster
  std::map<std::string, int> lines;             // JSON pointer -> line in `file` (manifests)
  std::shared_ptr<const ChartSources> sources;  // rendered charts
  int nth_of_kind = 0;  // rendered charts: index among objects of this kind in the same template

  std::string kind() const;
  std::string name() const;
  std::string ns() const;
  std::string api_version() const;
  // "Deployment/todo-backend"
  std::string ref() const;
  // Where it came from, for people: "deploy.yaml:12", "todo/templates/backend.yaml",
  // "live: ns/Deployment/todo-backend".
  std::string origin() const;
  // The file and line that hold `pointer` (a JSON pointer into body) or its nearest ancestor.
  Location locate(const std::string& pointer) const;
  // body at pointer, or nullptr.
  const json* at(const std::string& pointer) const;
  std::string annotation(const std::string& key) const;
};

using Objects = std::vector<Object>;

// "/spec/template/spec/containers/0/image" -> "spec.template.spec.containers[0].image"
std::string dotted_path(const std::string& pointer);

}  // namespace kgate::audit
