#include "kgate/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;

namespace kgate {

// Where the child's stdin, stdout and stderr go (-1: as without it).
struct ChildIo {
  int in = -1, out = -1, err = -1;
};

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string find_program(const ProcessSpec& spec) {
  if (spec.program.find('/') != std::string::npos) return spec.program;
  std::string path;
  if (auto it = spec.env_set.find("PATH"); it != spec.env_set.end()) {
    path = it->second;
  } else if (const char* p = std::getenv("PATH")) {
    path = p;
  } else {
    path = "/usr/local/bin:/usr/bin:/bin";
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + spec.program;
    if (executable(candidate)) return candidate;
    start = end + 1;
  }
  throw SpawnError("cannot start " + spec.program + ": not found in PATH", ENOENT);
}

std::vector<std::string> build_env(const ProcessSpec& spec) {
  std::vector<std::string> env;
  for (char** e = spec.clear_env ? nullptr : environ; e && *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (spec.env_set.count(name)) continue;
    bool unset = false;
    for (const auto& u : spec.env_unset) unset = unset || u == name;
    if (!unset) env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : spec.env_set) env.push_back(k + "=" + v);
  return env;
}

// What the child reports through the exec pipe when it fails before exec.
struct ChildFailure {
  int stage;
  int err;
};
constexpr const char* kStages[] = {"open log", "chdir", "setgid",      "setuid",
                                   "exec",     "prctl", "redirect io", "setpgid",
                                   "setns"};

[[noreturn]] void child_fail(int fd, int stage) {
  ChildFailure f{stage, errno};
  ssize_t ignored = ::write(fd, &f, sizeof f);
  (void)ignored;
  ::_exit(127);
}

// The calling thread's network namespace when it differs from the spawner thread's, as an fd
// the child enters; -1 when they are the same (the usual case: nobody called setns).
int netns_to_enter(int caller_netns) {
  struct stat mine {
  }, theirs{};
  if (caller_netns < 0 || ::fstat(caller_netns, &theirs) != 0) return -1;
  if (::stat("/proc/thread-self/ns/net", &mine) != 0) return -1;
  return mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev ? -1 : caller_netns;
}

// Forks and execs; returns the child's pid. Runs on the spawner thread. `netns_fd` (or -1) is a
// network namespace the child enters before exec.
int spawn(const ProcessSpec& spec, const ChildIo& io, int netns_fd) {
  // Everything the child needs is prepared here: after fork only async-signal-safe calls.
  const std::string program = find_program(spec);
  std::vector<std::string> args;
  args.push_back(spec.program);
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = build_env(spec);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int log_fd = -1;
  if (!spec.log_path.empty()) {
    // Truncate once, then append so stdout and stderr interleave without overwriting.
    log_fd =
        ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      throw SpawnError("cannot start " + spec.program + ": cannot open log " + spec.log_path +
                           ": " + errno_text(errno),
                       errno);
    }
    if (spec.run_as_uid) {
      // The dropped-privilege child must still be able to reopen/append its log.
      int rc = ::fchown(log_fd, *spec.run_as_uid, spec.run_as_gid ? *spec.run_as_gid : -1);
      (void)rc;
    }
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    int err = errno;
    if (log_fd >= 0) ::close(log_fd);
    throw SpawnError("cannot start " + spec.program + ": pipe: " + errno_text(err), err);
  }
  const pid_t parent = ::getpid();
  const char* workdir = spec.workdir.empty() ? nullptr : spec.workdir.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    if (log_fd >= 0) ::close(log_fd);
    throw SpawnError("cannot start " + spec.program + ": fork: " + errno_text(err), err);
  }
  if (pid == 0) {
    int wfd = pipe_fds[1];
    // Die with the parent so an aborted kgate leaves no servers behind.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(wfd, 5);
    if (::getppid() != parent) ::_exit(127);
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) child_fail(wfd, 8);
    // Start from default signal handling, whatever the parent blocked or ignored.
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int s = 1; s < NSIG; ++s) {
      if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
    }
    if (log_fd >= 0) {
      if (::dup2(log_fd, STDOUT_FILENO) < 0 || ::dup2(log_fd, STDERR_FILENO) < 0)
        child_fail(wfd, 0);
    }
    if ((io.in >= 0 && ::dup2(io.in, STDIN_FILENO) < 0) ||
        (io.out >= 0 && ::dup2(io.out, STDOUT_FILENO) < 0) ||
        (io.err >= 0 && ::dup2(io.err, STDERR_FILENO) < 0))
      child_fail(wfd, 6);
    if (spec.new_process_group && ::setpgid(0, 0) != 0) child_fail(wfd, 7);
    if (workdir && ::chdir(workdir) != 0) child_fail(wfd, 1);
    if (spec.run_as_gid) {
      gid_t g = *spec.run_as_gid;
      if (::setgroups(1, &g) != 0 || ::setgid(g) != 0) child_fail(wfd, 2);
    }
    if (spec.run_as_uid && ::setuid(*spec.run_as_uid) != 0) child_fail(wfd, 3);
      // Do not leak the parent's sockets and files (e.g. listening ports) into the child.
#ifdef SYS_close_range
    ::syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
#endif
    ::execve(program.c_str(), argv.data(), envp.data());
    child_fail(wfd, 4);
  }
  // Also from the parent, so that the group exists before anyone signals it.
  if (spec.new_process_group) ::setpgid(pid, pid);
  ::close(pipe_fds[1]);
  if (log_fd >= 0) ::close(log_fd);
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(pipe_fds[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(pipe_fds[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const char* stage = failure.stage >= 0 && failure.stage < 9 ? kStages[failure.stage] : "?";
    throw SpawnError("cannot start " + spec.program + ": " + stage + ": " + errno_text(failure.err),
                     failure.err);
  }
  return pid;
}

// PR_SET_PDEATHSIG fires when the thread that forked exits, not the process. Forking from one
// thread that lives as long as the process keeps children alive whichever thread started them.
// A child still starts in the network namespace of the thread that asked for it (a test that
// entered a local cluster's namespace with setns(2) starts kubectl there), as if that thread had
// forked it.
class Spawner {
 public:
  static Spawner& instance() {
    static Spawner* spawner = new Spawner;  // never destroyed: children may be started at exit
    return *spawner;
  }

  int run(const ProcessSpec& spec, const ChildIo& io) {
    Job job;
    job.spec = &spec;
    job.netns_fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    job.io = &io;
    std::unique_lock lock(mutex_);
    queue_.push_back(&job);
    wake_.notify_all();
    done_.wait(lock, [&] { return job.finished; });
    if (job.netns_fd >= 0) ::close(job.netns_fd);
    if (job.error) std::rethrow_exception(job.error);
    return job.pid;
  }

 private:
  struct Job {
    const ProcessSpec* spec = nullptr;
    int netns_fd = -1;
    const ChildIo* io = nullptr;
    int pid = -1;
    std::exception_ptr error;
    bool finished = false;
  };

  Spawner() {
    std::thread([this] { loop(); }).detach();
  }

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return !queue_.empty(); });
      Job* job = queue_.front();
      queue_.pop_front();
      lock.unlock();
      try {
        job->pid = spawn(*job->spec, *job->io, netns_to_enter(job->netns_fd));
      } catch (...) {
        job->error = std::current_exception();
      }
      lock.lock();
      job->finished = true;
      done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<Job*> queue_;
};

}  // namespace

ChildProcess::ChildProcess(const ProcessSpec& spec) : ChildProcess(spec, ChildIo{}) {}

ChildProcess::ChildProcess(const ProcessSpec& spec, const ChildIo& io)
    : pid_(Spawner::instance().run(spec, io)),
      group_(spec.new_process_group),
      log_path_(spec.log_path) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) stop(SIGTERM, std::chrono::seconds(5));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_),
      group_(other.group_),
      status_(other.status_),
      signal_(other.signal_),
      log_path_(std::move(other.log_path_)) {
  other.pid_ = -1;
  other.status_.reset();
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !status_) stop(SIGTERM, std::chrono::seconds(5));
    pid_ = other.pid_;
    group_ = other.group_;
    status_ = other.status_;
    signal_ = other.signal_;
    log_path_ = std::move(other.log_path_);
    other.pid_ = -1;
    other.status_.reset();
  }
  return *this;
}

bool ChildProcess::reap(bool block) {
  if (status_) return true;
  // Look without reaping first: until it is reaped the child's pid, which is also its group's
  // id, cannot be reused, so the group kill below reaches only what it left behind.
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT | (block ? 0 : WNOHANG));
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    status_ = -1;  // reaped elsewhere: nothing left to wait for
    return true;
  }
  if (info.si_pid != pid_) return false;  // still running
  if (group_) ::kill(-pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = decode_status(status);
  signal_ = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return true;
}

bool ChildProcess::running() {
  if (pid_ <= 0 || status_) return false;
  return !reap(false);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (!running()) return status_;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

int ChildProcess::stop(int sig, std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_.value_or(-1);
  if (!running()) return *status_;
  ::kill(group_ ? -pid_ : pid_, sig);
  if (auto st = wait(grace)) return *st;
  ::kill(group_ ? -pid_ : pid_, SIGKILL);
  reap(true);
  return *status_;
}

void ChildProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::string ChildProcess::log_tail(std::size_t max_bytes) const {
  if (log_path_.empty()) return {};
  std::ifstream in(log_path_, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::size_t>(in.tellg());
  std::size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string out(size - start, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

namespace {

// One end of a pipe or socket, closed when it goes out of scope.
struct OwnedFd {
  int fd = -1;
  OwnedFd() = default;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// The child's ends must not be 0-2: its dup2 onto stdio would then land on itself and keep
// close-on-exec (the parent may run with stdio closed).
void above_stdio(OwnedFd& f) {
  if (f.fd >= 0 && f.fd < 3) {
    const int moved = ::fcntl(f.fd, F_DUPFD_CLOEXEC, 3);
    f.reset();
    f.fd = moved;
  }
}

void make_pipe(const ProcessSpec& spec, OwnedFd& read_end, OwnedFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw SpawnError("cannot start " + spec.program + ": pipe: " + errno_text(errno), errno);
  }
  read_end.fd = fds[0];
  write_end.fd = fds[1];
  above_stdio(read_end);
  above_stdio(write_end);
}

// Reads what is there without blocking; closes the end at EOF. Returns the bytes read.
std::size_t read_available(OwnedFd& f, std::string& into) {
  std::size_t got = 0;
  char buf[8192];
  while (f.fd >= 0) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      break;
    } else {
      f.reset();  // EOF, or an error that ends the stream all the same
    }
  }
  return got;
}

}  // namespace

struct CommandRun {
  static CommandResult run(const ProcessSpec& spec, const CommandOptions& options);
};

CommandResult CommandRun::run(const ProcessSpec& spec, const CommandOptions& options) {
  OwnedFd out_read, out_write, err_read, err_write, in_parent, in_child;
  make_pipe(spec, out_read, out_write);
  make_pipe(spec, err_read, err_write);
  if (options.input) {
    // A socket pair rather than a pipe: writing to a command that stopped reading fails with
    // EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE in kgate.
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      throw SpawnError("cannot start " + spec.program + ": socketpair: " + errno_text(errno),
                       errno);
    }
    in_child.fd = sv[0];
    in_parent.fd = sv[1];
  } else {
    in_child.fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // never interactive
  }
  above_stdio(in_child);

  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  ProcessSpec captured = spec;
  captured.log_path.clear();  // the output is ours
  ChildProcess child(captured, ChildIo{in_child.fd, out_write.fd, err_write.fd});
  in_child.reset();
  out_write.reset();
  err_write.reset();
  for (OwnedFd* f : {&out_read, &err_read, &in_parent}) {
    if (f->fd >= 0) ::fcntl(f->fd, F_SETFL, ::fcntl(f->fd, F_GETFL) | O_NONBLOCK);
  }

  CommandResult r;
  std::size_t written = 0;
  const std::string_view input = options.input ? std::string_view(*options.input) : "";
  if (in_parent.fd >= 0 && input.empty()) in_parent.reset();
  for (;;) {
    // Exit first, output second: whatever it wrote before exiting is then in the pipes.
    const bool exited = !child.running();
    read_available(out_read, r.out);
    read_available(err_read, r.err);
    if (r.err.size() > options.max_stderr) r.err.erase(0, r.err.size() - options.max_stderr);
    if (r.out.size() > options.max_stdout) {
      r.stdout_overflow = true;
      r.out.resize(options.max_stdout);
      child.stop(SIGKILL, std::chrono::milliseconds(0));
      break;
    }
    // Exited: done, without waiting for pipes a left-behind process may hold open.
    if (exited) break;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      r.timed_out = true;
      child.stop(SIGKILL, std::chrono::milliseconds(0));
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    for (OwnedFd* f : {&out_read, &err_read}) {
      if (f->fd >= 0) fds[n++] = {f->fd, POLLIN, 0};
    }
    if (in_parent.fd >= 0) fds[n++] = {in_parent.fd, POLLOUT, 0};
    // Output wakes us at once; the exit is looked for at least every 10 ms.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    const int wait_ms = static_cast<int>(std::min<long long>(10, left.count()));
    if (::poll(fds, n, wait_ms) < 0 && errno != EINTR) break;
    if (in_parent.fd >= 0) {
      const ssize_t sent = ::send(in_parent.fd, input.data() + written, input.size() - written,
                                  MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) written += static_cast<std::size_t>(sent);
      // All of it, or the command stopped reading: either way, it gets its end of input.
      if (written == input.size() || (sent < 0 && errno != EAGAIN && errno != EINTR)) {
        ::shutdown(in_parent.fd, SHUT_WR);
        in_parent.reset();
      }
    }
  }
  if (!child.exit_status()) child.stop(SIGKILL, std::chrono::milliseconds(0));
  r.status = child.exit_status().value_or(-1);
  r.signal = child.signal_;
  return r;
}

CommandResult run_command(const ProcessSpec& spec, const CommandOptions& options) {
  return CommandRun::run(spec, options);
}

std::string self_exe_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe: " + errno_text(errno));
  std::string path(buf, static_cast<std::size_t>(n));
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

unsigned short free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot find a free loopback port: " + errno_text(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace kgate
