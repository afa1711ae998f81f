// kgate::tls probe against a real HTTPS server (tests/framework/tls_server.py) with
// certificates made for the test: a CA, a valid leaf, an expired one, one for another host and
// a self-signed one; plus version checks and targets that refuse or never answer.
#include "kgate/tls_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "framework/certs.hpp"

namespace kgate::tls {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testfw::CertFiles;
using testfw::TempDir;
using testfw::TestCerts;
using testfw::TlsServer;
using testfw::TlsServerOptions;

// A TCP socket on 127.0.0.1 with an ephemeral port. listen() makes the kernel complete
// connections into the backlog though nobody ever accepts or answers them; without it the
// port stays reserved but refuses connections.
class RawSocket {
 public:
  explicit RawSocket(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        (listening && ::listen(fd_, 16) != 0)) {
      ::close(fd_);
      throw std::runtime_error("bind/listen");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  unsigned short port() const { return port_; }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

class TlsProbe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("kgate-tls-probe-test");
    certs_ = new TestCerts(testfw::make_test_certs(dir_->path()));
  }
  static void TearDownTestSuite() {
    delete certs_;
    delete dir_;
    certs_ = nullptr;
    dir_ = nullptr;
  }

  static std::unique_ptr<TlsServer> serve(const CertFiles& files, std::string max_tls = {}) {
    TlsServerOptions o;
    o.cert = files.cert;
    o.key = files.key;
    o.max_tls = std::move(max_tls);
    return std::make_unique<TlsServer>(o);
  }

  static ProbeOptions target(const TlsServer& server, std::string host = "localhost") {
    ProbeOptions o;
    o.host = std::move(host);
    o.port = server.port();
    o.ca_file = certs_->ca.cert;
    return o;
  }

  static TempDir* dir_;
  static TestCerts* certs_;
};
TempDir* TlsProbe::dir_ = nullptr;
TestCerts* TlsProbe::certs_ = nullptr;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_F(TlsProbe, ValidLeafByName) {
  auto server = serve(certs_->valid);
  ProbeResult r = probe(target(*server));
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_TRUE(r.tcp_connected);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.protocol == "TLSv1.3" || r.protocol == "TLSv1.2") << r.protocol;
  EXPECT_FALSE(r.cipher.empty());
  EXPECT_TRUE(r.chain_valid) << r.verify_error;
  EXPECT_TRUE(r.verify_error.empty()) << r.verify_error;
  EXPECT_TRUE(r.host_matches);
  EXPECT_FALSE(r.leaf.expired);
  EXPECT_FALSE(r.leaf.not_yet_valid);
  EXPECT_GT(r.leaf.days_left, 0);
  EXPECT_LE(r.leaf.days_left, 30);
  EXPECT_NE(r.leaf.subject.find("CN=localhost"), std::string::npos) << r.leaf.subject;
  EXPECT_NE(r.leaf.issuer.find("CN=kgate test CA"), std::string::npos) << r.leaf.issuer;
  EXPECT_TRUE(contains(r.leaf.dns_names, "localhost"));
  EXPECT_TRUE(contains(r.leaf.ip_addresses, "127.0.0.1"));
  // ISO 8601 UTC: 2025-01-31T12:00:00Z
  ASSERT_EQ(r.leaf.not_after.size(), 20u) << r.leaf.not_after;
  EXPECT_EQ(r.leaf.not_after[10], 'T');
  EXPECT_EQ(r.leaf.not_after.back(), 'Z');
  EXPECT_LT(r.leaf.not_before, r.leaf.not_after);
}

TEST_F(TlsProbe, ValidLeafByIp) {
  auto server = serve(certs_->valid);
  ProbeResult r = probe(target(*server, "127.0.0.1"));
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_TRUE(r.chain_valid) << r.verify_error;
  EXPECT_TRUE(r.host_matches);
  EXPECT_FALSE(r.leaf.expired);
  EXPECT_GT(r.leaf.days_left, 0);
}

TEST_F(TlsProbe, SniNameIsTheOneChecked) {
  auto server = serve(certs_->valid);
  ProbeOptions o = target(*server, "127.0.0.1");
  o.sni = "other.example";
  ProbeResult r = probe(o);
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_FALSE(r.host_matches);
  o.sni = "localhost";
  r = probe(o);
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_TRUE(r.host_matches);
}

TEST_F(TlsProbe, ExpiredLeaf) {
  auto server = serve(certs_->expired);
  ProbeResult r = probe(target(*server));
  ASSERT_TRUE(r.connected) << r.error;  // recorded, not enforced
  EXPECT_FALSE(r.chain_valid);
  EXPECT_NE(r.verify_error.find("expired"), std::string::npos) << r.verify_error;
  EXPECT_TRUE(r.leaf.expired);
  EXPECT_LT(r.leaf.days_left, 0);
  EXPECT_TRUE(r.host_matches);
}

TEST_F(TlsProbe, WrongHost) {
  auto server = serve(certs_->wrong_host);
  ProbeResult r = probe(target(*server));
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_TRUE(r.chain_valid) << r.verify_error;
  EXPECT_FALSE(r.host_matches);
  EXPECT_TRUE(contains(r.leaf.dns_names, "other.example"));
  r = probe(target(*server, "127.0.0.1"));
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_FALSE(r.host_matches);
}

TEST_F(TlsProbe, SelfSignedLeafIsNotTrusted) {
  auto server = serve(certs_->self_signed);
  ProbeResult r = probe(target(*server));
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_FALSE(r.chain_valid);
  EXPECT_FALSE(r.verify_error.empty());
  EXPECT_TRUE(r.host_matches);
  EXPECT_FALSE(r.leaf.expired);
}

TEST_F(TlsProbe, SystemStoreDoesNotTrustTestCa) {
  auto server = serve(certs_->valid);
  ProbeOptions o = target(*server);
  o.ca_file.clear();
  ProbeResult r = probe(o);
  ASSERT_TRUE(r.connected) << r.error;
  EXPECT_FALSE(r.chain_valid);
  EXPECT_FALSE(r.verify_error.empty());
  EXPECT_TRUE(r.host_matches);
}

TEST_F(TlsProbe, MissingCaFileIsAnError) {
  auto server = serve(certs_->valid);
  ProbeOptions o = target(*server);
  o.ca_file = dir_->file("no-such-ca.pem");
  ProbeResult r = probe(o);
  EXPECT_FALSE(r.connected);
  EXPECT_NE(r.error.find("no-such-ca.pem"), std::string::npos) << r.error;
}

TEST_F(TlsProbe, ServerAcceptingTls11) {
  auto server = serve(certs_->valid, "1.1");
  std::string error;
  EXPECT_EQ(accepts_version(target(*server), TLS1_1_VERSION, &error), true) << error;
  EXPECT_EQ(accepts_version(target(*server), TLS1_VERSION, &error), true) << error;
  EXPECT_EQ(accepts_version(target(*server), TLS1_2_VERSION, &error), false) << error;
  // The normal probe (default security level) will not go below TLS 1.2: no handshake.
  ProbeResult r = probe(target(*server));
  EXPECT_TRUE(r.tcp_connected);
  EXPECT_FALSE(r.connected);
  EXPECT_FALSE(r.error.empty());
}

TEST_F(TlsProbe, DefaultServerRefusesTls10And11) {
  auto server = serve(certs_->valid);
  std::string error;
  EXPECT_EQ(accepts_version(target(*server), TLS1_1_VERSION, &error), false);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(accepts_version(target(*server), TLS1_VERSION, &error), false);
  EXPECT_EQ(accepts_version(target(*server), TLS1_2_VERSION, &error), true) << error;
  EXPECT_EQ(accepts_version(target(*server), TLS1_3_VERSION, &error), true) << error;
}

TEST_F(TlsProbe, NothingListening) {
  RawSocket reserved(/*listening=*/false);
  ProbeOptions o;
  o.host = "127.0.0.1";
  o.port = reserved.port();
  auto start = Clock::now();
  ProbeResult r = probe(o);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_FALSE(r.tcp_connected);
  EXPECT_FALSE(r.connected);
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;

  std::string error;
  EXPECT_EQ(accepts_version(o, TLS1_1_VERSION, &error), std::nullopt);
  EXPECT_FALSE(error.empty());
}

TEST_F(TlsProbe, ListenerThatNeverSpeaksTlsTimesOut) {
  RawSocket silent(/*listening=*/true);
  ProbeOptions o;
  o.host = "localhost";  // also covers trying ::1 first when it is configured
  o.port = silent.port();
  o.timeout = 500ms;
  auto start = Clock::now();
  ProbeResult r = probe(o);
  auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 450ms);
  EXPECT_LT(elapsed, 2s);
  EXPECT_TRUE(r.tcp_connected);
  EXPECT_FALSE(r.connected);
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;

  std::string error;
  start = Clock::now();
  EXPECT_EQ(accepts_version(o, TLS1_1_VERSION, &error), std::nullopt);
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_NE(error.find("timed out"), std::string::npos) << error;
}

TEST_F(TlsProbe, UnresolvableHost) {
  ProbeOptions o;
  o.host = "kgate-no-such-host.invalid";
  o.port = 443;
  o.timeout = 2000ms;
  auto start = Clock::now();
  ProbeResult r = probe(o);
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_FALSE(r.tcp_connected);
  EXPECT_FALSE(r.connected);
  EXPECT_NE(r.error.find("resolve"), std::string::npos) << r.error;
}

// The server fixture itself: a client that connects and never sends a ClientHello ties up
// only its own thread.
TEST_F(TlsProbe, TlsServerServesOthersWhileAClientStalls) {
  auto server = serve(certs_->valid);
  int stalled = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(stalled, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(stalled, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ProbeOptions o = target(*server);
  o.timeout = 2000ms;
  ProbeResult r = probe(o);
  ::close(stalled);
  EXPECT_TRUE(r.connected) << r.error;
  EXPECT_TRUE(r.chain_valid) << r.verify_error;
}

TEST_F(TlsProbe, TlsServerStartFailureIsReported) {
  TlsServerOptions so;
  so.cert = dir_->file("missing.crt");
  so.key = dir_->file("missing.key");
  auto start = Clock::now();
  try {
    TlsServer server(so);
    ADD_FAILURE() << "server started without a certificate";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("before listening"), std::string::npos) << e.what();
  }
  EXPECT_LT(Clock::now() - start, 5s);
}

// The server fixture itself: HSTS and extra headers as asked, over a real TLS connection.
TEST_F(TlsProbe, TlsServerSendsHstsAndHeaders) {
  TlsServerOptions so;
  so.cert = certs_->valid.cert;
  so.key = certs_->valid.key;
  so.hsts = true;
  so.headers = {"X-Frame-Options: DENY", "X-Test: 1"};
  TlsServer server(so);

  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), fd);
  ASSERT_EQ(SSL_connect(ssl.get()), 1);
  const std::string request =
      "GET /anything HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())),
            static_cast<int>(request.size()));
  std::string response;
  char buf[4096];
  for (int n; (n = SSL_read(ssl.get(), buf, sizeof buf)) > 0;) response.append(buf, n);
  ssl.reset();
  ::close(fd);

  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_NE(response.find("Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"),
            std::string::npos)
      << response;
  EXPECT_NE(response.find("X-Frame-Options: DENY\r\n"), std::string::npos) << response;
  EXPECT_NE(response.find("X-Test: 1\r\n"), std::string::npos) << response;
  EXPECT_NE(response.find("<html>"), std::string::npos) << response;
}

}  // namespace
}  // namespace kgate::tls
