#pragma once
// Convenience over kgate::http::Client for tests: relative paths, bearer token, JSON bodies,
// and a raw TCP connection for what a client library hides (partial requests, pipelining).
#include <chrono>
#include <optional>
#include <string>

#include <kgate/http.hpp>
#include <nlohmann/json.hpp>

namespace kgate::testfw {

class ApiClient {
 public:
  explicit ApiClient(std::string base_url, std::string token = {},
                     kgate::http::ClientOptions options = {});

  void set_token(std::string token) { token_ = std::move(token); }
  const std::string& token() const { return token_; }

  kgate::http::Response get(const std::string& path, kgate::http::Headers headers = {});
  kgate::http::Response del(const std::string& path, kgate::http::Headers headers = {});
  kgate::http::Response post(const std::string& path, const nlohmann::json& body,
                             kgate::http::Headers headers = {});
  kgate::http::Response put(const std::string& path, const nlohmann::json& body,
                            kgate::http::Headers headers = {});
  kgate::http::Response patch(const std::string& path, kgate::http::Headers headers = {});
  // Any method with a raw body (sent as application/json when non-empty and no Content-Type).
  kgate::http::Response send(const std::string& method, const std::string& path,
                             std::string body = {}, kgate::http::Headers headers = {});

 private:
  std::string base_;
  std::string token_;
  kgate::http::Client client_;
};

// Parses a response body as JSON; throws std::runtime_error quoting status and body otherwise.
nlohmann::json json_body(const kgate::http::Response& response);

// A plain TCP connection to 127.0.0.1:port.
class RawConnection {
 public:
  explicit RawConnection(unsigned short port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(const std::string& bytes);
  // Reads one HTTP response (headers + Content-Length body). nullopt on timeout or close.
  std::optional<std::string> read_response(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the peer closed the connection within timeout (EOF or reset).
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  // Reads more into buffer_; false on timeout/EOF/error.
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
};

// Status code of a raw response ("HTTP/1.1 503 ..."), or 0.
int raw_status(const std::string& response);

}  // namespace kgate::testfw
