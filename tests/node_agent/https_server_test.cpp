#include "https_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "framework/certs.hpp"
#include "kgate/http.hpp"

namespace kgate::nodeagent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A raw TCP connection to the server that sends `bytes` and then nothing more.
int raw_connect(unsigned short port, const std::string& bytes = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  if (!bytes.empty()) ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  return fd;
}

// A bare TLS client for what kgate::http::Client never sends: malformed requests and
// `Expect: 100-continue`. It trusts any server certificate.
class RawTlsClient {
 public:
  explicit RawTlsClient(unsigned short port)
      : ctx_(SSL_CTX_new(TLS_client_method())), fd_(raw_connect(port)) {
    timeval tv{2, 0};  // a broken server fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) throw std::runtime_error("raw TLS handshake failed");
  }
  ~RawTlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  RawTlsClient(const RawTlsClient&) = delete;
  RawTlsClient& operator=(const RawTlsClient&) = delete;

  void write(const std::string& data) {
    ASSERT_EQ(SSL_write(ssl_, data.data(), static_cast<int>(data.size())),
              static_cast<int>(data.size()));
  }
  // Reads until `needle` has arrived (returning everything up to and including it), or until the
  // end of the stream (returning what came).
  std::string read_until(const std::string& needle) {
    for (;;) {
      if (auto at = buffer_.find(needle); at != std::string::npos) {
        auto out = buffer_.substr(0, at + needle.size());
        buffer_.erase(0, at + needle.size());
        return out;
      }
      char chunk[4096];
      int n = SSL_read(ssl_, chunk, sizeof chunk);
      if (n <= 0) return std::exchange(buffer_, "");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  SSL_CTX* ctx_;
  int fd_;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

// Echoes the request back as JSON, with the serving thread (one per connection).
HttpResponse echo(const HttpRequest& req) {
  json query = json::object();
  for (const auto& [k, v] : req.query) query[k] = v;
  HttpResponse res;
  res.body = json{{"method", req.method},
                  {"target", req.target},
                  {"path", req.path},
                  {"query", query},
                  {"body", req.body},
                  {"x_test", req.header("x-TEST")},
                  {"thread", std::hash<std::thread::id>{}(std::this_thread::get_id())}}
                 .dump();
  return res;
}

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.file("server"));
    std::filesystem::create_directories(dir_.file("clients"));
    server_ca_ = std::make_unique<testfw::TestCa>(dir_.file("server"), "server CA");
    testfw::LeafSpec spec;
    spec.dns_names = {"localhost"};
    spec.ip_addresses = {"127.0.0.1"};
    server_cert_ = server_ca_->issue("server", spec);
  }

  // The front-proxy PKI, made with the openssl command line: TestCa's leaves are for servers
  // only (extendedKeyUsage serverAuth), and a server rightly refuses those from clients.
  struct ClientPki {
    std::string ca;              // CA certificate file
    testfw::CertFiles client;    // signed by ca, clientAuth
    testfw::CertFiles stranger;  // self-signed, clientAuth
  };
  ClientPki make_client_pki() const {
    const auto d = dir_.file("clients");
    const auto cnf = d + "/openssl.cnf";
    std::ofstream(cnf) << "[req]\ndistinguished_name = dn\n[dn]\n"
                          "[ca]\nbasicConstraints = critical,CA:TRUE\n"
                          "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n"
                          "[client]\nbasicConstraints = critical,CA:FALSE\n"
                          "keyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\n";
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1";
    const std::string cmd =
        "cd " + d + " && exec 2>openssl.log" +
        " && openssl req -x509 -config openssl.cnf -extensions ca" + key +
        " -keyout ca.key -out ca.crt -subj /CN=front-proxy-ca" +
        " && openssl req -new -config openssl.cnf" + key +
        " -keyout client.key -out client.csr -subj /CN=front-proxy-client" +
        " && openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 1" +
        " -extfile openssl.cnf -extensions client -out client.crt" +
        " && openssl req -x509 -config openssl.cnf -extensions client" + key +
        " -keyout stranger.key -out stranger.crt -subj /CN=stranger";
    if (std::system(cmd.c_str()) != 0)
      throw std::runtime_error("openssl failed: " + read_file(d + "/openssl.log"));
    return {d + "/ca.crt",
            {d + "/client.crt", d + "/client.key"},
            {d + "/stranger.crt", d + "/stranger.key"}};
  }

  std::unique_ptr<HttpsServer> start(Handler handler, const std::string& client_ca = "") {
    return std::make_unique<HttpsServer>("127.0.0.1", 0, server_cert_.cert, server_cert_.key,
                                         client_ca, std::move(handler));
  }

  http::Client client(const testfw::CertFiles* cert = nullptr) const {
    http::ClientOptions o;
    o.ca_file = server_ca_->files().cert;
    o.connect_timeout = 1500ms;
    o.request_timeout = 1500ms;
    if (cert) {
      o.client_cert_pem = read_file(cert->cert);
      o.client_key_pem = read_file(cert->key);
    }
    return http::Client(o);
  }

  static http::Request get(const HttpsServer& server, const std::string& path_and_query) {
    http::Request r;
    r.url = "https://127.0.0.1:" + std::to_string(server.port()) + path_and_query;
    return r;
  }

  testfw::TempDir dir_{"kgate-https-server-test"};
  std::unique_ptr<testfw::TestCa> server_ca_;
  testfw::CertFiles server_cert_;
};

TEST_F(HttpsServerTest, ServesRequestsAndDecodesTheQuery) {
  auto server = start(echo);
  ASSERT_NE(server->port(), 0);
  auto c = client();
  auto req = get(*server, "/stats/a%20b/c?x=1&name=hello%20world&plus=a+b&x=2&flag&empty=");
  req.method = "POST";
  req.body = R"({"k":1})";
  req.headers = {{"X-Test", "yes"}, {"Content-Type", "application/json"}};
  auto res = c.send(req);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("content-type").value_or(""), "application/json");
  auto body = json::parse(res.body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["path"], "/stats/a b/c");
  EXPECT_EQ(body["target"], "/stats/a%20b/c?x=1&name=hello%20world&plus=a+b&x=2&flag&empty=");
  EXPECT_EQ(body["query"], (json{{"x", "1"},  // the first of a repeated key
                                 {"name", "hello world"},
                                 {"plus", "a b"},
                                 {"flag", ""},
                                 {"empty", ""}}));
  EXPECT_EQ(body["body"], R"({"k":1})");
  EXPECT_EQ(body["x_test"], "yes");
}

TEST_F(HttpsServerTest, StatusAndContentTypeComeFromTheHandler) {
  auto server = start([](const HttpRequest&) {
    return HttpResponse{404, "text/plain", "no such pod"};
  });
  auto res = client().send(get(*server, "/pods/x"));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.header("content-type").value_or(""), "text/plain");
  EXPECT_EQ(res.body, "no such pod");

  // A 204 goes out without its body; a non-final status is the handler's bug: a 500.
  auto quirky = start([](const HttpRequest& req) {
    return HttpResponse{req.path == "/empty" ? 204 : 101, "", "dropped"};
  });
  auto c = client();
  res = c.send(get(*quirky, "/empty"));
  EXPECT_EQ(res.status, 204);
  EXPECT_EQ(res.body, "");
  EXPECT_EQ(c.send(get(*quirky, "/upgrade")).status, 500);
}

TEST_F(HttpsServerTest, KeepsConnectionsAlive) {
  auto server = start(echo);
  auto c = client();
  auto first = json::parse(c.send(get(*server, "/a")).body);
  auto second = json::parse(c.send(get(*server, "/b")).body);
  EXPECT_EQ(second["path"], "/b");
  // One thread per connection: the same thread answered both, so the connection was reused.
  EXPECT_EQ(first["thread"], second["thread"]);
  auto other = json::parse(client().send(get(*server, "/c")).body);
  EXPECT_NE(other["thread"], first["thread"]);
}

TEST_F(HttpsServerTest, AnswersExpectContinueAndRefusesMalformedRequests) {
  auto server = start(echo);
  RawTlsClient c(server->port());
  c.write(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\n\r\n");
  EXPECT_EQ(c.read_until("\r\n\r\n").rfind("HTTP/1.1 100 Continue\r\n", 0), 0u);
  c.write("hello");
  auto head = c.read_until("\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(c.read_until("}").find(R"("body":"hello")"), std::string::npos);

  RawTlsClient bad(server->port());
  bad.write("GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n");
  auto answer = bad.read_until("never sent");  // the server closes after answering
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find(R"("kind":"Status")"), std::string::npos) << answer;
}

TEST_F(HttpsServerTest, HandlerExceptionGives500WithAStatus) {
  auto server = start([](const HttpRequest&) -> HttpResponse {
    throw std::runtime_error("container runtime on fire");
  });
  auto c = client();
  auto res = c.send(get(*server, "/boom"));
  EXPECT_EQ(res.status, 500);
  auto body = json::parse(res.body);
  EXPECT_EQ(body["kind"], "Status");
  EXPECT_EQ(body["code"], 500);
  EXPECT_EQ(body["status"], "Failure");
  EXPECT_NE(body["message"].get<std::string>().find("container runtime on fire"),
            std::string::npos);
  // The connection survives the failure.
  EXPECT_EQ(c.send(get(*server, "/again")).status, 500);
}

TEST_F(HttpsServerTest, StuckClientsBlockNeitherOthersNorShutdown) {
  auto server = start(echo);
  const int silent = raw_connect(server->port());
  const int half_hello = raw_connect(server->port(), std::string("\x16\x03\x01\x02\x00", 5));
  ASSERT_GE(silent, 0);
  ASSERT_GE(half_hello, 0);

  auto c = client();  // keeps its connection open, idle, after the request
  auto res = c.send(get(*server, "/healthz"));
  EXPECT_EQ(res.status, 200);

  const auto start_time = Clock::now();
  server.reset();
  EXPECT_LT(Clock::now() - start_time, 1s);
  // Their connections were closed, not left dangling.
  for (int fd : {silent, half_hello}) {
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 1000), 1);
    char ch;
    EXPECT_LE(::recv(fd, &ch, 1, 0), 0);
    ::close(fd);
  }
}

TEST_F(HttpsServerTest, ClientCertificateRequiredWhenAClientCaIsSet) {
  const auto pki = make_client_pki();
  auto server = start(echo, pki.ca);

  auto with_cert = client(&pki.client);
  EXPECT_EQ(with_cert.send(get(*server, "/metrics")).status, 200);

  auto without = client();
  EXPECT_THROW(without.send(get(*server, "/metrics")), http::TransportError);
  auto stranger = client(&pki.stranger);
  EXPECT_THROW(stranger.send(get(*server, "/metrics")), http::TransportError);
  auto server_only = client(&server_cert_);  // another CA, and not for client use
  EXPECT_THROW(server_only.send(get(*server, "/metrics")), http::TransportError);

  // Refused handshakes leave the server serving.
  EXPECT_EQ(client(&pki.client).send(get(*server, "/metrics")).status, 200);
}

TEST_F(HttpsServerTest, NoClientCertificateRequestedWithoutAClientCa) {
  const auto pki = make_client_pki();
  auto server = start(echo);
  EXPECT_EQ(client().send(get(*server, "/")).status, 200);
  EXPECT_EQ(client(&pki.client).send(get(*server, "/")).status, 200);
}

TEST_F(HttpsServerTest, BadConfigurationThrowsNamingIt) {
  auto message = [&](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  auto err =
      message([&] { HttpsServer("127.0.0.1", 0, "/nonexistent.crt", server_cert_.key, "", echo); });
  EXPECT_NE(err.find("/nonexistent.crt"), std::string::npos) << err;
  err =
      message([&] { HttpsServer("not-an-ip", 0, server_cert_.cert, server_cert_.key, "", echo); });
  EXPECT_NE(err.find("not-an-ip"), std::string::npos) << err;
  err = message([&] {
    HttpsServer("127.0.0.1", 0, server_cert_.cert, server_cert_.key, "/nonexistent-ca.crt", echo);
  });
  EXPECT_NE(err.find("/nonexistent-ca.crt"), std::string::npos) << err;

  auto first = start(echo);
  err = message([&] {
    HttpsServer("127.0.0.1", first->port(), server_cert_.cert, server_cert_.key, "", echo);
  });
  EXPECT_NE(err.find("127.0.0.1:" + std::to_string(first->port())), std::string::npos) << err;
}

}  // namespace
}  // namespace kgate::nodeagent
