#pragma once
// Runs the kgate binary as CI would, and reads what it wrote: exit code, console, reports.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kgate::test {

struct KgateRun {
  int exit_code = -1;
  std::string output;      // stdout + stderr
  std::string dir;         // report directory
  nlohmann::json results;  // results.json (null when absent)
  std::string junit, html;
  std::chrono::milliseconds took{0};

  // The check "suite.Group.Name" from results.json; null when absent.
  nlohmann::json check(const std::string& full_name) const;
  std::string status_of(const std::string& full_name) const;  // passed|failed|skipped|absent
  std::string message_of(const std::string& full_name) const;
  std::vector<std::string> failed() const;  // full names of failed checks
};

struct KgateOptions {
  std::vector<std::string> args;  // after "kgate"
  std::map<std::string, std::string> env;
  std::chrono::seconds timeout{120};
  std::string interrupt_marker;  // send SIGINT once the output contains this
};

// Runs kgate with a fresh report directory appended as --report-dir (for `run`).
KgateRun run_kgate(const KgateOptions& options);
inline KgateRun run_kgate(std::vector<std::string> args) {
  KgateOptions o;
  o.args = std::move(args);
  return run_kgate(o);
}
std::string kgate_binary();
std::string slurp(const std::string& path);
std::string write_temp_file(const std::string& name, const std::string& content);

}  // namespace kgate::test
