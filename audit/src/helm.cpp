// `helm template` into a temporary directory (--output-dir keeps stdout free of helm's own
// messages), then the rendered files are loaded with their "# Source:" templates.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kgate/audit/chart.hpp"
#include "kgate/audit/load.hpp"
#include "kgate/process.hpp"
#include "kgate/wait.hpp"

namespace kgate::audit {
namespace fs = std::filesystem;

namespace {

bool is_executable(const std::string& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// A temporary directory removed on scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kgate-audit-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string find_helm() {
  if (const char* env = std::getenv("KGATE_HELM"); env && *env) {
    if (is_executable(env)) return env;
    throw InputError(std::string("KGATE_HELM=") + env + " is not an executable file");
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      std::string candidate = (dir.empty() ? "." : dir) + "/helm";
      if (is_executable(candidate)) return candidate;
    }
  }
  const char* home = std::getenv("HOME");
  std::string cached = std::string(home ? home : "") + "/.cache/kgate/bin/helm";
  if (home && is_executable(cached)) return cached;
  throw InputError("--chart needs helm, and none was found ($KGATE_HELM, `helm` on the PATH, " +
                   cached + "); install Helm 3 or run scripts/install-helm.sh");
}

Objects render_chart(const ChartOptions& o) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(o.chart) / "Chart.yaml", ec))
    throw InputError("--chart " + o.chart + ": not a chart directory (no Chart.yaml)");
  for (const auto& f : o.values_files)
    if (!fs::is_regular_file(f, ec)) throw InputError("-f " + f + ": no such file");
  std::string helm = o.helm.empty() ? find_helm() : o.helm;

  TempDir out;
  ProcessSpec spec;
  spec.program = helm;
  spec.args = {"template", o.release,      o.chart,        "--namespace",
               o.ns,       "--output-dir", out.path + "/r"};
  for (const auto& f : o.values_files) spec.args.insert(spec.args.end(), {"-f", f});
  for (const auto& s : o.set) spec.args.insert(spec.args.end(), {"--set", s});
  spec.log_path = out.path + "/helm.log";
  ChildProcess child(spec);
  auto done = wait_until(
      [&](std::string*) { return !child.running() || (o.interrupted && o.interrupted()); },
      o.timeout, std::chrono::milliseconds(20));
  if (child.running()) {
    child.stop(15, std::chrono::seconds(2));
    if (o.interrupted && o.interrupted()) throw std::runtime_error("interrupted");
    throw std::runtime_error("helm template " + o.chart + " did not finish within " +
                             std::to_string(o.timeout.count()) + " ms");
  }
  (void)done;
  int status = child.exit_status().value_or(-1);
  if (status != 0) {
    // helm's message names the template and line; the wrote-lines are noise.
    std::string log = read_file(spec.log_path), msg;
    std::istringstream lines(log);
    for (std::string l; std::getline(lines, l);)
      if (l.rfind("wrote ", 0) != 0) msg += l + "\n";
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    throw InputError("helm template " + o.chart + " failed (exit " + std::to_string(status) +
                     "): " + msg);
  }

  auto sources = std::make_shared<const ChartSources>(o.chart);
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(out.path + "/r", ec))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  Objects objects;
  for (const auto& f : files) {
    std::map<std::pair<std::string, std::string>, int> seen;  // (template, kind) -> count
    for (auto& obj : parse_manifests(read_file(f), f.string())) {
      obj.rendered_line = obj.document_line;
      obj.document_line = 0;
      obj.lines.clear();  // lines of a temporary file mean nothing to anyone
      obj.file = o.chart;
      obj.sources = sources;
      obj.nth_of_kind = seen[{obj.template_path, obj.kind()}]++;
      objects.push_back(std::move(obj));
    }
  }
  return objects;
}

}  // namespace kgate::audit
