// Probes and lifecycle hooks against real servers on loopback and real processes: each kind
// passes when kubelet's would and fails when kubelet's would, and none passes without running.
#include "handlers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace kgate::nodeagent {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A one-answer-per-connection HTTP server on 127.0.0.1 that replies with a fixed status and
// records each request's head.
class StatusServer {
 public:
  explicit StatusServer(int status) : status_(status) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(a.sin_port);
    if (::pipe2(stop_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    thread_ = std::thread([this] { serve(); });
  }
  ~StatusServer() {
    [[maybe_unused]] auto n = ::write(stop_[1], "x", 1);
    thread_.join();
    ::close(fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  int port() const { return port_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      ::poll(p, 2, -1);
      if (p[1].revents) return;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string head;
      char buf[1024];
      while (head.find("\r\n\r\n") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 5000) <= 0) break;
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(head);
      }
      const std::string answer = "HTTP/1.1 " + std::to_string(status_) +
                                 " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      [[maybe_unused]] auto n = ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int status_;
  int fd_ = -1, port_ = 0;
  int stop_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> requests_;
};

HandlerContext loopback(const json& container = json::object()) {
  HandlerContext ctx;
  ctx.pod_ip = "127.0.0.1";
  ctx.container = container;
  return ctx;
}

TEST(Handlers, HttpGetProbePassesOn2xxAnd3xxOnly) {
  for (int status : {200, 204, 302, 399}) {
    StatusServer server(status);
    auto r = run_handler({{"httpGet", {{"path", "/ready"}, {"port", server.port()}}}}, loopback(),
                         Clock::now() + 5s, HandlerUse::Probe);
    EXPECT_TRUE(r.ok) << status << ": " << r.message;
  }
  for (int status : {400, 404, 500, 503}) {
    StatusServer server(status);
    auto r = run_handler({{"httpGet", {{"path", "/ready"}, {"port", server.port()}}}}, loopback(),
                         Clock::now() + 5s, HandlerUse::Probe);
    EXPECT_FALSE(r.ok) << status;
    EXPECT_EQ(r.message, "HTTP probe failed with statuscode: " + std::to_string(status));
  }
}

TEST(Handlers, HttpGetSendsPathHeadersAndResolvesNamedPorts) {
  StatusServer server(200);
  const json container = {{"ports", {{{"name", "http"}, {"containerPort", server.port()}}}}};
  auto r = run_handler({{"httpGet",
                         {{"path", "/health?x=1"},
                          {"port", "http"},
                          {"httpHeaders", {{{"name", "X-Probe"}, {"value", "yes"}}}}}}},
                       loopback(container), Clock::now() + 5s, HandlerUse::Probe);
  ASSERT_TRUE(r.ok) << r.message;
  ASSERT_EQ(server.requests().size(), 1u);
  const std::string head = server.requests()[0];
  EXPECT_EQ(head.rfind("GET /health?x=1 HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("X-Probe: yes"), std::string::npos) << head;
  EXPECT_NE(head.find("kube-probe/"), std::string::npos) << head;
}

TEST(Handlers, HookHttpGetPassesOnAnyAnswerButNotOnNone) {
  StatusServer server(500);
  EXPECT_TRUE(run_handler({{"httpGet", {{"path", "/drain"}, {"port", server.port()}}}}, loopback(),
                          Clock::now() + 5s, HandlerUse::Hook)
                  .ok);
  const int closed = StatusServer(200).port();  // a port nothing listens on any more
  auto r = run_handler({{"httpGet", {{"path", "/drain"}, {"port", closed}}}}, loopback(),
                       Clock::now() + 5s, HandlerUse::Hook);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.message.empty());
}

TEST(Handlers, TcpSocketProbeConnectsAndIsNoHook) {
  StatusServer server(200);
  EXPECT_TRUE(run_handler({{"tcpSocket", {{"port", server.port()}}}}, loopback(), Clock::now() + 5s,
                          HandlerUse::Probe)
                  .ok);
  const int closed = StatusServer(200).port();
  EXPECT_FALSE(run_handler({{"tcpSocket", {{"port", closed}}}}, loopback(), Clock::now() + 5s,
                           HandlerUse::Probe)
                   .ok);
  auto r = run_handler({{"tcpSocket", {{"port", server.port()}}}}, loopback(), Clock::now() + 5s,
                       HandlerUse::Hook);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("not supported as a lifecycle handler"), std::string::npos);
}

TEST(Handlers, ExecUsesTheCommandsExitCode) {
  auto ctx = loopback();
  std::vector<std::string> seen;
  ctx.exec = [&](const std::vector<std::string>& cmd, Clock::time_point) {
    seen = cmd;
    ExecResult r;
    r.exit_code = cmd.back() == "ok" ? 0 : 1;
    r.ok = r.exit_code == 0;
    r.message = r.ok ? "" : "command exited with 1";
    return r;
  };
  EXPECT_TRUE(run_handler({{"exec", {{"command", {"check", "ok"}}}}}, ctx, Clock::now() + 5s,
                          HandlerUse::Probe)
                  .ok);
  EXPECT_EQ(seen, (std::vector<std::string>{"check", "ok"}));
  auto r = run_handler({{"exec", {{"command", {"check", "bad"}}}}}, ctx, Clock::now() + 5s,
                       HandlerUse::Probe);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "command exited with 1");
  // Without a running container to exec into, it fails: never a silent pass.
  EXPECT_FALSE(run_handler({{"exec", {{"command", {"true"}}}}}, loopback(), Clock::now() + 5s,
                           HandlerUse::Probe)
                   .ok);
}

TEST(Handlers, SleepHookWaitsItsSecondsButNotPastTheDeadline) {
  auto start = Clock::now();
  auto r =
      run_handler({{"sleep", {{"seconds", 1}}}}, loopback(), Clock::now() + 10s, HandlerUse::Hook);
  EXPECT_TRUE(r.ok);
  EXPECT_GE(Clock::now() - start, 1s);
  EXPECT_TRUE(r.message.empty());

  start = Clock::now();
  r = run_handler({{"sleep", {{"seconds", 30}}}}, loopback(), Clock::now() + 300ms,
                  HandlerUse::Hook);
  EXPECT_TRUE(r.ok);
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_EQ(r.message, "sleep cut short by the grace period");

  std::atomic<bool> abort{true};
  auto ctx = loopback();
  ctx.abort = &abort;
  start = Clock::now();
  run_handler({{"sleep", {{"seconds", 30}}}}, ctx, Clock::now() + 30s, HandlerUse::Hook);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST(Handlers, WhatCannotRunFailsSayingSo) {
  auto r =
      run_handler({{"grpc", {{"port", 9000}}}}, loopback(), Clock::now() + 5s, HandlerUse::Probe);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "grpc is not supported by kgate-node-agent as a probe");
  r = run_handler({{"sleep", {{"seconds", 1}}}}, loopback(), Clock::now() + 5s, HandlerUse::Probe);
  EXPECT_FALSE(r.ok);
  r = run_handler(json::object(), loopback(), Clock::now() + 5s, HandlerUse::Hook);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "no handler is not supported by kgate-node-agent as a lifecycle handler");
}

}  // namespace
}  // namespace kgate::nodeagent
