// TLS client checks against certificates made here with OpenSSL: a CA, a good server
// certificate, an expired one, one for another host and a self-signed one.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "kgate/http.hpp"
#include "test_server.hpp"

namespace kgate::http {
namespace {

using namespace std::chrono_literals;
using test::RawRequest;
using test::TestServer;

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;
using Ctx = std::unique_ptr<SSL_CTX, CtxFree>;

Key new_key() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) throw std::runtime_error("EVP_EC_gen failed");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw std::runtime_error("bad extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

struct CertSpec {
  std::string cn;
  std::string san;  // e.g. "DNS:localhost,IP:127.0.0.1"; empty for a CA
  bool ca = false;
  long not_before = -3600;  // seconds from now
  long not_after = 86400;
};

CertSpec ca_spec() {
  CertSpec s;
  s.cn = "kgate test CA";
  s.ca = true;
  return s;
}

CertSpec spec(std::string cn, std::string san, long not_before = -3600, long not_after = 86400) {
  CertSpec s;
  s.cn = std::move(cn);
  s.san = std::move(san);
  s.not_before = not_before;
  s.not_after = not_after;
  return s;
}

// Issues a certificate for `key`; self-signed when issuer is null.
Cert issue(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (spec.ca) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), signer, NID_subject_alt_name, spec.san.c_str());
  }
  if (issuer) add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256())) {
    throw std::runtime_error("X509_sign failed");
  }
  return cert;
}

std::string pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

Ctx server_ctx(X509* cert, EVP_PKEY* key, X509* chain = nullptr) {
  Ctx ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_use_certificate(ctx.get(), cert);
  SSL_CTX_use_PrivateKey(ctx.get(), key);
  if (chain) {
    X509_up_ref(chain);
    SSL_CTX_add_extra_chain_cert(ctx.get(), chain);
  }
  return ctx;
}

Request get(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_key_ = new_key().release();
    ca_ = issue(ca_spec(), ca_key_, nullptr, nullptr).release();
    server_key_ = new_key().release();
  }
  static void TearDownTestSuite() {
    X509_free(ca_);
    EVP_PKEY_free(ca_key_);
    EVP_PKEY_free(server_key_);
  }

  static Cert leaf(CertSpec spec) { return issue(spec, server_key_, ca_, ca_key_); }
  static std::string ca_pem() { return pem(ca_); }

  // These tests are about verification outcomes, not timing. The handshake shares the connect
  // timeout, and under ASan on a loaded 2-core machine it took more than 500 ms: 5 s keeps a
  // hang bounded without making a slow machine fail a correct handshake.
  static ClientOptions opts() {
    ClientOptions o;
    o.connect_timeout = 5s;
    o.request_timeout = 5s;
    return o;
  }
  static TransportError expect_failure(Client& client, const std::string& url) {
    try {
      client.send(get(url));
    } catch (const TransportError& e) {
      return e;
    }
    ADD_FAILURE() << "request to " << url << " succeeded";
    return TransportError(ErrorKind::Protocol, "none");
  }

  static EVP_PKEY* ca_key_;
  static X509* ca_;
  static EVP_PKEY* server_key_;
};
EVP_PKEY* Tls::ca_key_ = nullptr;
X509* Tls::ca_ = nullptr;
EVP_PKEY* Tls::server_key_ = nullptr;

test::Reply hello(const RawRequest&) {
  return TestServer::ok("hello tls");
}

TEST_F(Tls, ValidChainWithCaPem) {
  auto cert = leaf(spec("localhost", "DNS:localhost,IP:127.0.0.1"));
  auto ctx = server_ctx(cert.get(), server_key_);
  TestServer server(hello, ctx.get());
  auto o = opts();
  o.ca_pem = ca_pem();
  Client client(o);
  auto res = client.send(get(server.url("/x")));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "hello tls");
  // By host name too, and kept alive.
  std::string by_name = "https://localhost:" + std::to_string(server.port()) + "/";
  EXPECT_EQ(client.send(get(by_name)).status, 200);
  EXPECT_EQ(client.send(get(by_name)).status, 200);
  EXPECT_EQ(server.connections(), 2);
}

TEST_F(Tls, CaFile) {
  auto cert = leaf(spec("localhost", "IP:127.0.0.1"));
  auto ctx = server_ctx(cert.get(), server_key_);
  TestServer server(hello, ctx.get());
  std::string path = ::testing::TempDir() + "kgate-test-ca-" + std::to_string(::getpid()) + ".pem";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    auto text = ca_pem();
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  auto o = opts();
  o.ca_file = path;
  Client client(o);
  EXPECT_EQ(client.send(get(server.url())).status, 200);
  std::remove(path.c_str());
}

TEST_F(Tls, ServerNameOverride) {
  auto cert = leaf(spec("todo.internal", "DNS:todo.internal"));
  auto ctx = server_ctx(cert.get(), server_key_);
  TestServer server(hello, ctx.get());
  auto o = opts();
  o.ca_pem = ca_pem();
  o.server_name = "todo.internal";
  Client client(o);
  EXPECT_EQ(client.send(get(server.url())).status, 200);
}

TEST_F(Tls, ExpiredCertificate) {
  auto cert = leaf(spec("localhost", "DNS:localhost,IP:127.0.0.1", -2 * 86400, -86400));
  auto ctx = server_ctx(cert.get(), server_key_);
  TestServer server(hello, ctx.get());
  auto o = opts();
  o.ca_pem = ca_pem();
  Client client(o);
  auto e = expect_failure(client, server.url());
  EXPECT_EQ(e.kind(), ErrorKind::Tls) << e.what();
  EXPECT_NE(std::string(e.what()).find("expired"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(server.url()), std::string::npos) << e.what();
}

TEST_F(Tls, WrongHost) {
  auto cert = leaf(spec("elsewhere.example", "DNS:elsewhere.example"));
  auto ctx = server_ctx(cert.get(), server_key_);
  TestServer server(hello, ctx.get());
  auto o = opts();
  o.ca_pem = ca_pem();
  Client client(o);
  auto by_ip = expect_failure(client, server.url());
  EXPECT_EQ(by_ip.kind(), ErrorKind::Tls) << by_ip.what();
  EXPECT_NE(std::string(by_ip.what()).find("mismatch"), std::string::npos) << by_ip.what();
  auto by_name = expect_failure(client, "https://localhost:" + std::to_string(server.port()));
  EXPECT_EQ(by_name.kind(), ErrorKind::Tls) << by_name.what();
  EXPECT_NE(std::string(by_name.what()).find("hostname mismatch"), std::string::npos)
      << by_name.what();
}

TEST_F(Tls, SelfSignedWithoutCa) {
  auto key = new_key();
  auto cert = issue(spec("localhost", "DNS:localhost,IP:127.0.0.1"), key.get(), nullptr, nullptr);
  auto ctx = server_ctx(cert.get(), key.get());
  TestServer server(hello, ctx.get());
  Client client(opts());
  auto e = expect_failure(client, server.url());
  EXPECT_EQ(e.kind(), ErrorKind::Tls) << e.what();
  EXPECT_NE(std::string(e.what()).find("self-signed"), std::string::npos) << e.what();

  // Unknown CA: our leaf without ca_pem.
  auto leaf_cert = leaf(spec("localhost", "IP:127.0.0.1"));
  auto leaf_ctx = server_ctx(leaf_cert.get(), server_key_);
  TestServer leaf_server(hello, leaf_ctx.get());
  EXPECT_EQ(expect_failure(client, leaf_server.url()).kind(), ErrorKind::Tls);
}

TEST_F(Tls, VerifyOffAcceptsAnything) {
  auto key = new_key();
  auto cert = issue(spec("whatever", "DNS:whatever", -3600, -60), key.get(), nullptr, nullptr);
  auto ctx = server_ctx(cert.get(), key.get());
  TestServer server(hello, ctx.get());
  auto o = opts();
  o.verify_tls = false;
  Client client(o);
  EXPECT_EQ(client.send(get(server.url())).body, "hello tls");
}

TEST_F(Tls, PlainServerIsATlsError) {
  TestServer plain(hello);
  Client client(opts());
  auto url = "https://127.0.0.1:" + std::to_string(plain.port()) + "/";
  auto e = expect_failure(client, url);
  EXPECT_EQ(e.kind(), ErrorKind::Tls) << e.what();
}

TEST_F(Tls, BadCaPem) {
  auto o = opts();
  o.ca_pem = "not a certificate";
  Client client(o);
  auto e = expect_failure(client, "https://127.0.0.1:1/");
  EXPECT_EQ(e.kind(), ErrorKind::Tls) << e.what();
  EXPECT_NE(std::string(e.what()).find("ca_pem"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace kgate::http
