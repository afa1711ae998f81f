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

std::string excerpt_of(const std::string& body) {
  std::string one = body.size() > 300 ? body.substr(0, 300) + "…" : body;
  for (char& c : one)
    if (c == '\n' || c == '\r') c = ' ';
  return one;
}

// "step 'register': POST http://.../api/auth/register answered 422: {...}" — the step, the
// URL, the status and the body, so that a user sees why without a packet capture.
std::string step_failed(const std::string& step, const http::Request& r, const http::Response& resp,
                        const std::string& expected) {
  return "step '" + step + "': " + r.method + " " + r.url + " answered " +
         std::to_string(resp.status) + (expected.empty() ? "" : " (expected " + expected + ")") +
         (resp.body.empty() ? "" : ": " + excerpt_of(resp.body));
}

std::string fill_email(const Config& cfg, const std::string& label) {
  return fill(cfg.auth.email, {{"label", label}, {"random", random_hex(4)}});
}

std::string uuid_v4() {
  std::string h = random_hex(16);
  h[12] = '4';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

std::string fresh_user_id(const Config& cfg, const std::string& label) {
  const auto& f = cfg.auth.mint.user_id_format;
  if (f == "uuid") return uuid_v4();
  if (f == "int") return std::to_string(100000000 + std::stoul(random_hex(3), nullptr, 16));
  return "kgate-" + label + "-" + random_hex(4);
}

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

// Form fields are URL-encoded after the placeholders are filled.
std::string form_fill(const std::string& tmpl, const std::map<std::string, std::string>& vars) {
  std::map<std::string, std::string> encoded;
  for (const auto& [k, v] : vars) encoded[k] = url_encode_segment(v);
  return fill(tmpl, encoded);
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
    id.email = fill_email(cfg_, label);
    std::map<std::string, std::string> vars{
        {"email", id.email}, {"password", password_for(cfg_)}, {"name", "kgate " + label}};
    // The register answer is kept: when the login fails afterwards, it usually says why.
    std::string registered;
    if (!lc.register_path.empty()) {
      auto req = json_post(join_url(base, lc.register_path), fill(lc.register_body, vars));
      auto r = send_(req);
      if (r.status >= 500) throw IdentityUnavailable(step_failed("register", req, r, "2xx"));
      if (r.status / 100 != 2) registered = step_failed("register", req, r, "2xx");
    }
    http::Request login;
    if (lc.format == "form") {
      static const std::string json_default = LoginConfig{}.login_body;
      const std::string body =
          lc.login_body == json_default ? "username={email}&password={password}" : lc.login_body;
      login.method = "POST";
      login.url = join_url(base, lc.login_path);
      login.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"Accept", "application/json"}};
      login.body = form_fill(body, vars);
    } else {
      login = json_post(join_url(base, lc.login_path), fill(lc.login_body, vars));
    }
    auto r = send_(login);
    if (r.status != 200)
      throw IdentityUnavailable(step_failed("login", login, r, "200") +
                                (registered.empty() ? "" : "; before it, " + registered));
    auto doc = json::parse(r.body, nullptr, false);
    auto token = doc.is_discarded() ? std::nullopt : json_path(doc, lc.token_json_path);
    if (!token)
      throw IdentityUnavailable("step 'login': the answer of " + login.url + " has no token at '" +
                                lc.token_json_path +
                                "' (auth.login.token_json_path): " + excerpt_of(r.body));
    id.token = *token;
    register_secret(id.token);
    auto uid = lc.user_id_json_path.empty() ? std::nullopt : json_path(doc, lc.user_id_json_path);
    id.user_id = uid ? *uid : user_id_from_token(id.token, cfg_.auth.mint.user_claim);
    return id;
  }
  std::string describe() const override {
    return "log in at " + cfg_.auth.login.login_path +
           (cfg_.auth.login.format == "form" ? " (form)" : "");
  }

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
    id.email = fill_email(cfg_, label);
    std::string password = password_for(cfg_);
    json up = {{"email", id.email}, {"password", password}, {"name", "kgate " + label}};
    auto up_req = json_post(join_url(base, bc.sign_up_path), up.dump());
    auto r = send_(up_req);
    if (r.status != 200 && r.status != 201)
      throw IdentityUnavailable(step_failed("Better Auth sign-up", up_req, r, "200 or 201"));
    json in = {{"email", id.email}, {"password", password}};
    auto in_req = json_post(join_url(base, bc.sign_in_path), in.dump());
    r = send_(in_req);
    if (r.status != 200)
      throw IdentityUnavailable(step_failed("Better Auth sign-in", in_req, r, "200"));
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
      throw IdentityUnavailable(
          step_failed("Better Auth token", t, r, "200 with '" + bc.token_json_path + "'"));
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

// mint: HS256 tokens from the shared secret, for fresh user ids (or, with auth.mint.sign_up,
// for users signed up through the app first, for apps that keep a users table).
class MintProvider : public IdentityProvider {
 public:
  MintProvider(const Config& cfg, std::string secret, Sender send)
      : cfg_(cfg), secret_(std::move(secret)) {
    if (secret_.empty()) {
      const char* v = std::getenv(cfg.auth.mint.secret_env.c_str());
      if (v) secret_ = v;
    }
    if (!secret_.empty()) register_secret(secret_);
    if (cfg.auth.mint.sign_up == "login") sign_up_ = std::make_unique<LoginProvider>(cfg, send);
    if (cfg.auth.mint.sign_up == "better-auth")
      sign_up_ = std::make_unique<BetterAuthProvider>(cfg, send);
  }
  Identity acquire(const std::string& label) override {
    if (secret_.empty())
      throw IdentityUnavailable("auth mode 'mint' needs the JWT secret in environment variable " +
                                cfg_.auth.mint.secret_env);
    Identity id;
    if (sign_up_) {
      id = sign_up_->acquire(label);  // the app knows this user now
    } else {
      id.label = label;
      id.user_id = fresh_user_id(cfg_, label);
      id.email = fill_email(cfg_, label);
    }
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    json claims = {
        {cfg_.auth.mint.user_claim, id.user_id},
        {"iat", now},
        {"exp", now + std::chrono::duration_cast<std::chrono::seconds>(cfg_.auth.mint.ttl).count()},
        {"email", id.email}};
    if (cfg_.auth.mint.user_claim != "sub") claims["sub"] = id.user_id;
    if (!cfg_.auth.mint.issuer.empty()) claims["iss"] = cfg_.auth.mint.issuer;
    if (!cfg_.auth.mint.audience.empty()) claims["aud"] = cfg_.auth.mint.audience;
    id.token = jwt::sign_hs256(claims, secret_);
    register_secret(id.token);
    return id;
  }
  std::string describe() const override {
    return "mint HS256 tokens (secret from $" + cfg_.auth.mint.secret_env + ", user claim '" +
           cfg_.auth.mint.user_claim + "'" +
           (sign_up_ ? ", users signed up first via " + cfg_.auth.mint.sign_up : "") + ")";
  }

 private:
  const Config& cfg_;
  std::string secret_;
  std::unique_ptr<IdentityProvider> sign_up_;
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
  return std::make_unique<MintProvider>(cfg, secret_override, std::move(send));
}

}  // namespace kgate
