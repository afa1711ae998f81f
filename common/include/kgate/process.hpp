#pragma once
// Child processes that kgate starts (the embedded reference app) and tests start (apps,
// PostgreSQL). Output goes to a log file; the destructor terminates and reaps the child.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kgate {

struct ProcessSpec {
  std::string program;  // path; searched in PATH when it has no '/'
  std::vector<std::string> args;
  std::map<std::string, std::string> env_set;  // added to (or replacing in) the inherited env
  std::vector<std::string> env_unset;
  bool clear_env = false;  // start from an empty environment (a container's), not ours
  std::string log_path;    // stdout+stderr; empty: inherit
  std::string workdir;
  std::optional<unsigned> run_as_uid;  // drop to this uid/gid (root only), e.g. for postgres
  std::optional<unsigned> run_as_gid;
};

class ChildProcess {
 public:
  ChildProcess() = default;
  // Throws std::runtime_error naming the program when it cannot be started.
  explicit ChildProcess(const ProcessSpec& spec);
  ~ChildProcess();
  ChildProcess(ChildProcess&&) noexcept;
  ChildProcess& operator=(ChildProcess&&) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  bool running();                                             // reaps if it has exited
  std::optional<int> exit_status() const { return status_; }  // exit code, or 128+signal
  // Sends sig, waits up to grace, then SIGKILL. Returns the exit status.
  int stop(int sig = 15, std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Waits for exit; nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void signal(int sig);
  const std::string& log_path() const { return log_path_; }
  std::string log_tail(std::size_t max_bytes = 4096) const;

 private:
  int pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// The directory of the running executable (for finding sibling binaries such as todo-app).
std::string self_exe_dir();
// A free TCP port on 127.0.0.1 (bound then released: racy by nature, so callers that can let the
// server bind port 0 and report it should prefer that).
unsigned short free_loopback_port();

}  // namespace kgate
