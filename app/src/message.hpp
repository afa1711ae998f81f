#pragma once
// Plain request/response structs between the Beast server and the routers, so that only
// server.cpp pays for Beast's compile time.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace todo {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);

struct Request {
  std::string method;  // as received, e.g. "GET"
  std::string target;  // path + query as received
  std::string path;    // target without the query, still percent-encoded
  std::string query;   // after '?', still percent-encoded
  HeaderList headers;
  std::string body;
  std::string remote;           // peer address, for logs
  bool body_too_large = false;  // the server stopped reading: answer 413

  std::optional<std::string_view> header(std::string_view name) const;
  // HEAD is routed like GET; the server drops the body.
  bool is(std::string_view m) const { return method == m || (m == "GET" && method == "HEAD"); }
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;
  // The server waits this long before writing (the `slow` fault), without blocking a thread.
  std::chrono::milliseconds delay{0};

  std::optional<std::string_view> header(std::string_view name) const;
  void set_header(std::string_view name, std::string value);  // replaces
  void add_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  void remove_header(std::string_view name);
};

Response json_response(int status, const nlohmann::json& body);
// FastAPI's error shape: {"detail": "..."}.
Response detail_response(int status, std::string_view detail);

// Set by the server when SIGTERM arrives; read by /ready.
struct Lifecycle {
  std::atomic<bool> draining{false};
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Must not throw: failures become 5xx responses.
  virtual Response handle(const Request& request) = 0;
  // True when handling may block for long (forwarding to a backend): the server then runs it
  // on a worker pool instead of an I/O thread.
  virtual bool blocking(const Request& /*request*/) const { return false; }
};

// Percent-decoding; '+' stays '+' in paths and becomes ' ' in query values.
std::string percent_decode(std::string_view s, bool plus_is_space = false);
// Decoded path segments, without empty leading/trailing ones ("/api/u/tasks/" -> api,u,tasks).
std::vector<std::string> split_path(std::string_view path);
// First value of a query parameter, decoded. Also reads application/x-www-form-urlencoded
// bodies, which have the same syntax.
std::optional<std::string> query_param(std::string_view query, std::string_view name);
// Bearer token from Authorization, if any.
std::optional<std::string> bearer_token(const Request& request);
// Cookie value by name, if any.
std::optional<std::string> cookie_value(const Request& request, std::string_view name);

}  // namespace todo
