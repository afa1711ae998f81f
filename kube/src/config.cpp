// kubeconfig and in-cluster configuration, following client-go's clientcmd (what kubectl does):
// the KUBECONFIG list merged with "first file to set an entry wins", relative paths resolved
// against the file that named them, and only the chosen context's cluster and user validated.
#include "kgate/kube/config.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>

#include "kgate/base64.hpp"
#include "kgate/redact.hpp"

namespace kgate::kube {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kExecApiV1 = "client.authentication.k8s.io/v1";
constexpr std::string_view kExecApiV1beta1 = "client.authentication.k8s.io/v1beta1";

// A whole file, or the errno that stopped us reading it.
struct FileRead {
  std::optional<std::string> data;
  int err = 0;
  bool missing() const { return err == ENOENT || err == ENOTDIR; }
};

FileRead read_file(const std::string& path) {
  FileRead result;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.err = errno;
    return result;
  }
  std::string data;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result.err = errno;  // e.g. EISDIR
      ::close(fd);
      return result;
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  result.data = std::move(data);
  return result;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string getenv_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// "kubeconfig <file>", with ":<line>:<column>" (1-based) when the node has a position.
std::string at(const std::string& file, const YAML::Node& node) {
  std::string place = "kubeconfig " + file;
  if (node.IsDefined()) {
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null() && mark.line >= 0) {
      place += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
  }
  return place;
}

// One named clusters/users/contexts entry and where it came from.
struct Entry {
  std::string file;  // the kubeconfig that defined it: relative paths resolve against its folder
  std::string path;  // "users[name=u].user", for messages
  YAML::Node body;   // the mapping (undefined or null when the entry has none)
  YAML::Node item;   // the list item, for a position when the body is absent
};

// Reads the keys of one entry's mapping; every error names the file, position and key path.
class Fields {
 public:
  explicit Fields(const Entry& entry) : entry_(entry) {}

  YAML::Node node(const char* key) const {
    const YAML::Node& body = entry_.body;
    if (!body.IsDefined() || !body.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    return body[key];
  }
  bool has(const char* key) const {
    YAML::Node n = node(key);
    return n.IsDefined() && !n.IsNull();
  }
  std::string key(const char* k) const { return entry_.path + "." + k; }

  // A string; "" when absent or null.
  std::string str(const char* k) const {
    YAML::Node n = node(k);
    if (!n.IsDefined() || n.IsNull()) return "";
    if (!n.IsScalar()) fail(n, key(k) + " must be a string");
    return n.Scalar();
  }
  bool flag(const char* k) const {
    YAML::Node n = node(k);
    if (!n.IsDefined() || n.IsNull()) return false;
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
      fail(n, key(k) + " must be true or false");
    }
    return value;
  }
  // Decoded *-data; the value itself never reaches a message.
  std::string base64(const char* k) const {
    std::string text = str(k);
    auto decoded = base64_decode(text);
    if (!decoded) fail(node(k), key(k) + " is not valid base64");
    return *decoded;
  }
  // A path key, made absolute against the folder of the file that defined the entry.
  std::string path(const char* k) const { return resolve(str(k)); }
  std::string resolve(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::absolute(entry_.file).parent_path() / p).lexically_normal().string();
  }
  // The contents of the file a path key names.
  std::string file_contents(const char* k) const {
    const std::string p = path(k);
    FileRead r = read_file(p);
    if (!r.data) fail(node(k), key(k) + ": cannot read " + p + ": " + std::strerror(r.err));
    return *r.data;
  }

  [[noreturn]] void fail(const YAML::Node& n, const std::string& message) const {
    throw ConfigError(at(entry_.file, n.IsDefined() ? n : entry_.item) + ": " + message);
  }
  [[noreturn]] void fail(const std::string& message) const { fail(entry_.body, message); }

 private:
  const Entry& entry_;
};

// The merged view of the kubeconfig files that were found.
struct Kubeconfigs {
  std::vector<std::string> files;  // read, in order
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::string current_context_file;
  std::string looked_at;  // where we searched, for "none found"

  bool empty() const {
    return clusters.empty() && users.empty() && contexts.empty() && current_context.empty();
  }
  std::string place() const { return "kubeconfig " + join(files, ", "); }
};

std::string names(const std::map<std::string, Entry>& entries) {
  if (entries.empty()) return "none defined";
  std::vector<std::string> list;
  for (const auto& [name, entry] : entries) list.push_back(name);
  return join(list, ", ");
}

// Adds one file's clusters/users/contexts list; an entry already set by an earlier file is kept.
void merge_section(const std::string& file, const YAML::Node& root, const char* section,
                   const char* body_key, std::map<std::string, Entry>& into) {
  const YAML::Node list = root[section];
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) throw ConfigError(at(file, list) + ": " + section + " must be a list");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string index = std::string(section) + "[" + std::to_string(i) + "]";
    if (!item.IsMap()) throw ConfigError(at(file, item) + ": " + index + " must be a mapping");
    const YAML::Node name_node = item["name"];
    if (!name_node.IsDefined() || !name_node.IsScalar() || name_node.Scalar().empty()) {
      throw ConfigError(at(file, item) + ": " + index + ".name is missing");
    }
    const std::string name = name_node.Scalar();
    // client-go rejects a name used twice in one file rather than picking one.
    if (!seen.insert(name).second) {
      throw ConfigError(at(file, item) + ": " + index + ": duplicate " + section + " name \"" +
                        name + "\"");
    }
    const std::string path = std::string(section) + "[name=" + name + "]." + body_key;
    const YAML::Node body = item[body_key];
    if (body.IsDefined() && !body.IsNull() && !body.IsMap()) {
      throw ConfigError(at(file, body) + ": " + path + " must be a mapping");
    }
    into.emplace(name, Entry{file, path, body, item});  // emplace keeps the first file's entry
  }
}

void merge_file(const std::string& file, const std::string& text, Kubeconfigs& into) {
  into.files.push_back(file);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // e.msg describes the syntax problem only, never the surrounding text.
    throw ConfigError("kubeconfig " + file + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) return;  // an empty file adds nothing (client-go too)
  if (!root.IsMap()) throw ConfigError(at(file, root) + ": the top level must be a mapping");
  merge_section(file, root, "clusters", "cluster", into.clusters);
  merge_section(file, root, "users", "user", into.users);
  merge_section(file, root, "contexts", "context", into.contexts);
  const YAML::Node current = root["current-context"];
  if (current.IsDefined() && !current.IsNull()) {
    if (!current.IsScalar()) {
      throw ConfigError(at(file, current) + ": current-context must be a string");
    }
    if (into.current_context.empty() && !current.Scalar().empty()) {
      into.current_context = current.Scalar();
      into.current_context_file = file;
    }
  }
}

// The files kubectl would read, merged. Files in the KUBECONFIG list that do not exist are
// skipped; --kubeconfig must exist.
Kubeconfigs find_kubeconfigs(const LoadOptions& options) {
  Kubeconfigs found;
  auto add = [&](const std::string& file, bool required) {
    FileRead r = read_file(file);
    if (!r.data) {
      if (r.missing() && !required) return;
      throw ConfigError("kubeconfig " + file + ": cannot read: " + std::strerror(r.err));
    }
    merge_file(file, *r.data, found);
  };

  if (!options.kubeconfig.empty()) {
    found.looked_at = "--kubeconfig " + options.kubeconfig;
    add(options.kubeconfig, true);
    return found;
  }
  const std::string env =
      options.kubeconfig_env ? *options.kubeconfig_env : getenv_or_empty("KUBECONFIG");
  if (!env.empty()) {
    found.looked_at = "KUBECONFIG=" + env;
    std::set<std::string> seen;  // client-go reads a file listed twice once
    std::size_t start = 0;
    while (start <= env.size()) {
      std::size_t end = env.find(':', start);
      if (end == std::string::npos) end = env.size();
      std::string file = env.substr(start, end - start);
      if (!file.empty() && seen.insert(file).second) add(file, false);
      start = end + 1;
    }
    return found;
  }
  const std::string home = options.home ? *options.home : getenv_or_empty("HOME");
  if (home.empty()) {
    found.looked_at = "~/.kube/config (HOME is not set)";
  } else {
    const std::string file = (fs::path(home) / ".kube" / "config").string();
    found.looked_at = file;
    add(file, false);
  }
  return found;
}

// "https://host:port" as client-go accepts it: a bare host:port means https.
std::string normalize_server(const Fields& cluster, std::string server) {
  if (server.find("://") == std::string::npos) server = "https://" + server;
  if (server.rfind("https://", 0) != 0 && server.rfind("http://", 0) != 0) {
    cluster.fail(cluster.node("server"), cluster.key("server") + " must be an http(s) URL");
  }
  while (server.size() > 1 && server.back() == '/') server.pop_back();
  return server;
}

void read_cluster(const Entry& entry, ClusterConfig& out) {
  Fields f(entry);
  if (!entry.body.IsDefined() || entry.body.IsNull() || entry.body.size() == 0) {
    f.fail(entry.path + " is missing");
  }
  const std::string server = f.str("server");
  if (server.empty()) f.fail(f.key("server") + " is missing");
  out.server = normalize_server(f, server);
  out.tls_server_name = f.str("tls-server-name");
  out.insecure_skip_tls_verify = f.flag("insecure-skip-tls-verify");

  const bool ca_data = !f.str("certificate-authority-data").empty();
  const bool ca_file = !f.str("certificate-authority").empty();
  if (ca_data && ca_file) {
    f.fail(entry.path + ": certificate-authority-data and certificate-authority are both set");
  }
  if (ca_data) out.ca_pem = f.base64("certificate-authority-data");
  if (ca_file) out.ca_pem = f.file_contents("certificate-authority");
  // client-go's transport refuses this combination rather than silently ignoring the CA.
  if (out.insecure_skip_tls_verify && !out.ca_pem.empty()) {
    f.fail(entry.path +
           ": insecure-skip-tls-verify cannot be combined with a certificate-authority");
  }
}

ExecConfig read_exec(const Fields& user) {
  const YAML::Node node = user.node("exec");
  if (!node.IsMap()) user.fail(node, user.key("exec") + " must be a mapping");
  ExecConfig exec;

  auto str = [&](const char* key) {
    const YAML::Node n = node[key];
    if (!n.IsDefined() || n.IsNull()) return std::string();
    if (!n.IsScalar()) user.fail(n, user.key("exec") + "." + key + " must be a string");
    return n.Scalar();
  };
  exec.api_version = str("apiVersion");
  exec.command = str("command");
  exec.install_hint = str("installHint");
  exec.interactive_mode = str("interactiveMode");
  if (exec.api_version.empty()) user.fail(node, user.key("exec") + ".apiVersion is missing");
  if (exec.api_version != kExecApiV1 && exec.api_version != kExecApiV1beta1) {
    user.fail(node["apiVersion"], user.key("exec") + ".apiVersion \"" + exec.api_version +
                                      "\" is not supported (use " + std::string(kExecApiV1) +
                                      " or " + std::string(kExecApiV1beta1) + ")");
  }
  if (exec.command.empty()) user.fail(node, user.key("exec") + ".command is missing");
  if (!exec.interactive_mode.empty() && exec.interactive_mode != "Never" &&
      exec.interactive_mode != "IfAvailable" && exec.interactive_mode != "Always") {
    user.fail(node["interactiveMode"],
              user.key("exec") + ".interactiveMode must be Never, IfAvailable or Always");
  }

  const YAML::Node provide = node["provideClusterInfo"];
  if (provide.IsDefined() && !provide.IsNull()) {
    if (!provide.IsScalar() || !YAML::convert<bool>::decode(provide, exec.provide_cluster_info)) {
      user.fail(provide, user.key("exec") + ".provideClusterInfo must be true or false");
    }
  }
  const YAML::Node args = node["args"];
  if (args.IsDefined() && !args.IsNull()) {
    if (!args.IsSequence()) user.fail(args, user.key("exec") + ".args must be a list");
    for (const auto& arg : args) {
      if (!arg.IsScalar()) user.fail(arg, user.key("exec") + ".args must be strings");
      exec.args.push_back(arg.Scalar());
    }
  }
  const YAML::Node env = node["env"];
  if (env.IsDefined() && !env.IsNull()) {
    if (!env.IsSequence()) user.fail(env, user.key("exec") + ".env must be a list");
    for (const auto& var : env) {
      const std::string where = user.key("exec") + ".env";
      if (!var.IsMap()) user.fail(var, where + " entries must be mappings of name and value");
      const YAML::Node name = var["name"];
      const YAML::Node value = var["value"];
      if (!name.IsDefined() || !name.IsScalar() || name.Scalar().empty()) {
        user.fail(var, where + ": an entry has no name");
      }
      if (value.IsDefined() && !value.IsNull() && !value.IsScalar()) {
        user.fail(value, where + "[name=" + name.Scalar() + "].value must be a string");
      }
      exec.env.emplace_back(name.Scalar(),
                            value.IsDefined() && !value.IsNull() ? value.Scalar() : std::string());
    }
  }
  return exec;
}

void read_user(const Entry& entry, ClusterConfig& out) {
  Fields f(entry);
  if (!entry.body.IsDefined() || entry.body.IsNull()) return;  // a user with no credentials

  // Ways kubectl authenticates that kgate does not implement: fail rather than silently
  // connecting as someone else (impersonation) or anonymously.
  if (f.has("auth-provider")) {
    f.fail(f.node("auth-provider"),
           f.key("auth-provider") + " is not supported (kubectl removed it): use an exec plugin");
  }
  if (f.has("username") || f.has("password")) {
    f.fail(entry.path + ": basic authentication (username/password) is not supported");
  }
  for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
    if (f.has(key)) f.fail(f.node(key), f.key(key) + ": impersonation is not supported");
  }

  out.token = f.str("token");
  if (!out.token.empty()) {
    register_secret(out.token);
  } else if (!f.str("tokenFile").empty()) {
    // Read once now, as client-go does, so a wrong path fails at load rather than per request.
    out.token_file = f.path("tokenFile");
    try {
      read_token_file(out.token_file);
    } catch (const ConfigError& e) {
      f.fail(f.node("tokenFile"), f.key("tokenFile") + ": " + e.what());
    }
  }

  const bool cert_data = !f.str("client-certificate-data").empty();
  const bool cert_file = !f.str("client-certificate").empty();
  const bool key_data = !f.str("client-key-data").empty();
  const bool key_file = !f.str("client-key").empty();
  if (cert_data && cert_file) {
    f.fail(entry.path + ": client-certificate-data and client-certificate are both set");
  }
  if (key_data && key_file) f.fail(entry.path + ": client-key-data and client-key are both set");
  if ((cert_data || cert_file) && !(key_data || key_file)) {
    f.fail(entry.path + ": a client certificate is set without client-key-data or client-key");
  }
  if ((key_data || key_file) && !(cert_data || cert_file)) {
    f.fail(entry.path +
           ": a client key is set without client-certificate-data or client-certificate");
  }
  if (cert_data) out.client_cert_pem = f.base64("client-certificate-data");
  if (cert_file) out.client_cert_pem = f.file_contents("client-certificate");
  if (key_data) out.client_key_pem = f.base64("client-key-data");
  if (key_file) out.client_key_pem = f.file_contents("client-key");
  if (!out.client_key_pem.empty()) register_secret(out.client_key_pem);

  if (f.has("exec")) {
    out.exec = read_exec(f);
    // As client-go: only a command with a '/' is a path, relative to the kubeconfig's folder.
    std::string& command = out.exec->command;
    if (command.find('/') != std::string::npos) command = f.resolve(command);
  }
}

ClusterConfig resolve(const Kubeconfigs& kc, const std::string& context_option) {
  const std::string context_name = context_option.empty() ? kc.current_context : context_option;
  if (context_name.empty()) {
    throw ConfigError(kc.place() + ": no current-context set; pass --context (contexts: " +
                      names(kc.contexts) + ")");
  }
  auto ctx_it = kc.contexts.find(context_name);
  if (ctx_it == kc.contexts.end()) {
    // Name the file that chose the context: with a KUBECONFIG list it is not obvious which.
    const std::string where =
        context_option.empty() ? "kubeconfig " + kc.current_context_file : kc.place();
    const std::string origin = context_option.empty() ? " (the current-context)" : "";
    throw ConfigError(where + ": context \"" + context_name + "\"" + origin +
                      " not found (contexts: " + names(kc.contexts) + ")");
  }
  const Entry& ctx = ctx_it->second;
  Fields context(ctx);
  const std::string cluster_name = context.str("cluster");
  const std::string user_name = context.str("user");
  const std::string namespace_name = context.str("namespace");
  if (cluster_name.empty()) context.fail(context.key("cluster") + " is missing");

  ClusterConfig out;
  out.context_name = context_name;
  out.cluster_name = cluster_name;
  out.user_name = user_name;
  out.namespace_name = namespace_name.empty() ? "default" : namespace_name;
  out.source = ctx.file + " (context " + context_name + ")";

  auto cluster_it = kc.clusters.find(cluster_name);
  if (cluster_it == kc.clusters.end()) {
    context.fail(context.node("cluster"),
                 "cluster \"" + cluster_name + "\" for context \"" + context_name +
                     "\" not found (clusters: " + names(kc.clusters) + ")");
  }
  read_cluster(cluster_it->second, out);

  // A context without a user is allowed: requests go out anonymously (or by client cert only).
  if (!user_name.empty()) {
    auto user_it = kc.users.find(user_name);
    if (user_it == kc.users.end()) {
      context.fail(context.node("user"), "user \"" + user_name + "\" for context \"" +
                                             context_name +
                                             "\" not found (users: " + names(kc.users) + ")");
    }
    read_user(user_it->second, out);
  }
  return out;
}

std::string service_env(const std::optional<std::string>& injected, const char* name) {
  return injected ? *injected : getenv_or_empty(name);
}

bool in_cluster_possible(const LoadOptions& options) {
  return !service_env(options.service_host, "KUBERNETES_SERVICE_HOST").empty() &&
         !service_env(options.service_port, "KUBERNETES_SERVICE_PORT").empty();
}

}  // namespace

std::string read_token_file(const std::string& path) {
  FileRead r = read_file(path);
  if (!r.data) throw ConfigError("cannot read token file " + path + ": " + std::strerror(r.err));
  std::string token = trim(*r.data);
  if (token.empty()) throw ConfigError("token file " + path + " is empty");
  register_secret(token);
  return token;
}

ClusterConfig load_kubeconfig(const LoadOptions& options) {
  Kubeconfigs kc = find_kubeconfigs(options);
  if (kc.files.empty()) throw ConfigError("no kubeconfig found (looked at " + kc.looked_at + ")");
  return resolve(kc, options.context);
}

ClusterConfig parse_kubeconfig(const std::string& text, const std::string& source_name,
                               const std::string& context) {
  Kubeconfigs kc;
  kc.looked_at = source_name;
  merge_file(source_name, text, kc);
  return resolve(kc, context);
}

ClusterConfig in_cluster_config(const LoadOptions& options) {
  const std::string host = service_env(options.service_host, "KUBERNETES_SERVICE_HOST");
  const std::string port = service_env(options.service_port, "KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    throw ConfigError(
        "in-cluster configuration: not running in a Kubernetes cluster "
        "(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set)");
  }
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) {
    throw ConfigError("in-cluster configuration: KUBERNETES_SERVICE_PORT \"" + port +
                      "\" is not a port number");
  }
  ClusterConfig out;
  // An IPv6 literal needs brackets in a URL (client-go uses net.JoinHostPort).
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  out.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;

  const fs::path root(options.in_cluster_root);
  // The kubelet rotates the projected token: the client re-reads token_file. Read it once here so
  // that a pod without a mounted service account fails now, naming the path.
  out.token_file = (root / "token").string();
  try {
    read_token_file(out.token_file);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("in-cluster configuration: ") + e.what());
  }
  const std::string ca_path = (root / "ca.crt").string();
  FileRead ca = read_file(ca_path);
  if (!ca.data) {
    throw ConfigError("in-cluster configuration: cannot read " + ca_path + ": " +
                      std::strerror(ca.err));
  }
  out.ca_pem = std::move(*ca.data);

  std::string ns = service_env(options.pod_namespace, "POD_NAMESPACE");
  if (ns.empty()) {
    FileRead file = read_file((root / "namespace").string());
    if (file.data) ns = trim(*file.data);
  }
  out.namespace_name = ns.empty() ? "default" : ns;
  out.source = "in-cluster";
  return out;
}

ClusterConfig load_config(const LoadOptions& options) {
  Kubeconfigs kc = find_kubeconfigs(options);
  // As client-go: in-cluster only when no kubeconfig says anything. An explicit --kubeconfig or
  // --context means the user wants a kubeconfig, so its errors are reported instead.
  if (!options.kubeconfig.empty() || !options.context.empty() || !kc.empty()) {
    if (kc.files.empty()) {
      throw ConfigError("no kubeconfig found (looked at " + kc.looked_at + ")");
    }
    return resolve(kc, options.context);
  }
  if (!in_cluster_possible(options)) {
    throw ConfigError(
        "no Kubernetes configuration: no kubeconfig found (looked at " + kc.looked_at +
        ") and not running in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "are not set); pass --kubeconfig or set KUBECONFIG");
  }
  return in_cluster_config(options);
}

}  // namespace kgate::kube
