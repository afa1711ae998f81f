#pragma once
// A blocking HTTP/1.1 client with hard deadlines, for checks and tools. Beast lives in the .cpp
// only: including this header costs nothing. Connections are kept alive per origin.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kgate::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup; nullopt when absent.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);

struct Request {
  std::string method = "GET";
  std::string url;  // absolute http:// or https:// URL
  Headers headers;
  std::string body;
};

struct Response {
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;
  std::chrono::microseconds elapsed{0};  // from first byte written to last byte read
  std::optional<std::string> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

enum class ErrorKind { Resolve, Connect, Timeout, Tls, Protocol, Interrupted };
const char* to_string(ErrorKind kind);

// A transport failure: the request got no HTTP answer. what() names the URL and the cause.
class TransportError : public std::runtime_error {
 public:
  TransportError(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{10000};  // whole exchange after connect
  bool verify_tls = true;                            // certificate chain + host name
  std::string ca_file;                               // extra CA bundle (PEM); empty: system store
  std::string ca_pem;                                // CA bundle as PEM text
  std::string client_cert_pem;                       // optional client certificate (PEM)
  std::string client_key_pem;                        // and its key
  std::string server_name;                           // overrides SNI/host check when set
  std::size_t max_body_bytes = 64u << 20;
  bool keep_alive = true;
  std::string user_agent = "kgate";
};

// Called often while a request waits; returning true aborts it with ErrorKind::Interrupted.
using InterruptCheck = bool (*)();
void set_interrupt_check(InterruptCheck check);
// The check above, for other blocking helpers (wait_until) that should give up too.
bool interrupt_requested();
// While one lives on a thread, that thread's requests ignore the interrupt check: undoing what
// a run changed (a scaled Deployment) must still happen after Ctrl-C. Each request keeps its
// own timeouts, so a shielded call stays bounded.
class InterruptShield {
 public:
  InterruptShield();
  ~InterruptShield();
  InterruptShield(const InterruptShield&) = delete;
  InterruptShield& operator=(const InterruptShield&) = delete;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request and reads the whole answer. Throws TransportError on failure; an HTTP
  // error status is a normal Response. A kept-alive connection the server has closed while idle
  // is replaced before anything is written; one that closes without an answer as the request
  // goes out is retried once for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE) only.
  Response send(const Request& request);

  // For long answers read as they arrive (a Kubernetes watch, a log follow): the body of a 2xx
  // answer goes to on_body chunk by chunk and is not kept; on_body returning false ends the read.
  // While no bytes arrive on_body is called with an empty chunk every 200 ms, so that a caller
  // on another thread's request can stop a quiet stream promptly.
  // Other statuses are read whole into Response::body. The request timeout bounds the time to
  // the response header; after it, idle_timeout bounds each wait for more bytes. The connection
  // is not reused afterwards.
  Response stream(const Request& request, const std::function<bool(std::string_view)>& on_body,
                  std::chrono::milliseconds idle_timeout);

  const ClientOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kgate::http
