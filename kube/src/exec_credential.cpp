// client-go credential plugins (users[].user.exec): run the command as kubectl does and read the
// ExecCredential it prints. The plugin gets KUBERNETES_EXEC_INFO, stdin /dev/null (kgate is never
// interactive) and its own process group, so that a timeout kills whatever it started too.
#include <cctype>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kgate/base64.hpp"
#include "kgate/kube/config.hpp"
#include "kgate/process.hpp"
#include "kgate/redact.hpp"

namespace kgate::kube {
namespace {

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

  ProcessSpec spec;
  spec.program = exec.command;
  spec.args = exec.args;
  // The inherited environment, then exec.env (the last of a repeated name wins, as with Go's
  // exec.Cmd), then KUBERNETES_EXEC_INFO.
  for (const auto& [name, value] : exec.env) spec.env_set[name] = value;
  spec.env_set["KUBERNETES_EXEC_INFO"] = exec_info(exec, cluster).dump();
  spec.new_process_group = true;  // a timeout kills whatever the plugin started too
  CommandOptions options;
  options.timeout = timeout;
  options.max_stdout = kMaxStdout;
  options.max_stderr = kStderrTail;
  CommandResult run;
  try {
    run = run_command(spec, options);  // stdin is /dev/null: never interactive
  } catch (const SpawnError& e) {
    fail(e.error() == ENOENT ? "executable not found"
                             : "cannot start: " + std::string(std::strerror(e.error())));
  }
  fail.stderr_tail = run.err;
  if (run.timed_out) {
    fail("did not finish within " + std::to_string(timeout.count()) + " ms (killed)");
  }
  if (run.stdout_overflow) fail("printed more than 1 MiB");
  if (run.signal != 0) fail("was killed by signal " + std::to_string(run.signal));
  if (run.status != 0) fail("failed with exit code " + std::to_string(run.status));
  const std::string& out = run.out;

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
