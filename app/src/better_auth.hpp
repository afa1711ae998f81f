#pragma once
// Enough of Better Auth's email/password flow and JWT plugin for kgate to log in for real:
// sign-up, sign-in (session cookie), /token (an EdDSA JWT for the session's user) and /jwks.
// Users and sessions live in memory: the web role is the reference app's stand-in frontend.
// The api role reuses the accounts for its own register/login endpoints (kgate's login mode).
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

#include <kgate/jwt.hpp>

#include "message.hpp"

namespace todo {

inline constexpr const char* kSessionCookie = "better-auth.session_token";

struct AccountOptions {
  bool uuid_ids = false;      // --user-id-format uuid: ids are random UUIDs (v4)
  bool strict_email = false;  // --email-policy strict: register refuses special-use domains
  // Called with each new user's id and e-mail (the users table); a throw undoes the sign-up.
  std::function<void(const std::string& id, const std::string& email)> on_created;
};

class BetterAuth {
 public:
  explicit BetterAuth(AccountOptions options = {});

  Response sign_up(const Request& request);
  Response sign_in(const Request& request);
  Response sign_out(const Request& request);
  Response get_session(const Request& request);
  Response token(const Request& request);
  Response jwks() const;

  // The api role's own accounts, as FastAPI apps with OAuth2 password login serve them:
  // register answers 201 with the user, login an HS256 access token signed with `secret`, from
  // a JSON {email, password} or, with `form`, OAuth2's x-www-form-urlencoded username/password.
  Response register_account(const Request& request);
  Response login_hs256(const Request& request, std::string_view secret, bool form = false);

 private:
  struct User {
    std::string id;
    std::string email;
    std::string name;
    std::string salt;
    std::string password_hash;
    std::string created_at;
  };
  struct Session {
    std::string user_id;
    std::chrono::system_clock::time_point expires;
  };

  // A new user from an {email, password, name} body, or the error response.
  std::variant<User, Response> create_user(const Request& request);
  // The user these credentials name, or 401.
  std::variant<User, Response> check_password(const std::string& email,
                                              const std::string& password);
  // The session's user, if the request carries a live session cookie.
  std::optional<User> session_user(const Request& request);
  static nlohmann::json user_json(const User& user);

  std::string new_id();

  AccountOptions options_;
  kgate::jwt::Ed25519Key key_;
  std::mutex mu_;
  std::map<std::string, User> users_by_email_;
  std::map<std::string, std::string> email_by_id_;
  std::map<std::string, Session> sessions_;
};

}  // namespace todo
