// Loading kgate.yaml: a small schema-driven reader over yaml-cpp that knows every key, so that
// unknown keys are errors with a suggestion, and every error names file:line:column and the key.
#include "kgate/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "criteria_yaml.hpp"
#include "kgate/audit/rules.hpp"
#include "kgate/distributed/job.hpp"
#include "kgate/duration.hpp"
#include "kgate/load/executor.hpp"
#include "kgate/load/threshold.hpp"
#include "kgate/registry.hpp"
#include "kgate/suggest.hpp"
#include "kgate/url.hpp"

namespace kgate {
namespace {

// Walks one YAML mapping, reading known keys and remembering them.
class Reader {
 public:
  Reader(const YAML::Node& node, std::string path, const std::string& file)
      : node_(node), path_(std::move(path)), file_(file) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) fail(node_, "expected a mapping of keys");
    // YAML forbids a key twice in a mapping, but yaml-cpp reads only the first: the second
    // would be ignored without a word.
    if (node_ && node_.IsMap()) {
      std::map<std::string, YAML::Mark> seen;
      for (const auto& kv : node_) {
        const std::string k = kv.first.Scalar();
        if (auto [it, fresh] = seen.emplace(k, kv.first.Mark()); !fresh)
          fail(kv.first, "key '" + key_path(k) + "' appears twice (first at line " +
                             std::to_string(it->second.line + 1) + ")");
      }
    }
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
    fail_at(at.Mark(), message);
  }
  [[noreturn]] void fail_at(const YAML::Mark& m, const std::string& message) const {
    std::ostringstream os;
    os << file_ << ":" << (m.line >= 0 ? m.line + 1 : 0) << ":"
       << (m.column >= 0 ? m.column + 1 : 0) << ": " << message;
    throw ConfigError(os.str());
  }

  std::string key_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  YAML::Node get(const std::string& key) {
    known_.push_back(key);
    if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    return node_[key];
  }

  std::string interpolate(const YAML::Node& at, const std::string& key,
                          const std::string& in) const {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '$') {
        out += '$';
        ++i;
      } else if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '{') {
        auto close = in.find('}', i);
        if (close == std::string::npos)
          fail(at, "key '" + key_path(key) + "': unterminated ${ in '" + in + "'");
        std::string expr = in.substr(i + 2, close - i - 2);
        std::string name = expr, fallback;
        bool has_default = false;
        if (auto d = expr.find(":-"); d != std::string::npos) {
          name = expr.substr(0, d);
          fallback = expr.substr(d + 2);
          has_default = true;
        }
        const char* v = std::getenv(name.c_str());
        if (v && *v) {
          out += v;
        } else if (has_default) {
          out += fallback;
        } else {
          fail(at, "key '" + key_path(key) + "': environment variable " + name +
                       " is not set (use ${" + name + ":-default} for a default)");
        }
        i = close;
      } else {
        out += in[i];
      }
    }
    return out;
  }

  void str(const std::string& key, std::string& out) {
    auto n = get(key);
    if (!n) return;
    if (!n.IsScalar()) fail(n, "key '" + key_path(key) + "': expected a string");
    out = interpolate(n, key, n.Scalar());
  }

  void url(const std::string& key, std::string& out) {
    auto n = get(key);
    if (!n) return;
    str(key, out);
    if (out.empty()) return;
    try {
      Url::parse(out);
    } catch (const std::exception& e) {
      fail(n, "key '" + key_path(key) + "': " + e.what());
    }
    while (out.size() > 1 && out.back() == '/') out.pop_back();
  }

  void path(const std::string& key, std::string& out) {
    auto n = get(key);
    if (!n) return;
    str(key, out);
    if (out.empty() || out[0] != '/')
      fail(n, "key '" + key_path(key) + "': a path must start with '/', got '" + out + "'");
  }

  void boolean(const std::string& key, bool& out) {
    auto n = get(key);
    if (!n) return;
    std::string v = n.IsScalar() ? interpolate(n, key, n.Scalar()) : "";
    if (v == "true" || v == "yes" || v == "on")
      out = true;
    else if (v == "false" || v == "no" || v == "off")
      out = false;
    else
      fail(n, "key '" + key_path(key) + "': expected true or false, got '" + v + "'");
  }

  void integer(const std::string& key, int& out, int lo, int hi) {
    auto n = get(key);
    if (!n) return;
    std::string v = n.IsScalar() ? interpolate(n, key, n.Scalar()) : "";
    char* end = nullptr;
    long x = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || x < lo || x > hi)
      fail(n, "key '" + key_path(key) + "': expected an integer in [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "], got '" + v + "'");
    out = static_cast<int>(x);
  }

  void number(const std::string& key, double& out, double lo, double hi) {
    auto n = get(key);
    if (!n) return;
    std::string v = n.IsScalar() ? interpolate(n, key, n.Scalar()) : "";
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || !(x >= lo && x <= hi))
      fail(n, "key '" + key_path(key) + "': expected a number in [" + fmt_number(lo) + ", " +
                  fmt_number(hi) + "], got '" + v + "'");
    out = x;
  }

  static std::string fmt_number(double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  }

  // allow_zero: for settings where 0 means "none" (think time, the total timeout).
  void duration(const std::string& key, Millis& out, bool allow_zero = false) {
    auto n = get(key);
    if (!n) return;
    std::string v = n.IsScalar() ? interpolate(n, key, n.Scalar()) : "";
    try {
      out = std::chrono::duration_cast<Millis>(parse_duration(v));
    } catch (const std::exception& e) {
      fail(n, "key '" + key_path(key) + "': " + e.what());
    }
    if (out.count() < 0 || (out.count() == 0 && !allow_zero)) {
      fail(n, "key '" + key_path(key) + "': duration must be positive");
    }
  }

  void one_of(const std::string& key, std::string& out, const std::vector<std::string>& allowed) {
    auto n = get(key);
    if (!n) return;
    str(key, out);
    if (std::find(allowed.begin(), allowed.end(), out) == allowed.end()) {
      std::string list;
      for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      std::string hint = suggest(out, allowed);
      fail(n, "key '" + key_path(key) + "': '" + out + "' is not one of " + list +
                  (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
  }

  void string_list(const std::string& key, std::vector<std::string>& out) {
    auto n = get(key);
    if (!n) return;
    if (!n.IsSequence()) fail(n, "key '" + key_path(key) + "': expected a list");
    out.clear();
    for (const auto& item : n) {
      if (!item.IsScalar()) fail(item, "key '" + key_path(key) + "': list items must be strings");
      out.push_back(interpolate(item, key, item.Scalar()));
    }
  }

  void status_list(const std::string& key, std::vector<int>& out) {
    auto n = get(key);
    if (!n) return;
    if (n.IsScalar()) {
      int v = 0;
      integer(key, v, 100, 599);
      out = {v};
      return;
    }
    if (!n.IsSequence()) fail(n, "key '" + key_path(key) + "': expected a status or a list");
    out.clear();
    for (const auto& item : n) {
      std::string v = item.IsScalar() ? item.Scalar() : "";
      char* end = nullptr;
      long x = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || x < 100 || x > 599)
        fail(item, "key '" + key_path(key) + "': '" + v + "' is not an HTTP status");
      out.push_back(static_cast<int>(x));
    }
  }

  Reader child(const std::string& key) {
    auto n = get(key);
    return Reader(n, key_path(key), file_);
  }
  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }

  // Every key present must have been read: unknown keys are errors with a suggestion.
  void finish() const {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      std::string k = kv.first.Scalar();
      if (std::find(known_.begin(), known_.end(), k) != known_.end()) continue;
      std::string hint = suggest(k, known_);
      fail(kv.first, "unknown key '" + key_path(k) + "'" +
                         (hint.empty() ? "" : " (did you mean '" + key_path(hint) + "'?)"));
    }
  }

 private:
  YAML::Node node_;
  std::string path_;
  const std::string& file_;
  std::vector<std::string> known_;
};

void read_target(Reader r, TargetConfig& t) {
  r.url("backend", t.backend);
  r.url("frontend", t.frontend);
  r.url("ingress", t.ingress);
  r.duration("connect_timeout", t.connect_timeout);
  r.duration("request_timeout", t.request_timeout);
  r.duration("reachable_within", t.reachable_within);
  r.boolean("insecure", t.insecure);
  r.str("ca_file", t.ca_file);
  if (auto n = r.get("max_requests"); n) {
    // "100/hour", "20/10s": a budget per window.
    std::string v = n.IsScalar() ? r.interpolate(n, "max_requests", n.Scalar()) : "";
    auto slash = v.find('/');
    char* end = nullptr;
    long count = std::strtol(v.c_str(), &end, 10);
    std::string window = slash == std::string::npos ? "" : v.substr(slash + 1);
    static const std::map<std::string, Millis> named{{"second", Millis(1000)},
                                                     {"minute", Millis(60000)},
                                                     {"hour", Millis(3600000)},
                                                     {"day", Millis(86400000)}};
    try {
      if (count <= 0 || end != v.c_str() + slash) throw std::invalid_argument("count");
      auto it = named.find(window);
      t.max_requests_window = it != named.end()
                                  ? it->second
                                  : std::chrono::duration_cast<Millis>(parse_duration(window));
      if (t.max_requests_window.count() <= 0) throw std::invalid_argument("window");
    } catch (const std::exception&) {
      r.fail(n,
             "key 'target.max_requests': expected COUNT/WINDOW such as 100/hour or 20/10s, "
             "got '" +
                 v + "'");
    }
    t.max_requests = static_cast<int>(count);
  }
  r.finish();
}

void read_profile(Reader r, ProfileConfig& p) {
  r.path("health_path", p.health_path);
  r.path("frontend_health_path", p.frontend_health_path);
  r.path("frontend_page_path", p.frontend_page_path);
  r.string_list("health_ok_values", p.health_ok_values);
  r.str("health_status_field", p.health_status_field);
  r.path("tasks_path", p.tasks_path);
  r.path("task_path", p.task_path);
  r.path("complete_path", p.complete_path);
  r.one_of("complete_method", p.complete_method, {"PATCH", "POST", "PUT"});
  r.one_of("update_method", p.update_method, {"PUT", "PATCH"});
  r.path("chat_path", p.chat_path);
  r.one_of("task_id_format", p.task_id_format, {"integer", "uuid", "any"});
  r.status_list("create_status", p.create_status);
  r.status_list("delete_status", p.delete_status);
  r.status_list("refused_status", p.refused_status);
  r.one_of("complete_returns", p.complete_returns, {"task", "partial"});
  r.str("list_field", p.list_field);
  r.one_of("completion", p.completion, {"boolean", "status"});
  r.str("completed_field", p.completed_field);
  r.str("status_field", p.status_field);
  r.str("status_done", p.status_done);
  r.str("status_open", p.status_open);
  if (r.node() && r.node().IsMap() && r.node()["complete_toggles"]) {
    bool toggles = true;
    r.boolean("complete_toggles", toggles);
    p.complete_toggles = toggles;
  } else {
    r.get("complete_toggles");
  }
  {
    Reader l = r.child("limits");
    l.integer("title_max", p.title_max, 1, 1000000);
    l.integer("description_max", p.description_max, 1, 10000000);
    l.finish();
  }
  r.boolean("chat_conversation", p.chat_conversation);
  if (r.node() && r.node().IsMap() && r.node()["openapi_path"] &&
      r.node()["openapi_path"].Scalar().empty())
    r.str("openapi_path", p.openapi_path);
  else
    r.path("openapi_path", p.openapi_path);
  r.finish();
  if (p.task_path.find("{id}") == std::string::npos)
    r.fail(r.node(), "key 'profile.task_path': must contain {id}");
}

void read_auth(Reader r, AuthConfig& a) {
  auto mode_node = r.node() ? r.node()["mode"] : YAML::Node();
  r.one_of("mode", a.mode, {"mint", "login", "better-auth", "tokens"});
  {
    Reader m = r.child("mint");
    m.str("secret_env", a.mint.secret_env);
    m.str("user_claim", a.mint.user_claim);
    m.one_of("user_id_format", a.mint.user_id_format, {"string", "uuid", "int"});
    m.one_of("sign_up", a.mint.sign_up, {"none", "login", "better-auth"});
    m.duration("ttl", a.mint.ttl);
    m.str("issuer", a.mint.issuer);
    m.str("audience", a.mint.audience);
    m.finish();
  }
  {
    Reader l = r.child("login");
    l.one_of("base", a.login.base, {"backend", "frontend", "ingress"});
    l.str("register_path", a.login.register_path);
    l.path("login_path", a.login.login_path);
    l.one_of("format", a.login.format, {"json", "form"});
    l.str("register_body", a.login.register_body);
    l.str("login_body", a.login.login_body);
    l.str("token_json_path", a.login.token_json_path);
    l.str("user_id_json_path", a.login.user_id_json_path);
    l.finish();
  }
  {
    Reader b = r.child("better_auth");
    b.one_of("base", a.better_auth.base, {"backend", "frontend", "ingress"});
    b.path("sign_up_path", a.better_auth.sign_up_path);
    b.path("sign_in_path", a.better_auth.sign_in_path);
    b.path("token_path", a.better_auth.token_path);
    b.str("token_json_path", a.better_auth.token_json_path);
    b.finish();
  }
  auto tokens = r.get("tokens");
  if (tokens) {
    if (!tokens.IsSequence())
      r.fail(tokens, "key 'auth.tokens': expected a list of {user_id, token}");
    int i = 0;
    for (const auto& item : tokens) {
      const std::string where = "auth.tokens[" + std::to_string(i++) + "]";
      FixedIdentity id;
      if (!item.IsMap()) r.fail(item, "key 'auth.tokens': each item needs user_id and token");
      for (const auto& kv : item) {
        const std::string k = kv.first.Scalar();
        if (k == "user_id")
          id.user_id = r.interpolate(kv.second, "tokens.user_id", kv.second.Scalar());
        else if (k == "token")
          id.token = r.interpolate(kv.second, "tokens.token", kv.second.Scalar());
        else {
          std::string hint = suggest(k, {"user_id", "token"});
          r.fail(kv.first, "unknown key '" + where + "." + k + "'" +
                               (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
        }
      }
      if (id.user_id.empty() || id.token.empty())
        r.fail(item, "key '" + where + "': needs both user_id and token");
      a.tokens.push_back(id);
    }
  }
  r.str("password_env", a.password_env);
  r.str("email", a.email);
  if (a.email.find('@') == std::string::npos)
    r.fail(r.node()["email"],
           "key 'auth.email': not an e-mail address template: '" + a.email + "'");
  r.duration("rate_limit_max_wait", a.rate_limit_max_wait);
  r.integer("rate_limit_retries", a.rate_limit_retries, 0, 20);
  r.finish();
  if (a.mode == "tokens" && a.tokens.empty())
    r.fail(mode_node ? mode_node : r.node(), "key 'auth.mode': mode 'tokens' needs auth.tokens");
}

void read_load(Reader& s, LoadConfig& l) {
  s.one_of("base", l.base, {"backend", "frontend", "ingress"});
  s.path("path", l.path);
  s.one_of("method", l.method, {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"});
  s.str("body", l.body);
  s.boolean("authenticated", l.authenticated);
  s.one_of("scenario", l.scenario, {"request", "todo-mix"});
  s.integer("identities", l.identities, 1, 1000);
  {
    Reader mix = s.child("mix");
    for (auto [key, weight] :
         {std::pair{"list", &l.mix_list}, std::pair{"create", &l.mix_create},
          std::pair{"toggle", &l.mix_toggle}, std::pair{"delete", &l.mix_delete}}) {
      int w = static_cast<int>(*weight);
      mix.integer(key, w, 0, 1000000);
      *weight = static_cast<unsigned>(w);
    }
    mix.finish();
  }
  s.one_of("executor", l.executor,
           {"constant-arrival-rate", "ramping-arrival-rate", "constant-vus", "ramping-vus"});
  s.number("rate", l.rate, 0, 1e7);
  s.integer("vus", l.vus, 0, 1000000);
  if (auto n = s.node()["stages"]; n) {
    s.str("stages", l.stages);
    try {
      load::parse_stages(l.stages);
    } catch (const std::exception& e) {
      s.fail(n, "key 'suites.load.stages': " + std::string(e.what()));
    }
  } else {
    s.str("stages", l.stages);
  }
  s.duration("duration", l.duration);
  s.duration("think", l.think, true);
  s.integer("connections", l.connections, 1, 1000000);
  s.integer("threads", l.threads, 0, 1024);
  s.duration("max_queue_wait", l.max_queue_wait);
  s.duration("total_timeout", l.total_timeout, true);
  // Thresholds are checked here, so a misspelled metric stops the run (exit 2) before any
  // load is sent: never a silent pass.
  if (auto n = s.node()["thresholds"]; n && n.IsSequence()) {
    s.string_list("thresholds", l.thresholds);
    std::size_t i = 0;
    for (const auto& item : n) {
      try {
        load::parse_threshold(l.thresholds[i]);
      } catch (const load::ThresholdError& e) {
        YAML::Mark m = item.Mark();
        // Plain and quoted scalars start at the mark; a quote shifts the text by one column.
        bool quoted = item.Tag() == "!";
        m.column += static_cast<int>(e.offset) + (quoted ? 1 : 0);
        s.fail_at(m, "key 'suites.load.thresholds[" + std::to_string(i) + "]': " + e.what());
      }
      ++i;
    }
  } else {
    s.string_list("thresholds", l.thresholds);
  }
}

// suites.load.workers and suites.load.distributed: distributed load (docs/distributed-load.md).
void read_distributed_load(Reader& s, LoadConfig& l) {
  s.integer("workers", l.workers, 0, 1000);
  Reader d = s.child("distributed");
  auto& c = l.distributed;
  d.str("image", c.image);
  if (c.image.empty()) d.fail(d.node()["image"], "key 'suites.load.distributed.image': empty");
  d.one_of("image_pull_policy", c.image_pull_policy, {"", "Always", "IfNotPresent", "Never"});
  {
    Reader res = d.child("resources");
    for (auto [key, target] :
         {std::pair{"requests", &c.requests}, std::pair{"limits", &c.limits}}) {
      Reader q = res.child(key);
      for (const char* kind : {"cpu", "memory"}) {
        auto n = q.node() && q.node().IsMap() ? q.node()[kind] : YAML::Node();
        std::string v = (*target)[kind];
        q.str(kind, v);
        if (n && !v.empty() && !dist::is_quantity(v))
          q.fail(n, "key 'suites.load.distributed.resources." + std::string(key) + "." + kind +
                        "': '" + v + "' is not a Kubernetes quantity (e.g. 500m, 1, 256Mi)");
        (*target)[kind] = v;
      }
      q.finish();
    }
    res.finish();
  }
  d.duration("start_timeout", c.start_timeout);
  d.duration("start_lead", c.start_lead);
  d.boolean("allow_partial", c.allow_partial);
  d.finish();
}

// Every suite section takes check_timeout: its checks' timeout (else run.check_timeout).
void read_check_timeout(Reader& s, const std::string& suite, Config& c) {
  Millis t{0};
  s.duration("check_timeout", t);  // stays 0 when absent: a set value must be positive
  if (t.count() > 0) c.suite_check_timeouts[suite] = t;
}

// suites.audit: the live audit's gate floor, which objects are the app's, suppressions (each
// with a reason, its rule checked against the audit's rules) and image-scan reports.
void read_audit(Reader& s, AuditSuiteConfig& a) {
  s.one_of("fail_on", a.fail_on, severities());
  s.str("selector", a.selector);
  s.string_list("image_scans", a.image_scans);
  s.one_of("image_severity", a.image_severity, {"low", "medium", "high", "critical"});
  auto list = s.get("suppressions");
  if (!list) return;
  if (!list.IsSequence())
    s.fail(list, "key 'suites.audit.suppressions': expected a list of {rule, object, reason}");
  std::vector<std::string> ids;
  for (const auto& r : audit::all_rules()) ids.push_back(r.id);
  std::size_t i = 0;
  for (const auto& item : list) {
    const std::string where = "suites.audit.suppressions[" + std::to_string(i++) + "]";
    if (!item.IsMap())
      s.fail(item, "key '" + where + "': expected a mapping (rule, object, reason)");
    AuditSuppressionConfig sup;
    sup.where = s.file() + ":" + std::to_string(item.Mark().line + 1);
    for (const auto& kv : item) {
      const std::string k = kv.first.Scalar();
      std::string* field = k == "rule"     ? &sup.rule
                           : k == "object" ? &sup.object
                           : k == "reason" ? &sup.reason
                                           : nullptr;
      if (!field) {
        std::string hint = suggest(k, {"rule", "object", "reason"});
        s.fail(kv.first, "unknown key '" + where + "." + k + "'" +
                             (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      if (!kv.second.IsScalar())
        s.fail(kv.second, "key '" + where + "." + k + "': expected a string");
      *field = s.interpolate(kv.second, k, kv.second.Scalar());
    }
    if (sup.rule.empty()) s.fail(item, "key '" + where + "': missing 'rule'");
    if (!audit::find_rule(sup.rule)) {
      std::string hint = suggest(sup.rule, ids);
      s.fail(item["rule"], "key '" + where + ".rule': unknown audit rule '" + sup.rule + "'" +
                               (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                               "; `kgate audit --list-rules` lists them");
    }
    if (sup.reason.find_first_not_of(" \t") == std::string::npos)
      s.fail(item, "key '" + where + ".reason': every suppression needs a reason");
    a.suppressions.push_back(std::move(sup));
  }
}

void read_suites(Reader r, Config& c) {
  {
    Reader s = r.child("smoke");
    read_check_timeout(s, "smoke", c);
    s.duration("latency_budget", c.smoke.latency_budget);
    s.boolean("chat", c.smoke.chat);
    s.str("chat_message", c.smoke.chat_message);
    s.finish();
  }
  {
    Reader s = r.child("security");
    read_check_timeout(s, "security", c);
    s.one_of("fail_on", c.security.fail_on, severities());
    s.string_list("public_paths", c.security.public_paths);
    s.boolean("probe_unsafe_routes", c.security.probe_unsafe_routes);
    s.boolean("chat", c.security.chat);
    s.number("max_rps", c.security.max_rps, 0, 10000);
    int mib = static_cast<int>(c.security.large_body_bytes >> 20);
    s.integer("large_body_mib", mib, 1, 256);
    c.security.large_body_bytes = static_cast<std::size_t>(mib) << 20;
    s.finish();
  }
  {
    Reader s = r.child("load");
    read_check_timeout(s, "load", c);
    read_load(s, c.load);
    read_distributed_load(s, c.load);
    s.finish();
  }
  {
    Reader s = r.child("audit");
    read_check_timeout(s, "audit", c);
    read_audit(s, c.audit);
    s.finish();
  }
  {
    Reader s = r.child("resilience");
    read_check_timeout(s, "resilience", c);
    auto& rc = c.resilience;
    s.number("rate", rc.rate, 0.1, 1000);
    s.integer("identities", rc.identities, 1, 50);
    s.number("frontend_rate", rc.frontend_rate, 0, 100);
    s.duration("ready_budget", rc.ready_budget);
    s.number("availability", rc.availability, 0, 100);
    s.duration("outage_budget", rc.outage_budget);
    s.duration("restart_budget", rc.restart_budget);
    s.integer("restart_max_failed", rc.restart_max_failed, 0, 1000000);
    s.integer("scale_to", rc.scale_to, 1, 50);
    s.duration("scale_budget", rc.scale_budget);
    s.duration("baseline", rc.baseline);
    s.duration("recovery", rc.recovery);
    s.finish();
  }
  {
    Reader s = r.child("hpa");
    read_check_timeout(s, "hpa", c);
    auto& h = c.hpa;
    s.one_of("scenario", h.scenario, {"todo-mix", "request"});
    s.path("path", h.path);
    s.integer("identities", h.identities, 1, 50);
    if (auto n = s.node()["stages"]; n) {
      s.str("stages", h.stages);
      try {
        if (load::parse_stages(h.stages).empty()) throw std::invalid_argument("no stage");
      } catch (const std::exception& e) {
        s.fail(n, "key 'suites.hpa.stages': " + std::string(e.what()));
      }
    }
    s.number("max_rate", h.max_rate, 0.1, 100000);
    s.duration("ramp", h.ramp);
    s.duration("hold", h.hold);
    s.integer("connections", h.connections, 1, 100000);
    s.integer("target_replicas", h.target_replicas, 0, 1000);
    s.duration("scale_up_budget", h.scale_up_budget, true);
    s.duration("pod_ready_budget", h.pod_ready_budget);
    s.duration("scale_down_budget", h.scale_down_budget, true);
    s.number("max_error_rate", h.max_error_rate, 0, 100);
    s.duration("p95", h.p95);
    s.boolean("scale_down", h.scale_down);
    s.duration("preflight_wait", h.preflight_wait);
    {
      Reader k = s.child("controller");
      auto& hc = h.controller;
      k.duration("sync_period", hc.sync_period);
      k.number("tolerance", hc.tolerance, 0, 1);
      k.duration("downscale_stabilization", hc.downscale_stabilization, true);
      k.duration("cpu_initialization", hc.cpu_initialization, true);
      k.duration("initial_readiness_delay", hc.initial_readiness_delay, true);
      k.finish();
    }
    s.finish();
  }
  r.finish();
}

}  // namespace

int severity_rank(const std::string& severity) {
  const auto& all = severities();
  auto it = std::find(all.begin(), all.end(), severity);
  return it == all.end() ? 0 : static_cast<int>(it - all.begin()) + 1;
}

std::string suggest(const std::string& word, const std::vector<std::string>& candidates) {
  return closest_match(word, candidates);
}

Config parse_config(const std::string& yaml_text, const std::string& source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    std::ostringstream os;
    os << source_name << ":" << e.mark.line + 1 << ":" << e.mark.column + 1
       << ": invalid YAML: " << e.msg;
    throw ConfigError(os.str());
  }
  Config c;
  c.source = source_name;
  Reader r(root, "", source_name);
  int version = 1;
  r.integer("version", version, 1, 1);
  read_target(r.child("target"), c.target);
  read_profile(r.child("profile"), c.profile);
  read_auth(r.child("auth"), c.auth);
  read_suites(r.child("suites"), c);
  {
    auto sel = r.node() && r.node().IsMap() ? r.node()["run"] : YAML::Node();
    Reader run = r.child("run");
    run.string_list("suites", c.suites);
    run.boolean("fail_on_skip", c.fail_on_skip);
    run.duration("check_timeout", c.check_timeout);
    // The registry is the one list of suites (it is empty only in tests that link no suite).
    const std::vector<std::string> known = suite_names();
    for (auto& s : c.suites) {
      if (!known.empty() && std::find(known.begin(), known.end(), s) == known.end()) {
        std::string hint = suggest(s, known);
        run.fail(sel["suites"], "key 'run.suites': unknown suite '" + s + "'" +
                                    (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
    }
    run.finish();
  }
  if (auto k = r.node() && r.node().IsMap() ? r.node()["kubernetes"]
                                            : YAML::Node(YAML::NodeType::Undefined);
      k) {
    c.kubernetes.configured = true;
    Reader kr = r.child("kubernetes");
    auto& kc = c.kubernetes;
    kr.str("kubeconfig", kc.kubeconfig);
    kr.str("context", kc.context);
    kr.str("namespace", kc.namespace_);
    kr.str("release", kc.release);
    {
      Reader d = kr.child("deployments");
      d.str("backend", kc.backend_deployment);
      d.str("frontend", kc.frontend_deployment);
      d.finish();
    }
    kr.str("disruption_label", kc.disruption_label);
    kr.duration("request_timeout", kc.request_timeout);
    kr.finish();
    if (kc.release.empty() && kc.backend_deployment.empty())
      kr.fail(k,
              "key 'kubernetes': say how to find the app: release (a Helm release name) or "
              "deployments.backend");
  } else {
    r.get("kubernetes");
  }
  if (c.load.workers > 0) {
    // Distributed load needs a cluster. The todo mix runs on workers with identities of their
    // own (handed over in a Secret); an authenticated request would put one token into every
    // worker's request, which is not built.
    const YAML::Node at = root["suites"]["load"]["workers"];
    if (!c.kubernetes.configured)
      r.fail(at, "key 'suites.load.workers': workers run in a cluster: add a kubernetes: section");
    if (c.load.authenticated)
      r.fail(at,
             "key 'suites.load.workers': authenticated requests do not run distributed yet "
             "(the todo mix does: scenario: todo-mix)");
    if (c.load.scenario == "todo-mix" && c.load.identities < c.load.workers)
      r.fail(at, "key 'suites.load.workers': " + std::to_string(c.load.workers) +
                     " workers need at least as many identities (suites.load.identities is " +
                     std::to_string(c.load.identities) + "): each worker needs its own");
  }
  if (auto n = r.get("criteria"); n) c.criteria = read_criteria(n, source_name);
  {
    Reader rep = r.child("reports");
    rep.str("junit", c.reports.junit);
    rep.str("html", c.reports.html);
    rep.str("json", c.reports.json);
    rep.finish();
  }
  r.finish();
  return c;
}

Config load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ":0:0: cannot read the configuration file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace kgate
