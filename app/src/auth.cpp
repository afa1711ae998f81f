#include "auth.hpp"

#include <spdlog/spdlog.h>
#include <kgate/http.hpp>

namespace todo {

using nlohmann::json;

namespace {

bool has_kid(const json& jwks, const std::string& kid) {
  if (!jwks.contains("keys") || !jwks["keys"].is_array()) return false;
  for (const auto& key : jwks["keys"]) {
    if (kid.empty() || (key.contains("kid") && key["kid"] == kid)) return true;
  }
  return false;
}

std::string claim_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  return {};
}

}  // namespace

TokenVerifier::TokenVerifier(AuthOptions options) : options_(std::move(options)) {
  auto base = std::make_shared<kgate::jwt::VerifyOptions>();
  base->hs256_secret = options_.hs256_secret;
  base->allow_alg_none = options_.allow_alg_none;
  // No-expiry-check: a leeway of ten years makes exp and nbf meaningless.
  if (options_.ignore_time) base->leeway = std::chrono::hours(24 * 365 * 10);
  current_.store(std::move(base));
}

std::shared_ptr<const kgate::jwt::VerifyOptions> TokenVerifier::snapshot() const {
  return current_.load();
}

void TokenVerifier::refresh_keys_for(const std::string& kid) {
  std::lock_guard lock(fetch_mu_);
  if (has_kid(snapshot()->jwks, kid)) return;  // another thread fetched it meanwhile
  auto now = std::chrono::steady_clock::now();
  // Unknown kids from forged tokens must not turn into a request storm against the issuer.
  if (fetched_ && now - last_fetch_ < std::chrono::seconds(2)) return;
  last_fetch_ = now;
  try {
    kgate::http::ClientOptions client_options;
    client_options.connect_timeout = std::chrono::milliseconds(2000);
    client_options.request_timeout = std::chrono::milliseconds(5000);
    kgate::http::Client client(client_options);
    kgate::http::Request request;
    request.url = options_.jwks_url;
    auto response = client.send(request);
    if (response.status != 200) {
      spdlog::warn("JWKS fetch from {} answered {}", options_.jwks_url, response.status);
      return;
    }
    auto jwks = json::parse(response.body);
    if (!jwks.contains("keys") || !jwks["keys"].is_array()) {
      spdlog::warn("JWKS from {} has no keys array", options_.jwks_url);
      return;
    }
    auto next = std::make_shared<kgate::jwt::VerifyOptions>(*snapshot());
    next->jwks = std::move(jwks);
    current_.store(std::move(next));
    fetched_ = true;
    spdlog::info("loaded {} signing key(s) from {}", snapshot()->jwks["keys"].size(),
                 options_.jwks_url);
  } catch (const std::exception& e) {
    spdlog::warn("JWKS fetch from {} failed: {}", options_.jwks_url, e.what());
  }
}

AuthResult TokenVerifier::verify(std::string_view token) {
  AuthResult result;
  if (!options_.jwks_url.empty()) {
    try {
      auto decoded = kgate::jwt::decode(token);
      if (decoded.header.value("alg", "") == "EdDSA") {
        std::string kid = decoded.header.value("kid", "");
        if (!has_kid(snapshot()->jwks, kid)) refresh_keys_for(kid);
      }
    } catch (const std::exception&) {
      // Malformed: jwt::verify below says why.
    }
  }
  auto options = snapshot();
  kgate::jwt::Verified verified;
  if (options_.skip_signature) {
    // The fault: decode and trust whatever the payload says, as apps that call
    // jwt.decode(token, options={"verify_signature": False}) do.
    try {
      verified.payload = kgate::jwt::decode(token).payload;
      verified.ok = verified.payload.is_object();
    } catch (const std::exception& e) {
      verified.error = e.what();
    }
  } else {
    verified = kgate::jwt::verify(token, *options);
    for (const auto& fallback : options_.fallback_hs256_secrets) {
      if (verified.ok) break;
      auto with_fallback = *options;
      with_fallback.hs256_secret = fallback;
      if (auto second = kgate::jwt::verify(token, with_fallback); second.ok) verified = second;
    }
  }
  if (!verified.ok) {
    result.error = verified.error;
    return result;
  }
  const auto& payload = verified.payload;
  for (const char* claim : {"sub", "id", "user_id"}) {
    if (payload.contains(claim)) {
      result.user_id = claim_text(payload[claim]);
      if (!result.user_id.empty()) break;
    }
  }
  if (result.user_id.empty()) {
    result.error = "token has no subject";
    return result;
  }
  result.payload = payload;
  result.ok = true;
  return result;
}

}  // namespace todo
