#pragma once
// What every response gets on its way out, in one place: security headers, the Server header,
// CORS, and the faults that act on all responses (slow, errors-5xx, leaky-errors, ...).
#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "faults.hpp"
#include "message.hpp"

namespace todo {

enum class ResponseKind {
  Api,      // JSON from this process
  Page,     // the web role's HTML page
  Proxied,  // forwarded from the backend: keep its headers, fill in what is missing
};

class Policy {
 public:
  Policy(Faults faults, std::vector<std::string> cors_origins);

  const Faults& faults() const { return faults_; }
  bool has(Fault f) const { return faults_.has(f); }

  // A CORS preflight's answer, or nullopt when the request is not a preflight.
  std::optional<Response> preflight(const Request& request) const;
  // Adds the outgoing headers (and the leaky-errors body) to a finished response.
  void finish(const Request& request, Response& response, ResponseKind kind) const;
  // The errors-5xx fault's dice roll for an API request.
  bool inject_error(const Request& request) const;
  // The rate-limit fault's 429 for this request, if it is one of the limited calls.
  std::optional<Response> rate_limit(const Request& request) const;
  // The slow fault's delay for this request (zero when not slow).
  std::chrono::milliseconds delay_for(const Request& request) const;

 private:
  bool origin_allowed(std::string_view origin) const;

  Faults faults_;
  std::vector<std::string> cors_origins_;
  mutable std::atomic<unsigned> chat_calls_{0};
};

// "/api/..." except the health endpoints: what the slow and errors-5xx faults act on.
bool is_api_request(std::string_view path);
// Comma-separated origins from CORS_ORIGINS.
std::vector<std::string> parse_origin_list(std::string_view text);

}  // namespace todo
