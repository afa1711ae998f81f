#include "framework/jwt_helpers.hpp"

#include <stdexcept>

namespace kgate::testfw {

namespace {

long long epoch_seconds(std::chrono::system_clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
}

}  // namespace

std::string sign_hs256(const std::string& sub, const std::string& secret, std::chrono::seconds ttl,
                       const nlohmann::json& extra_claims) {
  auto now = std::chrono::system_clock::now();
  nlohmann::json payload = {
      {"sub", sub}, {"iat", epoch_seconds(now)}, {"exp", epoch_seconds(now + ttl)}};
  for (const auto& [k, v] : extra_claims.items()) payload[k] = v;
  return kgate::jwt::sign_hs256(payload, secret);
}

std::string expired_token(const std::string& sub, const std::string& secret) {
  return sign_hs256(
      sub, secret, -std::chrono::hours(1),
      {{"iat", epoch_seconds(std::chrono::system_clock::now() - std::chrono::hours(2))}});
}

std::string not_yet_valid_token(const std::string& sub, const std::string& secret) {
  return sign_hs256(
      sub, secret, std::chrono::hours(2),
      {{"nbf", epoch_seconds(std::chrono::system_clock::now() + std::chrono::hours(1))}});
}

std::string alg_none_token(const std::string& sub) {
  auto now = std::chrono::system_clock::now();
  nlohmann::json header = {{"alg", "none"}, {"typ", "JWT"}};
  nlohmann::json payload = {{"sub", sub}, {"exp", epoch_seconds(now + std::chrono::hours(1))}};
  return kgate::jwt::base64url_encode(header.dump()) + "." +
         kgate::jwt::base64url_encode(payload.dump()) + ".";
}

std::string tampered_token(const std::string& token, const std::string& new_sub) {
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) {
    throw std::invalid_argument("not a JWT");
  }
  auto payload = nlohmann::json::parse(
      kgate::jwt::base64url_decode(token.substr(first + 1, second - first - 1)));
  payload["sub"] = new_sub;
  return token.substr(0, first + 1) + kgate::jwt::base64url_encode(payload.dump()) +
         token.substr(second);
}

}  // namespace kgate::testfw
