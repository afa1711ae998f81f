#include "published_secrets.hpp"

namespace kgate::security {

// Kept short on purpose: values copied from public documentation and examples, each one seen
// in apps of the kind kgate guards (FastAPI backends, Next.js/Better Auth frontends).
const std::vector<PublishedSecret>& published_secrets() {
  static const std::vector<PublishedSecret> list{
      {"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
       "the FastAPI documentation's OAuth2/JWT tutorial (SECRET_KEY)"},
      {"your-256-bit-secret", "jwt.io's debugger default for HS256"},
      {"secret", "countless tutorials and .env examples"},
      {"shhhhh", "the node jsonwebtoken README"},
      {"keyboard cat", "the express-session README"},
      {"dev", "the Flask tutorial (SECRET_KEY='dev')"},
      {"super-secret-jwt-token-with-at-least-32-characters-long",
       "the Supabase CLI's local development JWT secret"},
      {"your-secret-key", "a common .env.example placeholder"},
      {"your_secret_key", "a common .env.example placeholder"},
      {"your-secret-key-here", "a common .env.example placeholder"},
      {"your_jwt_secret", "a common .env.example placeholder"},
      {"your-jwt-secret", "a common .env.example placeholder"},
      {"jwt-secret", "a common .env.example placeholder"},
      {"jwt_secret", "a common .env.example placeholder"},
      {"JWT_SECRET", "a placeholder that repeats the variable's name"},
      {"SECRET_KEY", "a placeholder that repeats the variable's name"},
      {"BETTER_AUTH_SECRET", "a placeholder that repeats the variable's name"},
      {"secret_key", "a common .env.example placeholder"},
      {"secretkey", "a common .env.example placeholder"},
      {"mysecret", "a common tutorial value"},
      {"my-secret", "a common tutorial value"},
      {"my_secret_key", "a common tutorial value"},
      {"mysecretkey", "a common tutorial value"},
      {"supersecret", "a common tutorial value"},
      {"super-secret", "a common tutorial value"},
      {"supersecretkey", "a common tutorial value"},
      {"changeme", "a common placeholder"},
      {"change-me", "a common placeholder"},
      {"change_me", "a common placeholder"},
      {"CHANGE_ME", "a common placeholder"},
      {"replace-me", "a common placeholder"},
      {"please-change-me", "a common placeholder"},
      {"development", "a common development default"},
      {"test", "a common test default"},
      {"testing", "a common test default"},
      {"password", "a common default"},
      {"123456", "a common default"},
      {"s3cr3t", "a common tutorial value"},
      {"", "an empty key (an unset variable read as \"\")"},
  };
  return list;
}

}  // namespace kgate::security
