#pragma once
// Maps an object rendered by `helm template` back to the template text it came from, so that a
// finding (and GitHub code scanning) points at the template line to change, not at a line of
// helm's output. The "# Source:" comment names the template file; when that file only includes
// a named template (`include "todo.component.deployment"`), the define's body in the chart's
// other files is searched. Within the text, the finding's path is followed key by key with
// indentation, as far as the template spells it out (values inserted by toYaml stop the walk,
// so the finding points at the key that receives them).
#include <map>
#include <string>
#include <vector>

#include "kgate/audit/object.hpp"

namespace kgate::audit {

class ChartSources {
 public:
  // chart_dir: as the user gave it (locations keep that prefix). Reads templates/ recursively.
  explicit ChartSources(std::string chart_dir);

  // template_path: "# Source:" path ("todo/templates/backend.yaml"; subcharts:
  // "todo/charts/x/templates/y.yaml"). nth: index among objects of this kind in that template.
  Location locate(const std::string& template_path, const std::string& kind, int nth,
                  const std::string& pointer) const;

 private:
  struct File {
    std::string path;  // chart_dir + "/templates/..."
    std::vector<std::string> lines;
  };
  struct Region {
    const File* file = nullptr;
    int begin = 0, end = 0;  // [begin, end) line indexes
  };
  std::vector<Region> documents_of_kind(const Region& r, const std::string& kind, int depth) const;
  int walk(const Region& r, const std::string& pointer) const;

  std::string chart_dir_;
  std::map<std::string, File> files_;      // by path relative to the chart: "templates/x.yaml"
  std::map<std::string, Region> defines_;  // named templates
};

}  // namespace kgate::audit
