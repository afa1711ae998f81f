#include "better_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "storage.hpp"

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

BetterAuth::BetterAuth() : key_(kgate::jwt::Ed25519Key::generate(random_id().substr(0, 16))) {}

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
  user.id = random_id();
  user.email = email;
  user.name = name;
  user.salt = random_bytes(16);
  user.password_hash = hash_password(password, user.salt);  // outside the lock: it is slow
  user.created_at = now_iso8601();
  std::lock_guard lock(mu_);
  if (users_by_email_.count(email)) {
    return auth_error(422, "USER_ALREADY_EXISTS", "User already exists");
  }
  email_by_id_[user.id] = email;
  users_by_email_[email] = user;
  return user;
}

std::variant<BetterAuth::User, Response> BetterAuth::check_password(const Request& request) {
  auto body = json_object(request);
  if (!body) return auth_error(400, "INVALID_REQUEST_BODY", "Request body must be a JSON object");
  auto email = to_lower(trim(string_field(*body, "email")));
  auto password = string_field(*body, "password");
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
  auto checked = check_password(request);
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
  auto created = create_user(request);
  if (auto* error = std::get_if<Response>(&created)) return std::move(*error);
  const User& user = std::get<User>(created);
  return json_response(201, {{"id", user.id}, {"email", user.email}, {"name", user.name}});
}

Response BetterAuth::login_hs256(const Request& request, std::string_view secret) {
  auto checked = check_password(request);
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
