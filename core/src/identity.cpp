// The four ways kgate becomes a user of the app under test.
#include "kgate/identity.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "kgate/jwt.hpp"
#include "kgate/redact.hpp"
#include "kgate/url.hpp"

namespace kgate {

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : raw) {
    out += hex[ch >> 4];
    out += hex[ch & 15];
  }
  return out;
}

namespace {

using nlohmann::json;

std::string base_url_for(const Config& cfg, const std::string& which) {
  const std::string& url = which == "frontend"  ? cfg.target.frontend
                           : which == "ingress" ? cfg.target.ingress
                                                : cfg.target.backend;
  if (url.empty()) throw IdentityUnavailable("auth needs target." + which + " to be set");
  return url;
}

// Reads a dotted path ("data.token") from a JSON document.
std::optional<std::string> json_path(const json& doc, const std::string& path) {
  const json* cur = &doc;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(part)) return std::nullopt;
    cur = &(*cur)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_number_integer()) return std::to_string(cur->get<long long>());
  return std::nullopt;
}

std::string user_id_from_token(const std::string& token, const std::string& preferred_claim) {
  auto d = jwt::decode(token);
  for (const auto& claim :
       {preferred_claim, std::string("sub"), std::string("user_id"), std::string("id")}) {
    if (d.payload.contains(claim)) {
      const auto& v = d.payload[claim];
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number_integer()) return std::to_string(v.get<long long>());
    }
  }
  throw IdentityUnavailable("the token carries no user id claim (" + preferred_claim +
                            ", sub, user_id, id)");
}

std::string fill(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [k, v] : vars) {
    std::string key = "{" + k + "}";
    for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + v.size()))
      text.replace(pos, key.size(), v);
  }
  return text;
}

// mint: HS256 tokens from the shared secret, for fresh random user ids.
class MintProvider : public IdentityProvider {
 public:
  MintProvider(const Config& cfg, std::string secret) : cfg_(cfg), secret_(std::move(secret)) {
    if (secret_.empty()) {
      const char* v = std::getenv(cfg.auth.mint.secret_env.c_str());
      if (v) secret_ = v;
    }
    if (!secret_.empty()) register_secret(secret_);
  }
  Identity acquire(const std::string& label) override {
    if (secret_.empty())
      throw IdentityUnavailable("auth mode 'mint' needs the JWT secret in environment variable " +
                                cfg_.auth.mint.secret_env);
    Identity id;
    id.label = label;
    id.user_id = "kgate-" + label + "-" + random_hex(4);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    json claims = {
        {cfg_.auth.mint.user_claim, id.user_id},
        {"iat", now},
        {"exp", now + std::chrono::duration_cast<std::chrono::seconds>(cfg_.auth.mint.ttl).count()},
        {"email", id.user_id + "@kgate.test"}};
    if (cfg_.auth.mint.user_claim != "sub") claims["sub"] = id.user_id;
    if (!cfg_.auth.mint.issuer.empty()) claims["iss"] = cfg_.auth.mint.issuer;
    if (!cfg_.auth.mint.audience.empty()) claims["aud"] = cfg_.auth.mint.audience;
    id.token = jwt::sign_hs256(claims, secret_);
    register_secret(id.token);
    return id;
  }
  std::string describe() const override {
    return "mint HS256 tokens (secret from $" + cfg_.auth.mint.secret_env + ", user claim '" +
           cfg_.auth.mint.user_claim + "')";
  }

 private:
  const Config& cfg_;
  std::string secret_;
};

std::string password_for(const Config& cfg) {
  if (!cfg.auth.password_env.empty()) {
    const char* v = std::getenv(cfg.auth.password_env.c_str());
    if (!v || !*v)
      throw IdentityUnavailable("environment variable " + cfg.auth.password_env + " is not set");
    register_secret(v);
    return v;
  }
  std::string p = "Kg-" + random_hex(12) + "!";
  register_secret(p);
  return p;
}

http::Request json_post(const std::string& url, const std::string& body) {
  http::Request r;
  r.method = "POST";
  r.url = url;
  r.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  r.body = body;
  return r;
}

// login: the app's own register/login endpoints, token read from the answer.
class LoginProvider : public IdentityProvider {
 public:
  LoginProvider(const Config& cfg, Sender send) : cfg_(cfg), send_(std::move(send)) {}
  Identity acquire(const std::string& label) override {
    const auto& lc = cfg_.auth.login;
    std::string base = base_url_for(cfg_, lc.base);
    Identity id;
    id.label = label;
    id.email = "kgate-" + label + "-" + random_hex(4) + "@kgate.test";
    std::map<std::string, std::string> vars{
        {"email", id.email}, {"password", password_for(cfg_)}, {"name", "kgate " + label}};
    if (!lc.register_path.empty()) {
      auto r = send_(json_post(join_url(base, lc.register_path), fill(lc.register_body, vars)));
      if (r.status >= 500)
        throw IdentityUnavailable("register at " + lc.register_path + " answered " +
                                  std::to_string(r.status));
    }
    auto r = send_(json_post(join_url(base, lc.login_path), fill(lc.login_body, vars)));
    if (r.status != 200)
      throw IdentityUnavailable("login at " + lc.login_path + " answered " +
                                std::to_string(r.status));
    auto doc = json::parse(r.body, nullptr, false);
    auto token = doc.is_discarded() ? std::nullopt : json_path(doc, lc.token_json_path);
    if (!token)
      throw IdentityUnavailable("login answer has no token at '" + lc.token_json_path + "'");
    id.token = *token;
    register_secret(id.token);
    auto uid = lc.user_id_json_path.empty() ? std::nullopt : json_path(doc, lc.user_id_json_path);
    id.user_id = uid ? *uid : user_id_from_token(id.token, cfg_.auth.mint.user_claim);
    return id;
  }
  std::string describe() const override { return "log in at " + cfg_.auth.login.login_path; }

 private:
  const Config& cfg_;
  Sender send_;
};

// better-auth: sign up, sign in (cookie session), then fetch the JWT from the token endpoint.
// The token is EdDSA-signed by the app's own key: kgate uses it without verifying it.
class BetterAuthProvider : public IdentityProvider {
 public:
  BetterAuthProvider(const Config& cfg, Sender send) : cfg_(cfg), send_(std::move(send)) {}
  Identity acquire(const std::string& label) override {
    const auto& bc = cfg_.auth.better_auth;
    std::string base = base_url_for(cfg_, bc.base);
    Identity id;
    id.label = label;
    id.email = "kgate-" + label + "-" + random_hex(4) + "@kgate.test";
    std::string password = password_for(cfg_);
    json up = {{"email", id.email}, {"password", password}, {"name", "kgate " + label}};
    auto r = send_(json_post(join_url(base, bc.sign_up_path), up.dump()));
    if (r.status != 200 && r.status != 201)
      throw IdentityUnavailable("Better Auth sign-up at " + bc.sign_up_path + " answered " +
                                std::to_string(r.status));
    json in = {{"email", id.email}, {"password", password}};
    r = send_(json_post(join_url(base, bc.sign_in_path), in.dump()));
    if (r.status != 200)
      throw IdentityUnavailable("Better Auth sign-in at " + bc.sign_in_path + " answered " +
                                std::to_string(r.status));
    std::string cookies;
    for (const auto& [k, v] : r.headers) {
      if (strcasecmp(k.c_str(), "set-cookie") != 0) continue;
      std::string pair = v.substr(0, v.find(';'));
      if (auto eq = pair.find('='); eq != std::string::npos) register_secret(pair.substr(eq + 1));
      cookies += (cookies.empty() ? "" : "; ") + pair;
    }
    if (cookies.empty()) throw IdentityUnavailable("Better Auth sign-in set no session cookie");
    http::Request t;
    t.url = join_url(base, bc.token_path);
    t.headers = {{"Cookie", cookies}, {"Accept", "application/json"}};
    r = send_(t);
    auto doc = json::parse(r.body, nullptr, false);
    auto token = (r.status == 200 && !doc.is_discarded()) ? json_path(doc, bc.token_json_path)
                                                          : std::nullopt;
    if (!token)
      throw IdentityUnavailable("Better Auth token endpoint " + bc.token_path + " answered " +
                                std::to_string(r.status) + " without '" + bc.token_json_path + "'");
    id.token = *token;
    register_secret(id.token);
    id.user_id = user_id_from_token(id.token, cfg_.auth.mint.user_claim);
    return id;
  }
  std::string describe() const override {
    return "Better Auth session on " + cfg_.auth.better_auth.base + ", JWT from " +
           cfg_.auth.better_auth.token_path;
  }

 private:
  const Config& cfg_;
  Sender send_;
};

// tokens: fixed identities from the configuration, handed out in order.
class FixedTokensProvider : public IdentityProvider {
 public:
  explicit FixedTokensProvider(const Config& cfg) : cfg_(cfg) {
    for (const auto& t : cfg.auth.tokens) register_secret(t.token);
  }
  Identity acquire(const std::string& label) override {
    if (next_ >= cfg_.auth.tokens.size())
      throw IdentityUnavailable("auth.tokens has " + std::to_string(cfg_.auth.tokens.size()) +
                                " identities; this check needs one more");
    const auto& t = cfg_.auth.tokens[next_++];
    return Identity{label, t.user_id, t.token, ""};
  }
  std::string describe() const override {
    return std::to_string(cfg_.auth.tokens.size()) + " fixed token(s) from the configuration";
  }

 private:
  const Config& cfg_;
  std::size_t next_ = 0;
};

}  // namespace

std::unique_ptr<IdentityProvider> make_identity_provider(const Config& cfg, Sender send,
                                                         const std::string& secret_override) {
  const auto& m = cfg.auth.mode;
  if (m == "login") return std::make_unique<LoginProvider>(cfg, std::move(send));
  if (m == "better-auth") return std::make_unique<BetterAuthProvider>(cfg, std::move(send));
  if (m == "tokens") return std::make_unique<FixedTokensProvider>(cfg);
  return std::make_unique<MintProvider>(cfg, secret_override);
}

}  // namespace kgate
