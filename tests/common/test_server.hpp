#pragma once
// A tiny blocking HTTP/1.1 server for the client tests: plain sockets, optionally TLS through
// OpenSSL, one thread per connection. It counts connections so keep-alive can be checked.
#include <openssl/ssl.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kgate::test {

struct RawRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0;     // which connection it came on: 1 for the server's first, 2, ...
  int on_connection = 0;  // its place on that connection: 1 for the first request, 2, ...
  std::string header(std::string_view name) const;
};

struct Reply {
  std::string raw;           // bytes to send; empty with hang: send nothing
  bool hang = false;         // never answer (until the server stops)
  bool close_after = false;  // close the connection after sending
};

class TestServer {
 public:
  using Handler = std::function<Reply(const RawRequest&)>;
  // ssl_ctx: when non-null the server speaks TLS (it does not take ownership).
  explicit TestServer(Handler handler, SSL_CTX* ssl_ctx = nullptr);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  unsigned short port() const { return port_; }
  std::string url(std::string_view path = "/") const;
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  // Connections the server has closed (shut down) on its side, for tests that wait for a close.
  int closed() const { return closed_.load(); }

  static Reply ok(std::string body, std::string extra_headers = "");
  static Reply raw(std::string bytes, bool close_after = false);
  static Reply hang();

 private:
  void accept_loop();
  void serve(int fd, int connection);

  Handler handler_;
  SSL_CTX* ssl_ctx_;
  int listen_fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> closed_{0};
  std::mutex mutex_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace kgate::test
