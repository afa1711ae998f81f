#include "service_proxy.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kgate/process.hpp"
#include "kgate/wait.hpp"

namespace kgate::nodeagent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A client socket that closes itself; -1 when not connected.
struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

sockaddr_in loopback(unsigned short port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// Connects to 127.0.0.1:port; returns the socket or -1 with errno set.
Fd connect_to(unsigned short port) {
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto a = loopback(port);
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return Fd();
  return s;
}

void send_all(int fd, const std::string& data) {
  ASSERT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

// Reads until `want` bytes arrived, EOF, an error or the deadline (1.5 s): whatever came.
std::string read_some(int fd, std::size_t want) {
  std::string out;
  const auto deadline = Clock::now() + 1500ms;
  while (out.size() < want) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string read_to_eof(int fd) {
  return read_some(fd, std::string::npos);
}

// True when the peer ended the connection (EOF or reset) within 1.5 s.
bool closed_by_peer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 1500) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, 0) <= 0;
}

// A backend pod: greets each connection with "<name>\n", echoes what it receives, and on the
// client's end of stream answers "<name> saw EOF\n" and closes: the last line only arrives if the
// proxy passed the half-close on and kept the other direction open.
class EchoServer {
 public:
  explicit EchoServer(std::string name) : name_(std::move(name)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto a = loopback(0);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("echo server: cannot listen");
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~EchoServer() {
    stop_ = true;
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    ::close(fd_);
  }
  unsigned short port() const { return port_; }
  Backend backend() const { return {"127.0.0.1", port_}; }
  int accepted() const { return accepted_.load(); }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++accepted_;
      std::lock_guard lock(mutex_);
      conns_.push_back(c);
      workers_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int c) {
    const std::string hello = name_ + "\n";
    ::send(c, hello.data(), hello.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n < 0) break;
      if (n == 0) {
        const std::string bye = name_ + " saw EOF\n";
        ::send(c, bye.data(), bye.size(), MSG_NOSIGNAL);
        break;
      }
      ::send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
    }
    ::shutdown(c, SHUT_RDWR);
    std::lock_guard lock(mutex_);
    std::erase(conns_, c);
    ::close(c);
  }

  std::string name_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

class ServiceProxyTest : public ::testing::Test {
 protected:
  ServiceRoute route(std::vector<Backend> backends) const {
    return {"test/svc:http", "127.0.0.1", port_, std::move(backends)};
  }
  // The greeting names the backend that took the connection.
  std::string backend_of(const Fd& client) const { return read_some(client.fd, 2); }

  EchoServer a_{"A"};
  EchoServer b_{"B"};
  unsigned short port_ = free_loopback_port();
  std::unique_ptr<ServiceProxy> proxy_ = std::make_unique<ServiceProxy>();
};

TEST_F(ServiceProxyTest, ForwardsRoundRobin) {
  proxy_->update({route({a_.backend(), b_.backend()})});
  EXPECT_EQ(proxy_->listener_count(), 1u);
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    Fd c = connect_to(port_);
    ASSERT_GE(c.fd, 0) << std::strerror(errno);
    seen.push_back(backend_of(c));
    send_all(c.fd, "ping" + std::to_string(i));
    EXPECT_EQ(read_some(c.fd, 5), "ping" + std::to_string(i));
  }
  EXPECT_NE(seen[0], seen[1]);
  EXPECT_EQ(seen[0], seen[2]);
  EXPECT_EQ(seen[1], seen[3]);
  EXPECT_TRUE(proxy_->errors().empty());
}

TEST_F(ServiceProxyTest, HalfCloseIsPassedOn) {
  proxy_->update({route({a_.backend()})});
  Fd c = connect_to(port_);
  ASSERT_GE(c.fd, 0);
  send_all(c.fd, "hello");
  ASSERT_EQ(::shutdown(c.fd, SHUT_WR), 0);
  // The backend saw our EOF and could still answer through the proxy.
  EXPECT_EQ(read_to_eof(c.fd), "A\nhelloA saw EOF\n");
}

TEST_F(ServiceProxyTest, CountsActiveConnections) {
  proxy_->update({route({a_.backend()})});
  {
    Fd c = connect_to(port_);
    ASSERT_EQ(backend_of(c), "A\n");
    EXPECT_EQ(proxy_->active_connections(), 1u);
  }
  auto r = wait_until([&](std::string*) { return proxy_->active_connections() == 0; }, 1500ms, 5ms);
  EXPECT_TRUE(r.ok);
}

TEST_F(ServiceProxyTest, UpdateSwapsBackendsAndKeepsOpenConnections) {
  proxy_->update({route({a_.backend()})});
  Fd old_conn = connect_to(port_);
  ASSERT_EQ(backend_of(old_conn), "A\n");

  proxy_->update({route({b_.backend()})});
  EXPECT_EQ(proxy_->listener_count(), 1u);
  for (int i = 0; i < 2; ++i) {
    Fd c = connect_to(port_);
    EXPECT_EQ(backend_of(c), "B\n");
  }
  // The connection opened before the swap stays on A.
  send_all(old_conn.fd, "still");
  EXPECT_EQ(read_some(old_conn.fd, 5), "still");
  // Only it is left once the proxy has seen the two others close.
  auto r = wait_until([&](std::string*) { return proxy_->active_connections() == 1; }, 1500ms, 5ms);
  EXPECT_TRUE(r.ok) << proxy_->active_connections();
}

TEST_F(ServiceProxyTest, RemovingTheRouteClosesTheListener) {
  proxy_->update({route({a_.backend()})});
  Fd open_conn = connect_to(port_);
  ASSERT_EQ(backend_of(open_conn), "A\n");

  proxy_->update({});
  EXPECT_EQ(proxy_->listener_count(), 0u);
  Fd refused = connect_to(port_);
  EXPECT_LT(refused.fd, 0);
  EXPECT_EQ(errno, ECONNREFUSED);
  // As with kube-proxy, an established connection outlives its Service.
  send_all(open_conn.fd, "ok");
  EXPECT_EQ(read_some(open_conn.fd, 2), "ok");

  // And the route can come back on the same address.
  proxy_->update({route({b_.backend()})});
  Fd again = connect_to(port_);
  ASSERT_GE(again.fd, 0);
  EXPECT_EQ(backend_of(again), "B\n");
}

TEST_F(ServiceProxyTest, NoBackendsClosesAtOnce) {
  proxy_->update({route({})});
  Fd c = connect_to(port_);
  ASSERT_GE(c.fd, 0);
  const auto start = Clock::now();
  EXPECT_TRUE(closed_by_peer(c.fd));
  EXPECT_LT(Clock::now() - start, 500ms);
}

TEST_F(ServiceProxyTest, DeadBackendIsSkipped) {
  const Backend dead{"127.0.0.1", free_loopback_port()};
  proxy_->update({route({dead, a_.backend()})});
  for (int i = 0; i < 3; ++i) {
    Fd c = connect_to(port_);
    ASSERT_GE(c.fd, 0);
    EXPECT_EQ(backend_of(c), "A\n");
  }
  EXPECT_EQ(a_.accepted(), 3);
}

TEST_F(ServiceProxyTest, AllBackendsDeadClosesAndReports) {
  const Backend dead{"127.0.0.1", free_loopback_port()};
  proxy_->update({route({dead})});
  Fd c = connect_to(port_);
  ASSERT_GE(c.fd, 0);
  EXPECT_TRUE(closed_by_peer(c.fd));
  std::vector<std::string> errors;
  auto r = wait_until(
      [&](std::string*) {
        for (auto& e : proxy_->errors()) errors.push_back(e);
        return !errors.empty();
      },
      1500ms, 5ms);
  ASSERT_TRUE(r.ok);
  EXPECT_NE(errors[0].find("test/svc:http"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find(std::to_string(dead.port)), std::string::npos) << errors[0];
  EXPECT_TRUE(proxy_->errors().empty());  // drained
}

TEST_F(ServiceProxyTest, BindFailureIsReportedAndRetried) {
  // Taken by someone else: the listener cannot bind.
  EchoServer squatter("S");
  ServiceRoute taken{"test/taken:80", "127.0.0.1", squatter.port(), {a_.backend()}};
  proxy_->update({taken, route({a_.backend()})});
  EXPECT_EQ(proxy_->listener_count(), 1u);
  auto errors = proxy_->errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("test/taken:80"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("cannot listen"), std::string::npos) << errors[0];
  proxy_->update({taken, route({a_.backend()})});
  EXPECT_EQ(proxy_->errors().size(), 1u);  // tried again

  ServiceRoute bad_ip{"test/bad:80", "not-an-ip", 80, {}};
  proxy_->update({bad_ip});
  errors = proxy_->errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("not-an-ip"), std::string::npos) << errors[0];
}

TEST_F(ServiceProxyTest, DestructorClosesOpenConnectionsPromptly) {
  proxy_->update({route({a_.backend(), b_.backend()})});
  Fd c1 = connect_to(port_);
  Fd c2 = connect_to(port_);
  ASSERT_EQ(backend_of(c1).size(), 2u);
  ASSERT_EQ(backend_of(c2).size(), 2u);
  Fd idle = connect_to(port_);  // accepted, may still be connecting to its backend
  const auto start = Clock::now();
  proxy_.reset();
  EXPECT_LT(Clock::now() - start, 500ms);
  EXPECT_TRUE(closed_by_peer(c1.fd));
  EXPECT_TRUE(closed_by_peer(c2.fd));
  Fd refused = connect_to(port_);
  EXPECT_LT(refused.fd, 0);
}

}  // namespace
}  // namespace kgate::nodeagent
