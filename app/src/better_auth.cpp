#include "better_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

#include "storage.hpp"
#include "validation.hpp"

namespace todo {

using nlohmann::json;

namespace {

constexpr int kPbkdf2Iterations = 60000;
constexpr auto kSessionLifetime = std::chrono::hours(24 * 7);
constexpr auto kTokenLifetime = std::chrono::minutes(15);

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

// Better Auth's ids are 32 alphanumeric characters.
std::string random_id() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (unsigned char c : random_bytes(32)) out.push_back(kAlphabet[c % 62]);
  return out;
}

std::string random_uuid() {
  auto b = random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string out;
  char hex[3];
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned char>(b[i]));
    out += hex;
  }
  return out;
}

std::string hash_password(std::string_view password, std::string_view salt) {
  std::string out(32, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), kPbkdf2Iterations, EVP_sha256(),
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return out;
}

Response auth_error(int status, const char* code, const char* message) {
  return json_response(status, {{"code", code}, {"message", message}});
}

std::optional<json> json_object(const Request& request) {
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  return body;
}

std::string string_field(const json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

BetterAuth::BetterAuth(AccountOptions options)
    : options_(std::move(options)),
      key_(kgate::jwt::Ed25519Key::generate(random_id().substr(0, 16))) {}

std::string BetterAuth::new_id() {
  return options_.uuid_ids ? random_uuid() : random_id();
}

json BetterAuth::user_json(const User& user) {
  return {{"id", user.id},
          {"email", user.email},
          {"name", user.name},
          {"emailVerified", false},
          {"image", nullptr},
          {"createdAt", user.created_at},
          {"updatedAt", user.created_at}};
}

std::variant<BetterAuth::User, Response> BetterAuth::create_user(const Request& request) {
  auto body = json_object(request);
  if (!body) return auth_error(400, "INVALID_REQUEST_BODY", "Request body must be a JSON object");
  auto email = to_lower(trim(string_field(*body, "email")));
  auto password = string_field(*body, "password");
  auto name = string_field(*body, "name");
  if (email.find('@') == std::string::npos || email.size() < 3) {
    return auth_error(400, "INVALID_EMAIL", "Invalid email");
  }
  if (password.size() < 8) return auth_error(400, "PASSWORD_TOO_SHORT", "Password too short");
  if (password.size() > 128) return auth_error(400, "PASSWORD_TOO_LONG", "Password too long");

  User user;
  user.id = new_id();
  user.email = email;
  user.name = name;
  user.salt = random_bytes(16);
  user.password_hash = hash_password(password, user.salt);  // outside the lock: it is slow
  user.created_at = now_iso8601();
  {
    std::lock_guard lock(mu_);
    if (users_by_email_.count(email)) {
      return auth_error(422, "USER_ALREADY_EXISTS", "User already exists");
    }
    email_by_id_[user.id] = email;
    users_by_email_[email] = user;
  }
  if (options_.on_created) {
    try {
      options_.on_created(user.id, user.email);
    } catch (...) {
      std::lock_guard lock(mu_);
      email_by_id_.erase(user.id);
      users_by_email_.erase(email);
      throw;
    }
  }
  return user;
}

std::variant<BetterAuth::User, Response> BetterAuth::check_password(const std::string& email,
                                                                    const std::string& password) {
  std::optional<User> user;
  {
    std::lock_guard lock(mu_);
    if (auto it = users_by_email_.find(email); it != users_by_email_.end()) user = it->second;
  }
  // Hash even for unknown users so timing does not reveal which emails exist.
  std::string salt = user ? user->salt : std::string(16, '\0');
  std::string hash = hash_password(password, salt);
  if (!user || CRYPTO_memcmp(hash.data(), user->password_hash.data(), hash.size()) != 0) {
    return auth_error(401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password");
  }
  return *user;
}

Response BetterAuth::sign_up(const Request& request) {
  auto created = create_user(request);
  if (auto* error = std::get_if<Response>(&created)) return std::move(*error);
  return json_response(200, {{"token", nullptr}, {"user", user_json(std::get<User>(created))}});
}

Response BetterAuth::sign_in(const Request& request) {
  auto body = json_object(request);
  if (!body) return auth_error(400, "INVALID_REQUEST_BODY", "Request body must be a JSON object");
  auto checked =
      check_password(to_lower(trim(string_field(*body, "email"))), string_field(*body, "password"));
  if (auto* error = std::get_if<Response>(&checked)) return std::move(*error);
  const User& user = std::get<User>(checked);
  std::string session = kgate::jwt::base64url_encode(random_bytes(32));
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::system_clock::now();
    std::erase_if(sessions_, [&](const auto& s) { return s.second.expires < now; });
    sessions_[session] = Session{user.id, now + kSessionLifetime};
  }
  auto r = json_response(200, {{"redirect", false}, {"user", user_json(user)}});
  r.add_header("Set-Cookie", std::string(kSessionCookie) + "=" + session +
                                 "; HttpOnly; Path=/; SameSite=Lax; Max-Age=" +
                                 std::to_string(std::chrono::seconds(kSessionLifetime).count()));
  return r;
}

Response BetterAuth::register_account(const Request& request) {
  if (options_.strict_email) {
    // pydantic's EmailStr (email-validator) refuses before the handler runs.
    if (auto body = json_object(request)) {
      auto email = string_field(*body, "email");
      if (auto reason = email_refusal(email, true)) {
        ValidationErrors errors;
        errors.add("value_error", json::array({"body", "email"}),
                   "value is not a valid email address: " + *reason, {{"reason", *reason}});
        errors.detail.back()["input"] = email;
        return json_response(422, {{"detail", errors.detail}});
      }
    }
  }
  auto created = create_user(request);
  if (auto* error = std::get_if<Response>(&created)) return std::move(*error);
  const User& user = std::get<User>(created);
  return json_response(201, {{"id", user.id}, {"email", user.email}, {"name", user.name}});
}

Response BetterAuth::login_hs256(const Request& request, std::string_view secret, bool form) {
  std::string email;
  std::string password;
  if (form) {
    // OAuth2PasswordRequestForm: only a form body has fields; anything else misses both.
    auto type = to_lower(request.header("Content-Type").value_or(""));
    bool is_form = type.rfind("application/x-www-form-urlencoded", 0) == 0;
    std::optional<std::string> username, pass;
    if (is_form) {
      username = query_param(request.body, "username");
      pass = query_param(request.body, "password");
    }
    if (!username || !pass) {
      ValidationErrors errors;
      for (auto [name, value] : {std::pair{"username", &username}, std::pair{"password", &pass}}) {
        if (*value) continue;
        errors.add("missing", json::array({"body", name}), "Field required");
        errors.detail.back()["input"] = nullptr;
      }
      return json_response(422, {{"detail", errors.detail}});
    }
    email = to_lower(trim(*username));
    password = *pass;
  } else {
    auto body = json_object(request);
    if (!body) {
      return auth_error(400, "INVALID_REQUEST_BODY", "Request body must be a JSON object");
    }
    email = to_lower(trim(string_field(*body, "email")));
    password = string_field(*body, "password");
  }
  auto checked = check_password(email, password);
  if (auto* error = std::get_if<Response>(&checked)) return std::move(*error);
  const User& user = std::get<User>(checked);
  auto now = std::chrono::system_clock::now();
  auto secs = [](auto tp) {
    return std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
  };
  json payload = {{"sub", user.id},
                  {"email", user.email},
                  {"iat", secs(now)},
                  {"exp", secs(now + kTokenLifetime)}};
  return json_response(200, {{"access_token", kgate::jwt::sign_hs256(payload, secret)},
                             {"token_type", "bearer"},
                             {"user", {{"id", user.id}, {"email", user.email}}}});
}

std::optional<BetterAuth::User> BetterAuth::session_user(const Request& request) {
  auto cookie = cookie_value(request, kSessionCookie);
  if (!cookie) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(*cookie);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires < std::chrono::system_clock::now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  auto email = email_by_id_.find(it->second.user_id);
  if (email == email_by_id_.end()) return std::nullopt;
  return users_by_email_.at(email->second);
}

Response BetterAuth::sign_out(const Request& request) {
  if (auto cookie = cookie_value(request, kSessionCookie)) {
    std::lock_guard lock(mu_);
    sessions_.erase(*cookie);
  }
  auto r = json_response(200, {{"success", true}});
  r.add_header("Set-Cookie",
               std::string(kSessionCookie) + "=; HttpOnly; Path=/; SameSite=Lax; Max-Age=0");
  return r;
}

Response BetterAuth::get_session(const Request& request) {
  auto user = session_user(request);
  if (!user) return json_response(200, nullptr);
  return json_response(200, {{"user", user_json(*user)}, {"session", {{"userId", user->id}}}});
}

Response BetterAuth::token(const Request& request) {
  auto user = session_user(request);
  if (!user) return auth_error(401, "UNAUTHORIZED", "Unauthorized");
  auto now = std::chrono::system_clock::now();
  auto secs = [](auto tp) {
    return std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
  };
  json payload = {{"sub", user->id},
                  {"id", user->id},
                  {"email", user->email},
                  {"name", user->name},
                  {"iss", "todo-app"},
                  {"iat", secs(now)},
                  {"exp", secs(now + kTokenLifetime)}};
  return json_response(200, {{"token", kgate::jwt::sign_eddsa(payload, key_)}});
}

Response BetterAuth::jwks() const {
  return json_response(200, {{"keys", json::array({key_.public_jwk()})}});
}

}  // namespace todo
