#include "kgate/tls_probe.hpp"

#include "kgate/openssl_ptr.hpp"
#include "kgate/resolve.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <utility>

namespace kgate::tls {
namespace {

using Clock = std::chrono::steady_clock;

using CtxPtr = ossl::SslCtxPtr;
using ossl::BioPtr;
using ossl::NamesPtr;
using ossl::SslPtr;
using ossl::X509Ptr;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// OpenSSL writes to the socket with write(2), which raises SIGPIPE if the peer has gone away
// (a server that refuses a version and closes). A library must not change the process's signal
// disposition, so block SIGPIPE in this thread for the duration and discard any it raised.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      timespec zero{};
      while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_{};
  bool was_pending_ = false;
};

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  // Round up so poll never spins on a sub-millisecond remainder.
  return static_cast<int>(left.count()) + 1;
}

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r may return a static string instead of filling buf.
  return strerror_r(err, buf, sizeof buf);
}

// "[::1]" -> "::1": URLs bracket IPv6 literals, getaddrinfo and X509_check_ip_asc do not.
std::string strip_brackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// The OpenSSL error queue as one line, most recent last; clears the queue.
std::string openssl_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    if (reason) {
      out += reason;
    } else {
      char buf[256];
      ERR_error_string_n(code, buf, sizeof buf);
      out += buf;
    }
  }
  return out;
}

std::string address_text(const SocketAddress& a) {
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (getnameinfo(a.get(), a.size, host, sizeof host, serv, sizeof serv,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return a.family() == AF_INET6 ? "[" + std::string(host) + "]:" + serv
                                : std::string(host) + ":" + serv;
}

// Non-blocking connect to one address, waiting at most until the deadline.
Fd connect_one(const SocketAddress& a, Clock::time_point deadline, std::string* error) {
  Fd fd(::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd.valid()) {
    *error = "socket: " + errno_text(errno);
    return Fd();
  }
  if (::connect(fd.get(), a.get(), a.size) == 0) return fd;
  if (errno != EINPROGRESS) {
    *error = "connect " + address_text(a) + ": " + errno_text(errno);
    return Fd();
  }
  pollfd pfd{fd.get(), POLLOUT, 0};
  for (;;) {
    int n = ::poll(&pfd, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "poll: " + errno_text(errno);
      return Fd();
    }
    if (n == 0) {
      *error = "connect " + address_text(a) + ": timed out";
      return Fd();
    }
    break;
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
  if (so_error != 0) {
    *error = "connect " + address_text(a) + ": " + errno_text(so_error);
    return Fd();
  }
  return fd;
}

// Tries every address (e.g. "localhost" is ::1 and 127.0.0.1) until one connects.
Fd connect_tcp(const std::string& host, unsigned short port, Clock::time_point deadline,
               std::string* error) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(
      std::max(Clock::duration(), deadline - Clock::now()));
  const ResolveResult addrs = resolve_tcp(host, std::to_string(port), left);
  if (!addrs.ok()) {
    *error = "resolve " + host + ": " + addrs.error;
    return Fd();
  }
  std::string errors;
  for (const SocketAddress& a : addrs.addresses) {
    std::string why;
    Fd fd = connect_one(a, deadline, &why);
    if (fd.valid()) return fd;
    if (!errors.empty()) errors += "; ";
    errors += why;
    if (Clock::now() >= deadline) break;
  }
  *error = errors.empty() ? "resolve " + host + ": no addresses" : errors;
  return Fd();
}

// Drives SSL_connect on the non-blocking socket, polling for whatever OpenSSL waits on.
// Returns true when the handshake completed; otherwise *timed_out says whether the deadline,
// not the peer, ended it.
bool handshake(SSL* ssl, int fd, Clock::time_point deadline, std::string* error, bool* timed_out) {
  *timed_out = false;
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_connect(ssl);
    if (rc == 1) return true;
    int err = SSL_get_error(ssl, rc);
    short events = 0;
    if (err == SSL_ERROR_WANT_READ) {
      events = POLLIN;
    } else if (err == SSL_ERROR_WANT_WRITE) {
      events = POLLOUT;
    } else {
      int saved_errno = errno;
      std::string detail = openssl_errors();
      if (detail.empty() && err == SSL_ERROR_SYSCALL) {
        detail = saved_errno != 0 ? errno_text(saved_errno) : "connection closed by peer";
      } else if (detail.empty() && err == SSL_ERROR_ZERO_RETURN) {
        detail = "connection closed by peer";
      }
      if (detail.empty()) detail = "SSL_get_error " + std::to_string(err);
      *error = "TLS handshake: " + detail;
      return false;
    }
    pollfd pfd{fd, events, 0};
    int n = ::poll(&pfd, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "poll: " + errno_text(errno);
      return false;
    }
    if (n == 0) {
      *timed_out = true;
      *error = "TLS handshake: timed out";
      return false;
    }
  }
}

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !name) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string iso_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN];
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  int len = ASN1_STRING_length(ip);
  if (len == 4 && inet_ntop(AF_INET, data, buf, sizeof buf)) return buf;
  if (len == 16 && inet_ntop(AF_INET6, data, buf, sizeof buf)) return buf;
  return {};
}

CertInfo cert_info(X509* cert) {
  CertInfo info;
  info.subject = name_text(X509_get_subject_name(cert));
  info.issuer = name_text(X509_get_issuer_name(cert));
  NamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING* s = gn->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      std::string ip = ip_text(gn->d.iPAddress);
      if (!ip.empty()) info.ip_addresses.push_back(std::move(ip));
    }
  }
  const ASN1_TIME* not_before = X509_get0_notBefore(cert);
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  info.not_before = iso_time(not_before);
  info.not_after = iso_time(not_after);
  // X509_cmp_current_time: -1 = before now, 1 = after now, 0 = error (treat as invalid).
  info.expired = X509_cmp_current_time(not_after) <= 0;
  info.not_yet_valid = X509_cmp_current_time(not_before) >= 0;
  int days = 0;
  int secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, not_after) == 1) info.days_left = days;
  return info;
}

bool matches_host(X509* cert, const std::string& name) {
  if (name.empty()) return false;
  if (is_ip_literal(name)) return X509_check_ip_asc(cert, name.c_str(), 0) == 1;
  return X509_check_host(cert, name.c_str(), name.size(), 0, nullptr) == 1;
}

// A connected, handshaken TLS session (or why not).
struct Session {
  Fd fd;
  CtxPtr ctx;
  SslPtr ssl;
  bool tcp_connected = false;
  bool refused = false;  // the peer ended the handshake (alert or close)
  bool timed_out = false;
  std::string error;

  Session() = default;
  Session(Session&&) = default;
  Session& operator=(Session&&) = default;
  ~Session() {
    // Best effort close_notify; the socket is non-blocking so this cannot hang. The SSL must
    // go before the fd it uses, which member order (fd declared first) already ensures.
    if (ssl && SSL_is_init_finished(ssl.get())) {
      ERR_clear_error();
      SSL_shutdown(ssl.get());
      ERR_clear_error();
    }
  }
};

// Connects and handshakes with `ctx`. The handshake outcome is in session.ssl being usable
// (error empty) or in error/timed_out.
Session open_session(const ProbeOptions& options, CtxPtr ctx) {
  Session s;
  s.ctx = std::move(ctx);
  const auto deadline = Clock::now() + options.timeout;
  const std::string host = strip_brackets(options.host);
  if (host.empty()) {
    s.error = "no host given";
    return s;
  }
  s.fd = connect_tcp(host, options.port, deadline, &s.error);
  if (!s.fd.valid()) return s;
  s.tcp_connected = true;

  s.ssl.reset(SSL_new(s.ctx.get()));
  if (!s.ssl || SSL_set_fd(s.ssl.get(), s.fd.get()) != 1) {
    s.error = "SSL_new: " + openssl_errors();
    return s;
  }
  const std::string sni = options.sni.empty() ? host : strip_brackets(options.sni);
  if (!is_ip_literal(sni) && SSL_set_tlsext_host_name(s.ssl.get(), sni.c_str()) != 1) {
    s.error = "SNI " + sni + ": " + openssl_errors();
    return s;
  }
  s.refused = !handshake(s.ssl.get(), s.fd.get(), deadline, &s.error, &s.timed_out) && !s.timed_out;
  return s;
}

CtxPtr new_client_ctx(std::string* error) {
  ERR_clear_error();
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) *error = "SSL_CTX_new: " + openssl_errors();
  return ctx;
}

}  // namespace

ProbeResult probe(const ProbeOptions& options) {
  ProbeResult result;
  try {
    SigpipeGuard sigpipe;
    CtxPtr ctx = new_client_ctx(&result.error);
    if (!ctx) return result;
    // Verify, but with SSL_VERIFY_NONE: OpenSSL still runs the chain check and records the
    // outcome for SSL_get_verify_result, yet lets the handshake finish so we can report it.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    if (!options.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr) != 1) {
        result.error = "load CA file " + options.ca_file + ": " + openssl_errors();
        return result;
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      result.error = "load system CA store: " + openssl_errors();
      return result;
    }

    Session s = open_session(options, std::move(ctx));
    result.tcp_connected = s.tcp_connected;
    if (!s.error.empty()) {
      result.error = std::move(s.error);
      return result;
    }
    result.connected = true;
    SSL* ssl = s.ssl.get();
    result.protocol = SSL_get_version(ssl);
    if (const char* cipher = SSL_get_cipher_name(ssl)) result.cipher = cipher;

    X509Ptr leaf(SSL_get1_peer_certificate(ssl));
    if (!leaf) {
      result.verify_error = "no peer certificate";
      return result;
    }
    long verify = SSL_get_verify_result(ssl);
    result.chain_valid = verify == X509_V_OK;
    if (!result.chain_valid) result.verify_error = X509_verify_cert_error_string(verify);
    const std::string name =
        options.sni.empty() ? strip_brackets(options.host) : strip_brackets(options.sni);
    result.host_matches = matches_host(leaf.get(), name);
    result.leaf = cert_info(leaf.get());
  } catch (const std::exception& e) {
    result.connected = false;
    result.error = std::string("internal error: ") + e.what();
  }
  return result;
}

std::optional<bool> accepts_version(const ProbeOptions& options, int version, std::string* error) {
  std::string why;
  std::optional<bool> answer;
  try {
    SigpipeGuard sigpipe;
    CtxPtr ctx = new_client_ctx(&why);
    if (!ctx) {
      if (error) *error = why;
      return std::nullopt;
    }
    // OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 handshake signatures) at the default security
    // level 1; level 0 and a SECLEVEL=0 cipher list let it actually offer them.
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    if (SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0") != 1 ||
        SSL_CTX_set_min_proto_version(ctx.get(), version) != 1 ||
        SSL_CTX_set_max_proto_version(ctx.get(), version) != 1) {
      if (error)
        *error = "configure TLS version " + std::to_string(version) + ": " + openssl_errors();
      return std::nullopt;
    }
    Session s = open_session(options, std::move(ctx));
    if (s.refused) {
      why = s.error;
      answer = false;
    } else if (!s.error.empty()) {
      why = s.error;  // lookup, connect or timeout: no answer either way
    } else {
      answer = SSL_version(s.ssl.get()) == version;
      if (!*answer) why = std::string("negotiated ") + SSL_get_version(s.ssl.get());
    }
  } catch (const std::exception& e) {
    why = std::string("internal error: ") + e.what();
    answer.reset();
  }
  if (error) *error = why;
  return answer;
}

}  // namespace kgate::tls
