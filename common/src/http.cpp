// The only translation unit with Beast/Asio: it is slow to compile, so it stays here.
#include "kgate/http.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <map>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "kgate/resolve.hpp"
#include "kgate/url.hpp"

namespace kgate::http {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

std::atomic<InterruptCheck> g_interrupt{nullptr};
thread_local int t_shield = 0;  // InterruptShields alive on this thread

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string ms_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + "ms";
}

enum class Outcome { Done, Timeout, Interrupted };

// Runs handlers until *done, the deadline or an interrupt. On the latter two `abort` cancels the
// operation; with `drain` the loop then waits for its handler so nothing refers to this frame
// afterwards. Handlers that own their state need no drain.
template <class Abort>
Outcome run_until(asio::io_context& ioc, const bool& done, Clock::time_point deadline,
                  Abort&& abort, bool drain = true) {
  Outcome outcome = Outcome::Done;
  while (!done) {
    if (outcome == Outcome::Done) {
      InterruptCheck check = g_interrupt.load(std::memory_order_relaxed);
      if (check && t_shield == 0 && check()) {
        outcome = Outcome::Interrupted;
        abort();
        if (!drain) return outcome;
        continue;
      }
      if (Clock::now() >= deadline) {
        outcome = Outcome::Timeout;
        abort();
        if (!drain) return outcome;
        continue;
      }
    }
    if (ioc.stopped()) ioc.restart();
    auto slice = std::chrono::milliseconds(50);
    if (outcome == Outcome::Done) {
      slice =
          std::min(slice, std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
      slice = std::max(slice, std::chrono::milliseconds(1));
    }
    ioc.run_one_for(slice);
  }
  return outcome;
}

// One open connection, plain or TLS.
struct Conn {
  explicit Conn(asio::io_context& ioc) : plain(std::make_unique<tcp::socket>(ioc)) {}
  Conn(asio::io_context& ioc, ssl::context& ctx)
      : tls(std::make_unique<ssl::stream<tcp::socket>>(ioc, ctx)) {}

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
  void close() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  std::unique_ptr<tcp::socket> plain;
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  beast::flat_buffer buffer;
};

// RFC 9110 9.2.2: sending one of these twice has the effect of sending it once, so a request
// that may or may not have reached the server can be repeated. POST and PATCH cannot.
bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE";
}

// An idle kept-alive connection has nothing to read. Readable (the server's FIN, a reset, bytes
// nobody asked for) means the server is done with it: checked without blocking before a request
// is written, so such a connection is provably closed and is replaced without sending anything.
bool closed_by_peer(Conn& conn) {
  if (conn.buffer.size() > 0) return true;
  pollfd p{conn.socket().native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;  // -1 too: a connection we cannot check is not worth the risk
}

}  // namespace

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Resolve:
      return "resolve";
    case ErrorKind::Connect:
      return "connect";
    case ErrorKind::Timeout:
      return "timeout";
    case ErrorKind::Tls:
      return "tls";
    case ErrorKind::Protocol:
      return "protocol";
    case ErrorKind::Interrupted:
      return "interrupted";
  }
  return "unknown";
}

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

void set_interrupt_check(InterruptCheck check) {
  g_interrupt.store(check);
}

InterruptShield::InterruptShield() {
  ++t_shield;
}
InterruptShield::~InterruptShield() {
  --t_shield;
}

bool interrupt_requested() {
  InterruptCheck check = g_interrupt.load(std::memory_order_relaxed);
  return check && t_shield == 0 && check();
}

struct Client::Impl {
  explicit Impl(ClientOptions o) : options(std::move(o)) {}

  ClientOptions options;
  asio::io_context ioc;
  std::unique_ptr<ssl::context> ssl_ctx;               // built on the first https request
  std::map<std::string, std::unique_ptr<Conn>> conns;  // kept-alive, one per origin

  Response send(const Request& request);
  Response stream(const Request& request, const std::function<bool(std::string_view)>& on_body,
                  std::chrono::milliseconds idle_timeout);

 private:
  bhttp::request<bhttp::string_body> build(const Request& request, Url& url);
  [[noreturn]] void fail_read(const error_code& ec, bool wrote, bool nothing_received) const;
  [[noreturn]] void fail(ErrorKind kind, const std::string& what) const {
    throw TransportError(kind, prefix + ": " + what);
  }
  ssl::context& tls_context();
  std::unique_ptr<Conn> connect(const Url& url);
  void handshake(Conn& conn, const Url& url, Clock::time_point deadline);

  std::string prefix;  // "GET http://host/path" for error messages
};

ssl::context& Client::Impl::tls_context() {
  if (ssl_ctx) return *ssl_ctx;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  error_code ec;
  if (options.verify_tls) {
    ctx->set_default_verify_paths(ec);  // a missing system store is not fatal
    if (!options.ca_file.empty()) {
      ctx->load_verify_file(options.ca_file, ec);
      if (ec) fail(ErrorKind::Tls, "cannot load ca_file " + options.ca_file + ": " + ec.message());
    }
    if (!options.ca_pem.empty()) {
      ctx->add_certificate_authority(asio::buffer(options.ca_pem), ec);
      if (ec) fail(ErrorKind::Tls, "cannot load ca_pem: " + ec.message());
    }
  }
  if (!options.client_cert_pem.empty()) {
    ctx->use_certificate_chain(asio::buffer(options.client_cert_pem), ec);
    if (ec) fail(ErrorKind::Tls, "cannot load client certificate: " + ec.message());
    ctx->use_private_key(asio::buffer(options.client_key_pem), ssl::context::pem, ec);
    if (ec) fail(ErrorKind::Tls, "cannot load client key: " + ec.message());
  }
  ssl_ctx = std::move(ctx);
  return *ssl_ctx;
}

std::unique_ptr<Conn> Client::Impl::connect(const Url& url) {
  const auto deadline = Clock::now() + options.connect_timeout;
  auto conn = url.tls() ? std::make_unique<Conn>(ioc, tls_context()) : std::make_unique<Conn>(ioc);

  const ResolveResult lookup = resolve_tcp(url.host, url.port, options.connect_timeout, [] {
    InterruptCheck check = g_interrupt.load(std::memory_order_relaxed);
    return check && t_shield == 0 && check();
  });
  switch (lookup.failure) {
    case ResolveResult::Failure::kTimeout:
      fail(ErrorKind::Timeout, "resolve timed out after " + ms_text(options.connect_timeout));
    case ResolveResult::Failure::kInterrupted:
      fail(ErrorKind::Interrupted, "interrupted while resolving");
    case ResolveResult::Failure::kNotFound:
      fail(ErrorKind::Resolve, "resolve failed: " + lookup.error);
    case ResolveResult::Failure::kNone:
      break;
  }
  std::vector<tcp::endpoint> endpoints;
  for (const auto& a : lookup.addresses) {
    tcp::endpoint e;
    std::memcpy(e.data(), a.get(), a.size);
    e.resize(a.size);
    endpoints.push_back(e);
  }

  bool done = false;
  error_code ec;
  asio::async_connect(conn->socket(), endpoints, [&](const error_code& e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  switch (run_until(ioc, done, deadline, [&] { conn->close(); })) {
    case Outcome::Timeout:
      fail(ErrorKind::Timeout, "connect timed out after " + ms_text(options.connect_timeout));
    case Outcome::Interrupted:
      fail(ErrorKind::Interrupted, "interrupted while connecting");
    case Outcome::Done:
      break;
  }
  if (ec) fail(ErrorKind::Connect, "connect failed: " + ec.message());
  error_code ignored;
  conn->socket().set_option(tcp::no_delay(true), ignored);

  if (conn->tls) handshake(*conn, url, deadline);
  return conn;
}

void Client::Impl::handshake(Conn& conn, const Url& url, Clock::time_point deadline) {
  SSL* ssl_handle = conn.tls->native_handle();
  const std::string name = options.server_name.empty() ? url.host : options.server_name;
  const bool ip = is_ip_literal(name);
  // SNI carries host names only, never addresses (RFC 6066).
  if (!ip && SSL_set_tlsext_host_name(ssl_handle, name.c_str()) != 1) {
    fail(ErrorKind::Tls, "cannot set SNI name " + name);
  }
  if (options.verify_tls) {
    conn.tls->set_verify_mode(ssl::verify_peer);
    // OpenSSL checks the name during chain verification, so the failure reason is precise.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (ok != 1) fail(ErrorKind::Tls, "cannot set expected peer name " + name);
  } else {
    conn.tls->set_verify_mode(ssl::verify_none);
  }

  bool done = false;
  error_code ec;
  conn.tls->async_handshake(ssl::stream_base::client, [&](const error_code& e) {
    ec = e;
    done = true;
  });
  switch (run_until(ioc, done, deadline, [&] { conn.close(); })) {
    case Outcome::Timeout:
      fail(ErrorKind::Timeout, "TLS handshake timed out after " + ms_text(options.connect_timeout));
    case Outcome::Interrupted:
      fail(ErrorKind::Interrupted, "interrupted during TLS handshake");
    case Outcome::Done:
      break;
  }
  if (ec) {
    long verify = SSL_get_verify_result(ssl_handle);
    if (options.verify_tls && verify != X509_V_OK) {
      fail(ErrorKind::Tls, "TLS handshake failed: certificate verify failed: " +
                               std::string(X509_verify_cert_error_string(verify)));
    }
    fail(ErrorKind::Tls, "TLS handshake failed: " + ec.message());
  }
}

bhttp::request<bhttp::string_body> Client::Impl::build(const Request& request, Url& url) {
  prefix = request.method + " " + request.url;
  try {
    url = Url::parse(request.url);
  } catch (const std::invalid_argument& e) {
    fail(ErrorKind::Protocol, e.what());
  }

  if (request.method.empty() || request.method.find_first_of(" \t\r\n") != std::string::npos) {
    fail(ErrorKind::Protocol, "invalid method '" + request.method + "'");
  }

  bhttp::request<bhttp::string_body> req;
  req.version(11);
  req.method_string(request.method);
  req.target(url.target);
  auto caller_has = [&](std::string_view name) {
    return find_header(request.headers, name).has_value();
  };
  if (!caller_has("Host")) req.set(bhttp::field::host, url.host_header());
  if (!caller_has("User-Agent") && !options.user_agent.empty()) {
    req.set(bhttp::field::user_agent, options.user_agent);
  }
  for (const auto& [k, v] : request.headers) req.insert(k, v);
  if (!options.keep_alive) req.set(bhttp::field::connection, "close");
  req.body() = request.body;
  const bool wants_length = !request.body.empty() || request.method == "POST" ||
                            request.method == "PUT" || request.method == "PATCH";
  if (wants_length && !caller_has("Content-Length") && !caller_has("Transfer-Encoding")) {
    req.content_length(request.body.size());
  }
  return req;
}

Response Client::Impl::send(const Request& request) {
  Url url;
  auto req = build(request, url);
  const std::string origin = url.origin();
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Conn> conn;
    bool reused = false;
    if (auto it = conns.find(origin); it != conns.end()) {
      conn = std::move(it->second);
      conns.erase(it);
      reused = true;
      if (closed_by_peer(*conn)) {
        conn->close();
        reused = false;
      }
    }
    if (!reused) conn = connect(url);

    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    parser.header_limit(1u << 20);
    if (iequals(request.method, "HEAD")) parser.skip(true);

    bool done = false;
    bool wrote = false;
    std::size_t read_bytes = 0;
    error_code ec;
    Clock::time_point end_time;
    const auto start = Clock::now();
    const auto deadline = start + options.request_timeout;
    auto on_read = [&](const error_code& e, std::size_t n) {
      end_time = Clock::now();
      ec = e;
      read_bytes = n;
      done = true;
    };
    auto on_write = [&](auto& stream) {
      return [&](const error_code& e, std::size_t) {
        if (e) {
          ec = e;
          done = true;
          return;
        }
        wrote = true;
        bhttp::async_read(stream, conn->buffer, parser, on_read);
      };
    };
    if (conn->tls) {
      bhttp::async_write(*conn->tls, req, on_write(*conn->tls));
    } else {
      bhttp::async_write(*conn->plain, req, on_write(*conn->plain));
    }
    switch (run_until(ioc, done, deadline, [&] { conn->close(); })) {
      case Outcome::Timeout:
        fail(ErrorKind::Timeout,
             "request timed out after " + ms_text(options.request_timeout) +
                 (wrote ? " waiting for the response" : " sending the request"));
      case Outcome::Interrupted:
        fail(ErrorKind::Interrupted, "interrupted");
      case Outcome::Done:
        break;
    }
    if (ec) {
      const bool nothing_received =
          read_bytes == 0 && conn->buffer.size() == 0 && !parser.got_some();
      // The server closed a kept-alive connection as the request went out (its idle timeout):
      // retried once, but only when a repeat cannot do anything twice. A POST may have been
      // handled before the close; sending it again could create a second task.
      if (reused && attempt == 0 && nothing_received && idempotent(request.method)) continue;
      fail_read(ec, wrote, nothing_received);
    }

    auto& msg = parser.get();
    Response res;
    res.status = static_cast<int>(msg.result_int());
    res.reason = std::string(msg.reason());
    for (const auto& field : msg) {
      res.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    res.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(end_time - start);
    const bool keep = options.keep_alive && msg.keep_alive() && !parser.need_eof();
    res.body = std::move(msg.body());
    if (keep) {
      conns[origin] = std::move(conn);
    } else {
      conn->close();
    }
    return res;
  }
}

void Client::Impl::fail_read(const error_code& ec, bool wrote, bool nothing_received) const {
  if (ec == bhttp::error::body_limit) {
    fail(ErrorKind::Protocol,
         "response body exceeds " + std::to_string(options.max_body_bytes) + " bytes");
  }
  if (ec.category() == asio::error::get_ssl_category() ||
      ec == asio::ssl::error::stream_truncated) {
    fail(ErrorKind::Tls, (wrote ? "read failed: " : "write failed: ") + ec.message());
  }
  if (!wrote) fail(ErrorKind::Protocol, "write failed: " + ec.message());
  if (nothing_received && (ec == bhttp::error::end_of_stream || ec == asio::error::eof)) {
    fail(ErrorKind::Protocol, "connection closed before any response");
  }
  fail(ErrorKind::Protocol, "read failed: " + ec.message());
}

Response Client::Impl::stream(const Request& request,
                              const std::function<bool(std::string_view)>& on_body,
                              std::chrono::milliseconds idle_timeout) {
  Url url;
  auto req = build(request, url);
  // A fresh connection: a kept-alive one may be stale, and a stream cannot be retried blindly
  // once part of it has been delivered.
  auto conn = connect(url);
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  parser.header_limit(1u << 20);

  bool done = false;
  bool wrote = false;
  error_code ec;
  auto await = [&](Clock::time_point deadline, const char* waiting_for) {
    switch (run_until(ioc, done, deadline, [&] { conn->close(); })) {
      case Outcome::Timeout:
        fail(ErrorKind::Timeout, std::string("timed out ") + waiting_for);
      case Outcome::Interrupted:
        fail(ErrorKind::Interrupted, "interrupted");
      case Outcome::Done:
        break;
    }
    done = false;
  };
  auto on_io = [&](const error_code& e, std::size_t) {
    ec = e;
    done = true;
  };
  const auto start = Clock::now();
  if (conn->tls) {
    bhttp::async_write(*conn->tls, req, on_io);
  } else {
    bhttp::async_write(*conn->plain, req, on_io);
  }
  await(start + options.request_timeout, "sending the request");
  if (ec) fail_read(ec, false, true);
  wrote = true;
  if (conn->tls) {
    bhttp::async_read_header(*conn->tls, conn->buffer, parser, on_io);
  } else {
    bhttp::async_read_header(*conn->plain, conn->buffer, parser, on_io);
  }
  await(start + options.request_timeout, "waiting for the response header");
  if (ec) fail_read(ec, wrote, !parser.got_some());

  Response res;
  const auto& header = parser.get();
  res.status = static_cast<int>(header.result_int());
  res.reason = std::string(header.reason());
  for (const auto& field : header) {
    res.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  const bool success = res.status >= 200 && res.status < 300;
  std::string chunk(64 * 1024, '\0');
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    if (conn->tls) {
      bhttp::async_read_some(*conn->tls, conn->buffer, parser, on_io);
    } else {
      bhttp::async_read_some(*conn->plain, conn->buffer, parser, on_io);
    }
    // Wait for bytes while letting the caller stop between them (an empty chunk every 200 ms).
    const auto idle_deadline = Clock::now() + idle_timeout;
    auto tick = Clock::now() + std::chrono::milliseconds(200);
    bool stopped = false;
    while (!done) {
      InterruptCheck check = g_interrupt.load(std::memory_order_relaxed);
      const bool interrupted = check && t_shield == 0 && check();
      const auto now = Clock::now();
      if (interrupted || now >= idle_deadline) {
        conn->close();
        run_until(ioc, done, Clock::time_point::max(), [] {});
        if (interrupted) fail(ErrorKind::Interrupted, "interrupted");
        fail(ErrorKind::Timeout,
             "no data for " + ms_text(idle_timeout) + " while reading the response");
      }
      if (success && now >= tick) {
        tick = now + std::chrono::milliseconds(200);
        if (!on_body({})) {
          stopped = true;
          conn->close();
          run_until(ioc, done, Clock::time_point::max(), [] {});
          break;
        }
      }
      if (ioc.stopped()) ioc.restart();
      ioc.run_one_for(std::chrono::milliseconds(50));
    }
    done = false;
    if (stopped) break;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) fail_read(ec, wrote, false);
    const std::size_t got = chunk.size() - parser.get().body().size;
    if (got == 0) continue;
    const std::string_view data(chunk.data(), got);
    if (!success) {
      if (res.body.size() + got > options.max_body_bytes) break;
      res.body.append(data);
    } else if (!on_body(data)) {
      break;
    }
  }
  res.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  conn->close();
  return res;
}

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Response Client::send(const Request& request) {
  try {
    return impl_->send(request);
  } catch (const TransportError&) {
    throw;
  } catch (const std::exception& e) {
    // Anything unexpected from Asio/OpenSSL still surfaces as a transport failure.
    throw TransportError(ErrorKind::Protocol, request.method + " " + request.url + ": " + e.what());
  }
}

Response Client::stream(const Request& request,
                        const std::function<bool(std::string_view)>& on_body,
                        std::chrono::milliseconds idle_timeout) {
  try {
    return impl_->stream(request, on_body, idle_timeout);
  } catch (const TransportError&) {
    throw;
  } catch (const std::exception& e) {
    throw TransportError(ErrorKind::Protocol, request.method + " " + request.url + ": " + e.what());
  }
}

const ClientOptions& Client::options() const {
  return impl_->options;
}

}  // namespace kgate::http
