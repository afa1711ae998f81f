#include "test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace kgate::test {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Byte I/O over a plain fd or an SSL session.
struct Channel {
  int fd;
  SSL* ssl;
  long read(char* buf, std::size_t n) {
    return ssl ? SSL_read(ssl, buf, static_cast<int>(n)) : ::recv(fd, buf, n, 0);
  }
  bool write_all(std::string_view data) {
    while (!data.empty()) {
      long n = ssl ? SSL_write(ssl, data.data(), static_cast<int>(data.size()))
                   : ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
};

}  // namespace

std::string RawRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return v;
  }
  return {};
}

Reply TestServer::ok(std::string body, std::string extra_headers) {
  Reply r;
  r.raw = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
          extra_headers + "\r\n" + body;
  return r;
}

Reply TestServer::raw(std::string bytes, bool close_after) {
  Reply r;
  r.raw = std::move(bytes);
  r.close_after = close_after;
  return r;
}

Reply TestServer::hang() {
  Reply r;
  r.hang = true;
  return r;
}

TestServer::TestServer(Handler handler, SSL_CTX* ssl_ctx)
    : handler_(std::move(handler)), ssl_ctx_(ssl_ctx) {
  // SSL_write goes straight to the socket: a client that hung up must not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("test server: cannot listen");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestServer::~TestServer() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
  for (int fd : conn_fds_) ::close(fd);
  ::close(listen_fd_);
}

std::string TestServer::url(std::string_view path) const {
  return std::string(ssl_ctx_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
         std::string(path);
}

void TestServer::accept_loop() {
  while (!stop_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stop_) return;
      continue;
    }
    const int connection = ++connections_;
    std::lock_guard lock(mutex_);
    conn_fds_.push_back(fd);
    workers_.emplace_back([this, fd, connection] { serve(fd, connection); });
  }
}

void TestServer::serve(int fd, int connection) {
  SSL* ssl = nullptr;
  if (ssl_ctx_) {
    ssl = SSL_new(ssl_ctx_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      SSL_free(ssl);
      ::shutdown(fd, SHUT_RDWR);
      ++closed_;
      return;  // the destructor closes the fd
    }
  }
  Channel ch{fd, ssl};
  std::string buf;
  char chunk[8192];
  bool open = true;
  int on_connection = 0;
  while (open && !stop_) {
    // Read one request: headers, then Content-Length bytes of body.
    std::size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
      long n = ch.read(chunk, sizeof chunk);
      if (n <= 0) {
        open = false;
        break;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
      if (!ssl && buf[0] == '\x16') {
        // A TLS ClientHello on the plain port: answer as a real HTTP server would.
        ch.write_all("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        open = false;
        break;
      }
    }
    if (!open) break;
    RawRequest req;
    req.connection = connection;
    req.on_connection = ++on_connection;
    std::string head = buf.substr(0, header_end);
    buf.erase(0, header_end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    auto sp1 = first.find(' ');
    auto sp2 = first.find(' ', sp1 + 1);
    req.method = first.substr(0, sp1);
    req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        req.headers.emplace_back(line.substr(0, colon), value);
      }
      pos = end + 2;
    }
    std::size_t length = 0;
    if (auto cl = req.header("Content-Length"); !cl.empty()) length = std::stoul(cl);
    while (buf.size() < length) {
      long n = ch.read(chunk, sizeof chunk);
      if (n <= 0) {
        open = false;
        break;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
    }
    if (!open) break;
    req.body = buf.substr(0, length);
    buf.erase(0, length);
    ++requests_;

    Reply reply = handler_(req);
    if (reply.hang) {
      // Hold the connection without answering until the server stops.
      while (!stop_) {
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, 20);
        if (p.revents & (POLLHUP | POLLERR)) break;
        if (p.revents & POLLIN) {
          char c;
          if (::recv(fd, &c, 1, MSG_PEEK) <= 0) break;
        }
      }
      break;
    }
    if (!ch.write_all(reply.raw)) break;
    if (reply.close_after) break;
  }
  if (ssl) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  ::shutdown(fd, SHUT_RDWR);
  ++closed_;
}

}  // namespace kgate::test
