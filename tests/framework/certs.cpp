#include "framework/certs.hpp"

#include "kgate/openssl_ptr.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace kgate::testfw {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

using Key = ossl::PkeyPtr;
using Cert = ossl::X509Ptr;
using Bn = ossl::BnPtr;
using Bio = ossl::BioPtr;

[[noreturn]] void fail(const std::string& what) {
  std::string detail;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    detail += std::string("; ") + buf;
  }
  throw std::runtime_error(what + detail);
}

Key new_key() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) fail("EVP_EC_gen(P-256)");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) fail("extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (!ok) fail("X509_add_ext");
}

void set_cn(X509_NAME* name, const std::string& cn) {
  auto bytes = reinterpret_cast<const unsigned char*>(cn.c_str());
  if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>("kgate tests"), -1, -1,
                                  0) ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, bytes, -1, -1, 0)) {
    fail("set subject CN=" + cn);
  }
}

// A random positive 64-bit serial, so certificates from different runs never share one.
void set_random_serial(X509* cert) {
  Bn bn(BN_new());
  if (!bn || !BN_rand(bn.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) {
    fail("serial number");
  }
}

struct Spec {
  std::string cn;
  std::string san;  // "DNS:a,IP:1.2.3.4"; empty for none
  bool ca = false;
  long not_before = -3600;  // seconds from now
  long not_after = 86400;
};

// Issues a certificate for `key`; self-signed when issuer is null.
Cert make_cert(const Spec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  X509* c = cert.get();
  X509_set_version(c, X509_VERSION_3);
  set_random_serial(c);
  if (!X509_gmtime_adj(X509_getm_notBefore(c), spec.not_before) ||
      !X509_gmtime_adj(X509_getm_notAfter(c), spec.not_after) || !X509_set_pubkey(c, key)) {
    fail("validity/public key");
  }
  set_cn(X509_get_subject_name(c), spec.cn);
  X509* signer = issuer ? issuer : c;
  if (!X509_set_issuer_name(c, X509_get_subject_name(signer))) fail("issuer name");
  // Subject key id first: the authority key id of a self-signed certificate refers to it.
  add_ext(c, signer, NID_subject_key_identifier, "hash");
  add_ext(c, signer, NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    add_ext(c, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(c, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(c, signer, NID_key_usage, "critical,digitalSignature");
    add_ext(c, signer, NID_ext_key_usage, "serverAuth");
    if (!spec.san.empty()) add_ext(c, signer, NID_subject_alt_name, spec.san);
  }
  if (!X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256())) fail("X509_sign");
  return cert;
}

void write_cert(const std::string& path, X509* cert) {
  Bio bio(BIO_new_file(path.c_str(), "w"));
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) fail("write " + path);
}

void write_key(const std::string& path, EVP_PKEY* key) {
  Bio bio(BIO_new_file(path.c_str(), "w"));
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    fail("write " + path);
  }
  ::chmod(path.c_str(), 0600);
}

std::string san_of(const LeafSpec& spec) {
  std::string san;
  for (const auto& d : spec.dns_names) san += (san.empty() ? "" : ",") + ("DNS:" + d);
  for (const auto& ip : spec.ip_addresses) san += (san.empty() ? "" : ",") + ("IP:" + ip);
  return san;
}

Spec leaf_spec(const LeafSpec& leaf) {
  Spec s;
  s.cn = leaf.common_name;
  s.san = san_of(leaf);
  s.not_before = static_cast<long>(leaf.not_before.count());
  s.not_after = static_cast<long>(leaf.not_after.count());
  return s;
}

CertFiles write_pair(const std::string& dir, const std::string& name, X509* cert, EVP_PKEY* key) {
  CertFiles files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  write_cert(files.cert, cert);
  write_key(files.key, key);
  return files;
}

// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
template <typename Cond>
bool poll_until(Cond cond, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// The first executable `name` on PATH (or `name` itself when it contains a '/').
std::string find_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error(name + " not found on PATH");
}

std::string default_script() {
#ifdef KGATE_SOURCE_DIR
  return std::string(KGATE_SOURCE_DIR) + "/tests/framework/tls_server.py";
#else
  throw std::runtime_error("TlsServerOptions::script not set and KGATE_SOURCE_DIR not defined");
#endif
}

// status as ChildProcess reports it: the exit code, or 128 + the signal.
std::string exit_text(int status) {
  if (status > 128) return "killed by signal " + std::to_string(status - 128);
  return "exited with status " + std::to_string(status);
}

}  // namespace

// --- TempDir ---------------------------------------------------------------------------------

TempDir::TempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + templ);
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// --- TestCa ----------------------------------------------------------------------------------

struct TestCa::State {
  Key key;
  Cert cert;
};

TestCa::TestCa(std::string dir, std::string common_name)
    : dir_(std::move(dir)), state_(std::make_unique<State>()) {
  Spec spec;
  spec.cn = std::move(common_name);
  spec.ca = true;
  spec.not_after = 365L * 86400;
  state_->key = new_key();
  state_->cert = make_cert(spec, state_->key.get(), nullptr, nullptr);
  files_ = write_pair(dir_, "ca", state_->cert.get(), state_->key.get());
}

TestCa::~TestCa() = default;

CertFiles TestCa::issue(const std::string& name, const LeafSpec& spec) const {
  Key key = new_key();
  Cert cert = make_cert(leaf_spec(spec), key.get(), state_->cert.get(), state_->key.get());
  return write_pair(dir_, name, cert.get(), key.get());
}

CertFiles TestCa::self_signed(const std::string& name, const LeafSpec& spec) const {
  Key key = new_key();
  Cert cert = make_cert(leaf_spec(spec), key.get(), nullptr, nullptr);
  return write_pair(dir_, name, cert.get(), key.get());
}

TestCerts make_test_certs(const std::string& dir) {
  TestCa ca(dir);
  LeafSpec local;
  local.dns_names = {"localhost"};
  local.ip_addresses = {"127.0.0.1"};

  LeafSpec expired = local;
  expired.not_before = -std::chrono::hours(24 * 60);
  expired.not_after = -std::chrono::hours(24);

  LeafSpec other;
  other.common_name = "other.example";
  other.dns_names = {"other.example"};

  TestCerts certs;
  certs.ca = ca.files();
  certs.valid = ca.issue("valid", local);
  certs.expired = ca.issue("expired", expired);
  certs.wrong_host = ca.issue("wrong-host", other);
  certs.self_signed = ca.self_signed("self-signed", local);
  return certs;
}

// --- TlsServer -------------------------------------------------------------------------------

TlsServer::TlsServer(TlsServerOptions options) {
  const std::string python = find_on_path(options.python);
  const std::string script = options.script.empty() ? default_script() : options.script;
  const std::string port_file = dir_.file("port");

  std::vector<std::string> args = {python,  script,      "--cert",      options.cert,
                                   "--key", options.key, "--port-file", port_file};
  if (!options.max_tls.empty()) args.insert(args.end(), {"--max-tls", options.max_tls});
  if (!options.min_tls.empty()) args.insert(args.end(), {"--min-tls", options.min_tls});
  if (options.hsts) args.push_back("--hsts");
  for (const auto& h : options.headers) args.insert(args.end(), {"--header", h});
  ProcessSpec spec;
  spec.program = python;
  spec.args.assign(args.begin() + 1, args.end());
  spec.log_path = dir_.file("server.log");
  process_ = ChildProcess(spec);  // dies with the test process, as every child of ours

  std::string why;
  auto ready = [&] {
    if (!process_.running()) {
      why = "tls_server.py " + exit_text(process_.exit_status().value_or(-1)) +
            " before listening: " + process_.log_tail(1000);
      return true;
    }
    std::ifstream in(port_file);
    unsigned port = 0;
    if (in >> port && port > 0 && port < 65536) {
      port_ = static_cast<unsigned short>(port);
      return true;
    }
    return false;
  };
  if (!poll_until(ready, options.start_timeout)) {
    why = "tls_server.py did not write " + port_file + " within " +
          std::to_string(options.start_timeout.count()) + " ms";
  }
  if (port_ == 0) {
    stop();
    throw std::runtime_error(why + " (" + python + " " + script + ")");
  }
}

TlsServer::~TlsServer() {
  stop();
}

void TlsServer::stop() {
  process_.stop(SIGTERM, 3000ms);
}

}  // namespace kgate::testfw
