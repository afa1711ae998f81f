#pragma once
// Test PKI and a real HTTPS server for TLS tests: certificates made with the OpenSSL C API
// (EC P-256 keys) and written as PEM files, and tests/framework/tls_server.py run as a child
// process. Failures throw std::runtime_error; these are test helpers.
#include <sys/types.h>

#include "kgate/process.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace kgate::testfw {

// A private directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "kgate-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CertFiles {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (PKCS#8, unencrypted)
};

struct LeafSpec {
  std::string common_name = "localhost";
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries ("127.0.0.1", "::1")
  // Validity window relative to now; negative = in the past.
  std::chrono::seconds not_before{-std::chrono::hours(1)};
  std::chrono::seconds not_after{std::chrono::hours(24 * 30)};
};

// A CA (self-signed, CA:TRUE) created in `dir` on construction, issuing leaf certificates
// (CA:FALSE, serverAuth) into the same directory. Files are named <name>.crt / <name>.key.
class TestCa {
 public:
  TestCa(std::string dir, std::string common_name = "kgate test CA");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const CertFiles& files() const { return files_; }

  // A leaf signed by this CA.
  CertFiles issue(const std::string& name, const LeafSpec& spec) const;
  // A leaf signed by its own key: not from this (or any) CA.
  CertFiles self_signed(const std::string& name, const LeafSpec& spec) const;

 private:
  std::string dir_;
  CertFiles files_;
  struct State;
  std::unique_ptr<State>
      state_;  // the CA's key and certificate (OpenSSL types kept out of this header)
};

// The usual set for TLS checks, all for 127.0.0.1 unless said otherwise.
struct TestCerts {
  CertFiles ca;           // trust anchor (key included for completeness)
  CertFiles valid;        // SAN localhost + 127.0.0.1, valid for 30 days
  CertFiles expired;      // SAN localhost + 127.0.0.1, notAfter a day ago
  CertFiles wrong_host;   // SAN other.example only
  CertFiles self_signed;  // SAN localhost + 127.0.0.1, self-signed (not from the CA)
};
TestCerts make_test_certs(const std::string& dir);

struct TlsServerOptions {
  std::string cert;
  std::string key;
  std::string max_tls;  // "1.0".."1.3"; empty = server default (1.3)
  std::string min_tls;  // empty = server default (1.2, or 1.0 when max_tls is below 1.2)
  bool hsts = false;
  std::vector<std::string> headers;  // "Name: value"
  // tls_server.py; empty = KGATE_SOURCE_DIR/tests/framework/tls_server.py.
  std::string script;
  std::string python = "python3";  // looked up on PATH unless it contains '/'
  std::chrono::milliseconds start_timeout{10000};
};

// tests/framework/tls_server.py as a child process, listening on 127.0.0.1:port() once the
// constructor returns. The destructor sends SIGTERM, then SIGKILL if it has not exited in 3 s.
class TlsServer {
 public:
  explicit TlsServer(TlsServerOptions options);
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  unsigned short port() const { return port_; }
  int pid() const { return process_.pid(); }

 private:
  void stop();

  TempDir dir_{"kgate-tls-server"};
  ChildProcess process_;
  unsigned short port_ = 0;
};

}  // namespace kgate::testfw
