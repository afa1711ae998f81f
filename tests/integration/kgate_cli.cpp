#include "integration/kgate_cli.hpp"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kgate/process.hpp"

namespace kgate::test {
namespace fs = std::filesystem;

std::string kgate_binary() {
  if (const char* b = std::getenv("KGATE_BUILD_DIR"); b && *b)
    return std::string(b) + "/core/kgate";
  return KGATE_BINARY_PATH;  // compiled in, so a test binary also runs by hand
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string write_temp_file(const std::string& name, const std::string& content) {
  char tmpl[] = "/tmp/kgate-it-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/" + name;
  std::ofstream(path) << content;
  return path;
}

KgateRun run_kgate(const KgateOptions& o) {
  char tmpl[] = "/tmp/kgate-run-XXXXXX";
  KgateRun run;
  run.dir = ::mkdtemp(tmpl);
  ProcessSpec spec;
  spec.program = kgate_binary();
  spec.args = o.args;
  if (!o.args.empty() && (o.args[0] == "run" || o.args[0] == "audit"))
    spec.args.insert(spec.args.end(), {"--report-dir", run.dir});
  spec.env_set = o.env;
  spec.log_path = run.dir + "/console.log";
  auto started = std::chrono::steady_clock::now();
  ChildProcess kgate(spec);
  bool interrupted = false;
  std::optional<int> rc;
  while (!rc) {
    rc = kgate.wait(std::chrono::milliseconds(100));
    if (!rc && !o.interrupt_marker.empty() && !interrupted &&
        slurp(spec.log_path).find(o.interrupt_marker) != std::string::npos) {
      kgate.signal(SIGINT);
      interrupted = true;
    }
    if (!rc && std::chrono::steady_clock::now() - started > o.timeout) {
      kgate.stop(SIGKILL);
      rc = -1;
    }
  }
  run.exit_code = *rc;
  run.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  run.output = slurp(spec.log_path);
  if (fs::exists(run.dir + "/results.json"))
    run.results = nlohmann::json::parse(slurp(run.dir + "/results.json"), nullptr, false);
  run.junit = slurp(run.dir + "/junit.xml");
  run.html = slurp(run.dir + "/report.html");
  return run;
}

nlohmann::json KgateRun::check(const std::string& full_name) const {
  if (!results.is_object() || !results.contains("checks")) return nullptr;
  for (const auto& c : results["checks"])
    if (c.value("classname", "") + "." + c.value("name", "") == full_name) return c;
  return nullptr;
}

std::string KgateRun::status_of(const std::string& full_name) const {
  auto c = check(full_name);
  return c.is_null() ? "absent" : c.value("status", "?");
}

std::string KgateRun::message_of(const std::string& full_name) const {
  auto c = check(full_name);
  return c.is_null() ? "" : c.value("message", "");
}

std::vector<std::string> KgateRun::failed() const {
  std::vector<std::string> out;
  if (!results.is_object() || !results.contains("checks")) return out;
  for (const auto& c : results["checks"])
    if (c.value("status", "") == "failed")
      out.push_back(c.value("classname", "") + "." + c.value("name", ""));
  return out;
}

}  // namespace kgate::test
