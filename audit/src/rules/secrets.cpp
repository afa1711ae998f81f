// Secrets hygiene: no credential as a literal in a pod spec or a ConfigMap, and every Secret or
// ConfigMap key a pod reads exists. A finding names the key, never the value.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <regex>

#include "../model.hpp"
#include "groups.hpp"

namespace kgate::audit {
namespace {

constexpr const char* kSecretsUri =
    "https://kubernetes.io/docs/concepts/security/secrets-good-practices/";

bool secret_like_name(const std::string& name) {
  static const std::regex re(
      "SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|"
      "(^|_)KEY($|_)|(^|_)PWD($|_)",
      std::regex::icase);
  return std::regex_search(name, re);
}

double entropy_bits_per_char(const std::string& s) {
  std::map<char, int> counts;
  for (char c : s) ++counts[c];
  double h = 0;
  for (const auto& [c, n] : counts) {
    double p = static_cast<double>(n) / static_cast<double>(s.size());
    h -= p * std::log2(p);
  }
  return h;
}

// Why a value looks like a credential whatever its name ("" when it does not). Never the value.
std::string credential_shape(const std::string& v) {
  static const std::regex url_password(R"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@)");
  static const std::regex private_key("-----BEGIN [A-Z ]*PRIVATE KEY-----");
  static const std::regex token(
      R"(^(gh[pousr]_[A-Za-z0-9]{20,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$)");
  static const std::regex opaque(R"(^[A-Za-z0-9+/=_.-]{24,}$)");
  if (std::regex_search(v, url_password)) return "a URL with a password";
  if (std::regex_search(v, private_key)) return "a private key";
  if (std::regex_match(v, token)) return "an access token";
  bool letters = std::any_of(v.begin(), v.end(), [](unsigned char c) { return std::isalpha(c); });
  bool digits = std::any_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); });
  if (std::regex_match(v, opaque) && letters && digits && v.find("..") == std::string::npos &&
      entropy_bits_per_char(v) >= 4.0)
    return "a high-entropy string";
  return "";
}

// A literal that is plainly not a secret: empty, a $(VAR) reference, a path, true/false.
bool harmless(const std::string& v) {
  static const std::regex ref(R"(^\$\([A-Za-z_][A-Za-z0-9_]*\)$)");
  return v.empty() || std::regex_match(v, ref) || v[0] == '/' || v == "true" || v == "false";
}

// The reason a (name, value) pair looks like a secret, or "".
std::string why_secret(const std::string& name, const std::string& value) {
  if (harmless(value)) return "";
  if (std::string shape = credential_shape(value); !shape.empty()) return "its value is " + shape;
  if (secret_like_name(name)) return "its name says it is a secret";
  return "";
}

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return "";
}

void secret_in_env(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      const json* env = get(*c.body, {"env"});
      if (!env || !env->is_array()) continue;
      for (std::size_t i = 0; i < env->size(); ++i) {
        const json& e = (*env)[i];
        if (!e.contains("value")) continue;
        std::string name = e.value("name", "");
        std::string why = why_secret(name, scalar_text(e["value"]));
        if (!why.empty())
          f.add(*p.object, c.pointer + "/env/" + std::to_string(i) + "/value",
                p.describe(c) + " has a literal value in env '" + name + "' (" + why +
                    "): read it from a Secret with valueFrom.secretKeyRef");
      }
    }
}

// The rule, as data, beside its check.
const Rule kSecretInEnv{
    "secret-in-env",
    "secrets",
    "No secret as a literal in a pod spec",
    Severity::High,
    "CIS 5.4.1; kube-linter env-var-secret",
    kSecretsUri,
    "A credential written into env[].value is readable by anyone who can read the workload "
    "(and its Helm release, and kubectl get -o yaml). Flagged: names like *SECRET*, *TOKEN*, "
    "*PASSWORD*, *KEY*, and values shaped like credentials (a URL with a password, a "
    "private key, an access token, a high-entropy string).",
    "Put the value in a Secret and read it with env[].valueFrom.secretKeyRef (or mount it).",
    &secret_in_env};

void secret_in_configmap(const Inputs& in, Findings& f) {
  for (const Object* cm : of_kind(in.objects, "ConfigMap")) {
    f.inspected();
    const json* data = cm->at("/data");
    if (!data || !data->is_object()) continue;
    for (const auto& [key, value] : data->items()) {
      std::string why = why_secret(key, scalar_text(value));
      // A whole config file under a secret-like key is still a file: judge its shape only.
      if (!why.empty() && scalar_text(value).find('\n') != std::string::npos &&
          credential_shape(scalar_text(value)).empty())
        continue;
      if (!why.empty()) {
        std::string escaped;
        for (char ch : key) escaped += ch == '~' ? "~0" : ch == '/' ? "~1" : std::string(1, ch);
        f.add(*cm, "/data/" + escaped,
              "ConfigMap key '" + key + "' looks like a secret (" + why +
                  "): ConfigMaps are not meant for credentials; move it to a Secret");
      }
    }
  }
}

const Rule kSecretInConfigmap{
    "secret-in-configmap",
    "secrets",
    "No secret in a ConfigMap",
    Severity::High,
    "CIS 5.4.1",
    kSecretsUri,
    "ConfigMaps are not encrypted at rest by default and are readable with wider "
    "permissions than Secrets.",
    "Move the key to a Secret and read it with secretKeyRef or a secret volume.",
    &secret_in_configmap};

// The keys an object holds: data and stringData (Secrets), data and binaryData (ConfigMaps).
bool has_key(const Object& o, const std::string& key) {
  for (const char* field : {"/data", "/stringData", "/binaryData"})
    if (const json* d = o.at(field); d && d->is_object() && d->contains(key)) return true;
  return false;
}

void references_resolve(const Inputs& in, Findings& f) {
  // Live inputs list every Secret and ConfigMap of the namespace, so a missing one is missing;
  // offline, a Secret the chart does not render may be created outside it (existingSecret).
  bool live = false;
  for (const auto& o : in.objects) live = live || o.live;
  auto find = [&](const std::string& kind, const std::string& name, const std::string& ns) {
    for (const auto& o : in.objects)
      if (o.kind() == kind && o.name() == name && o.ns() == ns) return &o;
    return static_cast<const Object*>(nullptr);
  };
  auto check = [&](const PodSpecRef& p, const std::string& pointer, const std::string& what,
                   const std::string& kind, const std::string& name, const std::string& key,
                   bool optional) {
    if (name.empty() || optional) return;
    const Object* target = find(kind, name, p.ns);
    if (!target) {
      if (live)
        f.add(*p.object, pointer,
              what + " reads " + kind + " '" + name + "', which does not exist");
      return;
    }
    if (!key.empty() && !has_key(*target, key))
      f.add(
          *p.object, pointer,
          what + " reads key '" + key + "' of " + kind + " '" + name + "', which has no such key");
  };
  for (const auto& p : pod_specs(in.objects)) {
    f.inspected();
    for (const auto& c : p.containers(true)) {
      std::string what = p.describe(c);
      if (const json* env = get(*c.body, {"env"}); env && env->is_array())
        for (std::size_t i = 0; i < env->size(); ++i) {
          std::string ptr = c.pointer + "/env/" + std::to_string(i) + "/valueFrom";
          for (auto [field, kind] :
               {std::pair{"secretKeyRef", "Secret"}, std::pair{"configMapKeyRef", "ConfigMap"}})
            if (const json* r = get((*env)[i], {"valueFrom", field}))
              check(p, ptr, what + " (env '" + (*env)[i].value("name", "") + "')", kind,
                    r->value("name", ""), r->value("key", ""), r->value("optional", false));
        }
      if (const json* env_from = get(*c.body, {"envFrom"}); env_from && env_from->is_array())
        for (std::size_t i = 0; i < env_from->size(); ++i)
          for (auto [field, kind] :
               {std::pair{"secretRef", "Secret"}, std::pair{"configMapRef", "ConfigMap"}})
            if (const json* r = get((*env_from)[i], {field}))
              check(p, c.pointer + "/envFrom/" + std::to_string(i), what + " (envFrom)", kind,
                    r->value("name", ""), "", r->value("optional", false));
    }
    if (p.injected_only) continue;
    if (const json* vols = get(*p.spec, {"volumes"}); vols && vols->is_array())
      for (std::size_t i = 0; i < vols->size(); ++i) {
        const json& v = (*vols)[i];
        std::string ptr = p.pointer + "/volumes/" + std::to_string(i);
        std::string what = "volume '" + v.value("name", "") + "'";
        auto items = [&](const json& src, const std::string& kind, const std::string& name) {
          bool optional = src.value("optional", false);
          check(p, ptr, what, kind, name, "", optional);
          if (const json* its = get(src, {"items"}); its && its->is_array())
            for (const auto& it : *its)
              check(p, ptr, what, kind, name, it.value("key", ""), optional);
        };
        if (const json* s = get(v, {"secret"})) items(*s, "Secret", s->value("secretName", ""));
        if (const json* m = get(v, {"configMap"})) items(*m, "ConfigMap", m->value("name", ""));
      }
  }
}

const Rule kConfigReferencesResolve{
    "config-references-resolve",
    "secrets",
    "Referenced Secret and ConfigMap keys exist",
    Severity::High,
    "kgate (no peer check)",
    "https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets",
    "A secretKeyRef or configMapKeyRef to a key that does not exist keeps the pod from "
    "starting (CreateContainerConfigError). Offline, only objects in the input are checked; "
    "live, a missing Secret or ConfigMap is reported too.",
    "Fix the name or the key, or mark the reference optional: true.",
    &references_resolve};

}  // namespace

std::vector<Rule> secrets_rules() {
  return {kSecretInEnv, kSecretInConfigmap, kConfigReferencesResolve};
}

}  // namespace kgate::audit
