#include "kgate/http.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "kgate/process.hpp"
#include "kgate/wait.hpp"
#include "test_server.hpp"

namespace kgate::http {
namespace {

using namespace std::chrono_literals;
using test::RawRequest;
using test::Reply;
using test::TestServer;

Request get(std::string url, std::string method = "GET") {
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  return r;
}

ClientOptions short_timeouts() {
  ClientOptions o;
  o.connect_timeout = 500ms;
  o.request_timeout = 400ms;
  return o;
}

// Echoes the request line, headers and body so tests can inspect what the client sent.
Reply echo(const RawRequest& req) {
  std::string body = req.method + " " + req.target + "\n";
  for (const auto& [k, v] : req.headers) body += k + ": " + v + "\n";
  body += "\n" + req.body;
  return TestServer::ok(body, "Content-Type: text/plain\r\nX-Test: yes\r\n");
}

TEST(HttpClient, GetAndHeaders) {
  TestServer server(echo);
  Client client(short_timeouts());
  auto res = client.send(get(server.url("/health?x=1"), "GET"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.reason, "OK");
  EXPECT_EQ(res.header("x-test"), "yes");
  EXPECT_EQ(res.header("CONTENT-TYPE"), "text/plain");
  EXPECT_FALSE(res.header("missing").has_value());
  EXPECT_NE(res.body.find("GET /health?x=1\n"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("Host: 127.0.0.1:" + std::to_string(server.port())), std::string::npos);
  EXPECT_NE(res.body.find("User-Agent: kgate\n"), std::string::npos);
  EXPECT_EQ(res.body.find("Content-Length"), std::string::npos);
  EXPECT_EQ(res.body.find("Content-Type"), std::string::npos);
  EXPECT_GT(res.elapsed.count(), 0);
}

TEST(HttpClient, PostWithBody) {
  TestServer server(echo);
  Client client(short_timeouts());
  Request req;
  req.method = "POST";
  req.url = server.url("/api/todos");
  req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer t0k"}};
  req.body = R"({"title":"x"})";
  auto res = client.send(req);
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find("POST /api/todos\n"), std::string::npos);
  EXPECT_NE(res.body.find("Content-Length: 13\n"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("Content-Type: application/json\n"), std::string::npos);
  EXPECT_NE(res.body.find("Authorization: Bearer t0k\n"), std::string::npos);
  EXPECT_EQ(res.body.substr(res.body.size() - 13), req.body);
}

TEST(HttpClient, ErrorStatusIsAResponse) {
  TestServer server([](const RawRequest&) {
    return TestServer::raw("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found");
  });
  Client client(short_timeouts());
  auto res = client.send(get(server.url("/nope")));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.reason, "Not Found");
  EXPECT_EQ(res.body, "not found");
}

TEST(HttpClient, KeepAliveReusesOneConnection) {
  TestServer server(echo);
  Client client(short_timeouts());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.send(get(server.url("/r" + std::to_string(i)))).status, 200);
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClient, MovedClientKeepsItsConnection) {
  TestServer server(echo);
  Client a(short_timeouts());
  a.send(get(server.url()));
  Client b(std::move(a));
  b.send(get(server.url()));
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(b.options().request_timeout, 400ms);
}

TEST(HttpClient, ConnectionCloseHonoured) {
  TestServer server([](const RawRequest&) {
    auto r = TestServer::ok("bye", "Connection: close\r\n");
    r.close_after = true;
    return r;
  });
  Client client(short_timeouts());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.send(get(server.url())).body, "bye");
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClient, KeepAliveOffSendsClose) {
  TestServer server(echo);
  auto opts = short_timeouts();
  opts.keep_alive = false;
  Client client(opts);
  auto res = client.send(get(server.url()));
  EXPECT_NE(res.body.find("Connection: close\n"), std::string::npos);
  client.send(get(server.url()));
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClient, ConnectionClosedWhileIdleIsReplacedBeforeWriting) {
  // The server drops each connection after answering without saying so (an idle timeout).
  TestServer server([](const RawRequest&) {
    auto r = TestServer::ok("ok");
    r.close_after = true;
    return r;
  });
  Client client(short_timeouts());
  EXPECT_EQ(client.send(get(server.url())).body, "ok");
  // Once the close has happened, the kept-alive connection is provably dead before anything is
  // written on it: even a POST, which is never resent, goes out on a fresh connection.
  ASSERT_TRUE(wait_until([&](std::string*) { return server.closed() == 1; }, 5s, 1ms).ok);
  EXPECT_EQ(client.send(get(server.url(), "POST")).body, "ok");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests(), 2);
}

// Answers the first request on a connection and closes it without a word on the second, as a
// server whose keep-alive timeout fires just as the request arrives. Counts what arrived.
class ClosesOnSecondRequest {
 public:
  ClosesOnSecondRequest()
      : server_([this](const RawRequest& req) {
          std::lock_guard lock(mu_);
          ++by_method_[req.method];
          if (req.on_connection == 2) return TestServer::raw("", true);
          return TestServer::ok("ok");
        }) {}
  std::string url() const { return server_.url("/tasks"); }
  int count(const std::string& method) {
    std::lock_guard lock(mu_);
    return by_method_[method];
  }
  int connections() const { return server_.connections(); }

 private:
  std::mutex mu_;
  std::map<std::string, int> by_method_;
  TestServer server_;  // last: its threads use the members above
};

TEST(HttpClient, IdempotentRequestIsRetriedOnceWhenTheConnectionClosesUnanswered) {
  for (std::string method : {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}) {
    ClosesOnSecondRequest server;
    Client client(short_timeouts());
    EXPECT_EQ(client.send(get(server.url())).status, 200) << method;
    // Closed unanswered on the kept-alive connection, then sent again on a new one.
    EXPECT_EQ(client.send(get(server.url(), method)).status, 200) << method;
    EXPECT_EQ(server.count(method), method == "GET" ? 3 : 2) << method;
    EXPECT_EQ(server.connections(), 2) << method;
  }
}

TEST(HttpClient, NonIdempotentRequestIsSentExactlyOnce) {
  for (std::string method : {"POST", "PATCH"}) {
    ClosesOnSecondRequest server;
    Client client(short_timeouts());
    EXPECT_EQ(client.send(get(server.url())).status, 200) << method;
    Request create = get(server.url(), method);
    create.body = R"({"title":"once"})";
    try {
      client.send(create);
      ADD_FAILURE() << method << " was answered: it was sent a second time";
    } catch (const TransportError& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Protocol) << e.what();
      EXPECT_NE(std::string(e.what()).find("connection closed before any response"),
                std::string::npos)
          << e.what();
    }
    // The server may have handled it before closing: it must have seen it exactly once.
    EXPECT_EQ(server.count(method), 1) << method;
    EXPECT_EQ(server.connections(), 1) << method;
  }
}

TEST(HttpClient, ChunkedAndCloseDelimitedBodies) {
  TestServer chunked([](const RawRequest&) {
    return TestServer::raw(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  });
  TestServer until_close([](const RawRequest&) {
    return TestServer::raw("HTTP/1.1 200 OK\r\n\r\nuntil close", true);
  });
  Client client(short_timeouts());
  EXPECT_EQ(client.send(get(chunked.url())).body, "abcde");
  EXPECT_EQ(client.send(get(until_close.url())).body, "until close");
  EXPECT_EQ(client.send(get(until_close.url())).body, "until close");
}

TEST(HttpClient, HeadHasNoBody) {
  TestServer server([](const RawRequest&) {
    return TestServer::raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
  });
  Client client(short_timeouts());
  auto res = client.send(get(server.url(), "HEAD"));
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(res.body.empty());
}

TEST(HttpClient, ConnectRefused) {
  auto port = free_loopback_port();
  Client client(short_timeouts());
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
  try {
    client.send(get(url));
    FAIL() << "no error";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Connect);
    EXPECT_EQ(std::string(e.what()), "GET " + url + ": connect failed: Connection refused");
  }
}

TEST(HttpClient, ResolveFailure) {
  Client client(short_timeouts());
  try {
    client.send(get("http://kgate-no-such-host.invalid/"));
    FAIL() << "no error";
  } catch (const TransportError& e) {
    // Without DNS in the sandbox the lookup may also time out.
    EXPECT_TRUE(e.kind() == ErrorKind::Resolve || e.kind() == ErrorKind::Timeout) << e.what();
  }
}

TEST(HttpClient, InvalidUrlIsATransportError) {
  Client client(short_timeouts());
  try {
    client.send(get("ftp://x/"));
    FAIL() << "no error";
  } catch (const TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("scheme must be http or https"), std::string::npos);
  }
}

TEST(HttpClient, RequestTimeout) {
  TestServer server([](const RawRequest&) { return TestServer::hang(); });
  Client client(short_timeouts());
  auto start = std::chrono::steady_clock::now();
  try {
    client.send(get(server.url("/slow")));
    FAIL() << "no error";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Timeout);
    EXPECT_NE(std::string(e.what()).find("/slow"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos);
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 390ms);
  EXPECT_LT(took, 1500ms);
}

std::atomic<bool> g_interrupted{false};
bool interrupted() {
  return g_interrupted.load();
}

TEST(HttpClient, InterruptAborts) {
  TestServer server([](const RawRequest&) { return TestServer::hang(); });
  auto opts = short_timeouts();
  opts.request_timeout = 10s;
  Client client(opts);
  g_interrupted = false;
  set_interrupt_check(&interrupted);
  // Ctrl-C once the request is in flight: the server has it and holds it unanswered.
  std::thread trigger([&] {
    wait_until([&](std::string*) { return server.requests() == 1; }, 5s, 1ms);
    g_interrupted = true;
  });
  auto start = std::chrono::steady_clock::now();
  try {
    client.send(get(server.url()));
    ADD_FAILURE() << "no error";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Interrupted);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  trigger.join();
  set_interrupt_check(nullptr);
  g_interrupted = false;
  // The client stays usable.
  TestServer ok(echo);
  EXPECT_EQ(client.send(get(ok.url())).status, 200);
}

TEST(HttpClient, BodyLimit) {
  TestServer server([](const RawRequest&) { return TestServer::ok(std::string(100, 'x')); });
  auto opts = short_timeouts();
  opts.max_body_bytes = 10;
  Client client(opts);
  try {
    client.send(get(server.url()));
    FAIL() << "no error";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Protocol);
    EXPECT_NE(std::string(e.what()).find("exceeds 10 bytes"), std::string::npos) << e.what();
  }
}

TEST(HttpClient, GarbageIsAProtocolError) {
  TestServer server(
      [](const RawRequest&) { return TestServer::raw("SSH-2.0-nope\r\n\r\n", true); });
  Client client(short_timeouts());
  try {
    client.send(get(server.url()));
    FAIL() << "no error";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Protocol) << e.what();
  }
}

TEST(HttpClient, ErrorKindNames) {
  EXPECT_STREQ(to_string(ErrorKind::Resolve), "resolve");
  EXPECT_STREQ(to_string(ErrorKind::Connect), "connect");
  EXPECT_STREQ(to_string(ErrorKind::Timeout), "timeout");
  EXPECT_STREQ(to_string(ErrorKind::Tls), "tls");
  EXPECT_STREQ(to_string(ErrorKind::Protocol), "protocol");
  EXPECT_STREQ(to_string(ErrorKind::Interrupted), "interrupted");
}

TEST(HttpClient, FindHeaderIsCaseInsensitive) {
  Headers h = {{"Content-Type", "a"}, {"X-One", "1"}};
  EXPECT_EQ(find_header(h, "content-type"), "a");
  EXPECT_EQ(find_header(h, "x-one"), "1");
  EXPECT_FALSE(find_header(h, "x-two"));
}

}  // namespace
}  // namespace kgate::http
