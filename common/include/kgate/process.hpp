#pragma once
// Child processes, the one way kgate and its tests start them: servers that run beside us
// (the embedded reference app, PostgreSQL, a TLS test server) as ChildProcess, output to a log
// file, terminated and reaped by the destructor; and commands that run to completion (a
// credential plugin, a browser) with run_command(), output captured, bounded by a timeout.
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
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
  // The child leads a process group of its own, and the group lives and dies with it: when the
  // child is stopped, times out or exits, whatever else is left in its group (a shell's
  // children, a browser's helpers) is killed too.
  bool new_process_group = false;
};

// The child could not be started. what() names the program and the step that failed; error()
// is the errno (ENOENT: not found, EACCES: not executable, ...).
class SpawnError : public std::runtime_error {
 public:
  SpawnError(const std::string& message, int error) : std::runtime_error(message), error_(error) {}
  int error() const { return error_; }

 private:
  int error_;
};

struct ChildIo;  // internal: the pipes of run_command()

class ChildProcess {
 public:
  ChildProcess() = default;
  // Throws SpawnError naming the program when it cannot be started.
  explicit ChildProcess(const ProcessSpec& spec);
  ~ChildProcess();
  ChildProcess(ChildProcess&&) noexcept;
  ChildProcess& operator=(ChildProcess&&) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  bool running();                                             // reaps if it has exited
  std::optional<int> exit_status() const { return status_; }  // exit code, or 128+signal
  // Sends sig (to the group with new_process_group), waits up to grace, then SIGKILL. Returns
  // the exit status.
  int stop(int sig = 15, std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Waits for exit; nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void signal(int sig);
  const std::string& log_path() const { return log_path_; }
  std::string log_tail(std::size_t max_bytes = 4096) const;

 private:
  friend struct CommandRun;
  ChildProcess(const ProcessSpec& spec, const ChildIo& io);
  bool reap(bool block);  // true once the child has been reaped (status_ set)

  int pid_ = -1;
  bool group_ = false;
  std::optional<int> status_;
  int signal_ = 0;  // the signal that ended it, 0 when it exited
  std::string log_path_;
};

struct CommandOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // then killed (with its group)
  std::optional<std::string> input;    // written to stdin, then closed; nullopt: /dev/null
  std::size_t max_stdout = 16u << 20;  // printing more gets it killed (stdout_overflow)
  std::size_t max_stderr = 64u << 10;  // only the last max_stderr bytes are kept
};

struct CommandResult {
  int status = -1;               // exit code, or 128+signal when a signal ended it
  int signal = 0;                // that signal; 0 when it exited
  bool timed_out = false;        // killed at the timeout
  bool stdout_overflow = false;  // killed for printing more than max_stdout
  std::string out, err;          // what it printed on stdout and stderr (its tail)
};

// Runs spec to completion: stdin from options.input, stdout and stderr captured (spec.log_path is
// not used). Killed at the timeout, with its group when spec.new_process_group. Throws
// SpawnError when it cannot start; any exit status is a result.
CommandResult run_command(const ProcessSpec& spec, const CommandOptions& options = {});

// The directory of the running executable (for finding sibling binaries such as todo-app).
std::string self_exe_dir();
// A free TCP port on 127.0.0.1 (bound then released: racy by nature, so callers that can let the
// server bind port 0 and report it should prefer that).
unsigned short free_loopback_port();

}  // namespace kgate
