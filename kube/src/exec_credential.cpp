// client-go credential plugins (users[].user.exec): run the command as kubectl does and read the
// ExecCredential it prints. The plugin gets KUBERNETES_EXEC_INFO, stdin /dev/null (kgate is never
// interactive) and its own process group, so that a timeout kills whatever it started too.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "kgate/base64.hpp"
#include "kgate/kube/config.hpp"
#include "kgate/redact.hpp"

extern char** environ;

namespace kgate::kube {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr std::size_t kMaxStdout = 1 << 20;  // an ExecCredential is a few KiB
constexpr std::size_t kStderrTail = 2048;    // enough for the plugin's last complaint

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// A value the plugin printed, quoted and bounded, for messages about fields that are not secret.
std::string quoted(const std::string& s) {
  return "\"" + (s.size() > 80 ? s.substr(0, 80) + "..." : s) + "\"";
}

// Builds the error for one plugin run: the command and where it is configured, never its args
// (they may carry secrets), the stderr tail (redacted) and the install hint.
struct Failure {
  const ExecConfig& exec;
  const ClusterConfig& cluster;
  std::string stderr_tail;

  [[noreturn]] void operator()(const std::string& what) const {
    std::string message = "exec plugin \"" + exec.command + "\"";
    if (!cluster.source.empty()) message += " (" + cluster.source + ")";
    message += ": " + what;
    if (std::string tail = trim(stderr_tail); !tail.empty()) {
      message += "; stderr: " + redact(tail);
    }
    if (!exec.install_hint.empty()) message += "; install hint: " + trim(exec.install_hint);
    throw ConfigError(message);
  }
};

// KUBERNETES_EXEC_INFO, as client-go encodes it (cluster only with provideClusterInfo).
json exec_info(const ExecConfig& exec, const ClusterConfig& cluster) {
  json spec = json::object();
  spec["interactive"] = false;
  if (exec.provide_cluster_info) {
    json c = json::object();
    c["server"] = cluster.server;
    if (!cluster.tls_server_name.empty()) c["tls-server-name"] = cluster.tls_server_name;
    if (cluster.insecure_skip_tls_verify) c["insecure-skip-tls-verify"] = true;
    if (!cluster.ca_pem.empty()) c["certificate-authority-data"] = base64_encode(cluster.ca_pem);
    spec["cluster"] = std::move(c);
  }
  json info = json::object();
  info["apiVersion"] = exec.api_version;
  info["kind"] = "ExecCredential";
  info["spec"] = std::move(spec);
  return info;
}

// The inherited environment, then exec.env (the last of a repeated name wins, as with Go's
// exec.Cmd), then KUBERNETES_EXEC_INFO.
std::vector<std::string> plugin_env(const ExecConfig& exec, const std::string& info) {
  std::set<std::string> replaced{"KUBERNETES_EXEC_INFO"};
  for (const auto& [name, value] : exec.env) replaced.insert(name);
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    if (!replaced.count(entry.substr(0, entry.find('=')))) env.push_back(std::move(entry));
  }
  for (std::size_t i = 0; i < exec.env.size(); ++i) {
    bool overridden = false;
    for (std::size_t j = i + 1; j < exec.env.size(); ++j) {
      overridden = overridden || exec.env[j].first == exec.env[i].first;
    }
    if (!overridden) env.push_back(exec.env[i].first + "=" + exec.env[i].second);
  }
  env.push_back("KUBERNETES_EXEC_INFO=" + info);
  return env;
}

// A pipe whose ends are above 0-2, so that the child's dup2 onto stdout/stderr never lands on
// itself (which would keep close-on-exec set) when the parent runs with stdio closed.
void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
  for (int i = 0; i < 2; ++i) {
    if (fds[i] < 3) {
      int moved = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
      ::close(fds[i]);
      fds[i] = moved;
    }
  }
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Waits until the child exits or the deadline passes.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);  // the plugin's process group: the shell and whatever it started
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// RFC 3339 as metav1.Time writes it: 2006-01-02T15:04:05Z, optional fraction, Z or +hh:mm.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) {
  auto number = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!number(0, 4, year) || s.size() < 20 || s[4] != '-' || !number(5, 2, month) || s[7] != '-' ||
      !number(8, 2, day) || (s[10] != 'T' && s[10] != 't') || !number(11, 2, hour) ||
      s[13] != ':' || !number(14, 2, minute) || s[16] != ':' || !number(17, 2, second)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (s[pos] == '.') {
    ++pos;
    long long ns = 0;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        ns = ns * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) ns *= 10;
    fraction = std::chrono::nanoseconds(ns);
  }
  std::chrono::minutes offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    // UTC
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh, om;
    if (!number(pos + 1, 2, oh) || !number(pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = std::chrono::minutes(oh * 60 + om);
    if (s[pos] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year),
                            std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const auto utc =
      sys_days(date) + hours(hour) + minutes(minute) + seconds(second) + fraction - offset;
  return time_point_cast<system_clock::duration>(utc);
}

}  // namespace

ExecCredential run_exec_plugin(const ExecConfig& exec, const ClusterConfig& cluster,
                               std::chrono::milliseconds timeout) {
  Failure fail{exec, cluster, {}};
  if (exec.command.empty()) fail("no command configured");
  if (exec.interactive_mode == "Always") {
    fail("interactiveMode is Always, but kgate runs plugins without a terminal");
  }

  // Everything the child needs is built before spawning.
  const std::string info = exec_info(exec, cluster).dump();
  std::vector<std::string> env = plugin_env(exec, info);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args{exec.command};
  args.insert(args.end(), exec.args.begin(), exec.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  try {
    make_pipe(out_pipe);
  } catch (const std::system_error& e) {
    fail(std::string("cannot create a pipe: ") + e.what());
  }
  try {
    make_pipe(err_pipe);
  } catch (const std::system_error& e) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    fail(std::string("cannot create a pipe: ") + e.what());
  }

  // posix_spawn (vfork + exec in glibc) rather than fork: safe in a threaded process, and it
  // reports exec failures (command not found) as its return value.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // no sockets or files of ours leak
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);  // e.g. an ignored SIGPIPE is not inherited
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc =
      ::posix_spawnp(&pid, exec.command.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    fail(rc == ENOENT ? "executable not found" : "cannot start: " + std::string(strerror(rc)));
  }

  // Read stdout and stderr together until both close or the deadline passes.
  const auto deadline = Clock::now() + timeout;
  std::string out;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string problem;  // why we stopped early, if we did
  int open_fds = 2;
  while (open_fds > 0 && problem.empty()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      problem = "did not finish within " + std::to_string(timeout.count()) + " ms (killed)";
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = std::string("poll: ") + std::strerror(errno);
      break;
    }
    for (auto& p : fds) {
      if (p.fd < 0 || p.revents == 0) continue;
      char buf[8192];
      ssize_t got = ::read(p.fd, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        close_fd(p.fd);  // poll skips negative descriptors
        --open_fds;
        continue;
      }
      if (&p == &fds[0]) {
        out.append(buf, static_cast<std::size_t>(got));
        if (out.size() > kMaxStdout) problem = "printed more than 1 MiB";
      } else {
        fail.stderr_tail.append(buf, static_cast<std::size_t>(got));
        if (fail.stderr_tail.size() > kStderrTail) {
          fail.stderr_tail.erase(0, fail.stderr_tail.size() - kStderrTail);
        }
      }
    }
  }
  close_fd(fds[0].fd);
  close_fd(fds[1].fd);

  // Both pipes closed: the plugin has exited or is about to (it may still have closed them early).
  std::optional<int> status;
  if (problem.empty()) status = wait_until(pid, deadline);
  if (!status) {
    kill_and_reap(pid);
    if (problem.empty()) {
      problem = "did not finish within " + std::to_string(timeout.count()) + " ms (killed)";
    }
    fail(problem);
  }
  if (WIFSIGNALED(*status)) fail("was killed by signal " + std::to_string(WTERMSIG(*status)));
  if (WIFEXITED(*status) && WEXITSTATUS(*status) != 0) {
    fail("failed with exit code " + std::to_string(WEXITSTATUS(*status)));
  }

  // The output holds the credential: messages below name fields, never the text around them
  // (so no parser message, which quotes what it last read).
  if (trim(out).empty()) fail("printed nothing (expected an ExecCredential)");
  const json doc = json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) fail("did not print a JSON ExecCredential object");
  auto string_field = [&](const json& object, const char* key, const std::string& path) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return std::string();
    if (!it->is_string()) fail(path + " must be a string");
    return it->get<std::string>();
  };
  const std::string kind = string_field(doc, "kind", "kind");
  if (kind != "ExecCredential") fail("printed kind " + quoted(kind) + ", expected ExecCredential");
  const std::string api_version = string_field(doc, "apiVersion", "apiVersion");
  if (api_version != exec.api_version) {
    fail("printed apiVersion " + quoted(api_version) + " but is configured for " +
         quoted(exec.api_version));
  }
  auto status_it = doc.find("status");
  if (status_it == doc.end() || !status_it->is_object()) fail("did not return a status");
  const json& st = *status_it;

  ExecCredential cred;
  cred.token = string_field(st, "token", "status.token");
  cred.client_cert_pem = string_field(st, "clientCertificateData", "status.clientCertificateData");
  cred.client_key_pem = string_field(st, "clientKeyData", "status.clientKeyData");
  register_secret(cred.token);
  register_secret(cred.client_key_pem);
  if (cred.token.empty() && cred.client_cert_pem.empty() && cred.client_key_pem.empty()) {
    fail("did not return a token or a client certificate and key");
  }
  if (cred.client_cert_pem.empty() != cred.client_key_pem.empty()) {
    fail("returned only one of status.clientCertificateData and status.clientKeyData");
  }
  const std::string expires = string_field(st, "expirationTimestamp", "status.expirationTimestamp");
  if (!expires.empty()) {
    cred.expires = parse_rfc3339(expires);
    if (!cred.expires) {
      fail("status.expirationTimestamp " + quoted(expires) + " is not an RFC 3339 time");
    }
  }
  return cred;
}

}  // namespace kgate::kube
