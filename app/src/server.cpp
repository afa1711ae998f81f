#include "server.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace todo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;

struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  std::string remote;
  // Waiting for the first byte of a next request: the start of a drain cancels that wait (to
  // shorten it). Touched only on the connection's strand.
  bool idle = false;
};

// A response written by the server itself, for requests that never reached the handler.
bhttp::response<bhttp::string_body> plain_error(unsigned status, const char* detail) {
  bhttp::response<bhttp::string_body> res;
  res.result(status);
  res.set(bhttp::field::server, "todo-app");
  res.set(bhttp::field::content_type, "application/json");
  res.set("X-Content-Type-Options", "nosniff");
  res.set(bhttp::field::cache_control, "no-store");
  res.body() = std::string("{\"detail\":\"") + detail + "\"}";
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::body_limit && ec != bhttp::error::header_limit;
}

class Server {
 public:
  Server(const ServerOptions& options, Handler& handler, Lifecycle& lifecycle)
      : options_(options),
        handler_(handler),
        lifecycle_(lifecycle),
        io_(options.io_threads),
        control_(asio::make_strand(io_)),
        acceptor_(control_),
        signals_(control_, SIGINT, SIGTERM),
        grace_timer_(control_),
        quiet_timer_(control_) {
    if (options_.worker_threads > 0) workers_.emplace(options_.worker_threads);
  }

  void listen(const ListeningCallback& on_listening) {
    tcp::endpoint endpoint;
    error_code ec;
    auto address = asio::ip::make_address(options_.bind, ec);
    if (!ec) {
      endpoint = tcp::endpoint(address, options_.port);
    } else {
      tcp::resolver resolver(io_);
      auto results = resolver.resolve(options_.bind, std::to_string(options_.port), ec);
      if (ec || results.empty()) {
        throw std::runtime_error("cannot resolve bind address " + options_.bind);
      }
      endpoint = results.begin()->endpoint();
    }
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error("cannot listen on " + options_.bind + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
    }
    auto local = acceptor_.local_endpoint();
    std::string host = local.address().to_string();
    if (local.address().is_v6()) host = "[" + host + "]";
    on_listening(host, local.port());
  }

  int run() {
    asio::co_spawn(control_, accept_loop(), asio::detached);
    wait_for_signal();
    std::vector<std::thread> threads;
    for (int i = 1; i < options_.io_threads; ++i) threads.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : threads) t.join();
    if (workers_) workers_->join();
    spdlog::info("stopped");
    return 0;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), use_tuple);
      if (ec) {
        if (!acceptor_.is_open() || ec == asio::error::operation_aborted) co_return;
        spdlog::warn("accept failed: {}", ec.message());
        // Typically out of file descriptors: back off instead of spinning.
        asio::steady_timer pause(control_, std::chrono::milliseconds(50));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      last_change_ = Clock::now();  // a drain waits for quiet from here on
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto conn = std::make_shared<Connection>(tcp::socket(std::move(socket)));
      auto peer = conn->stream.socket().remote_endpoint(ignored);
      if (!ignored) conn->remote = peer.address().to_string();
      {
        std::lock_guard lock(connections_mu_);
        connections_.insert(conn);
      }
      asio::co_spawn(conn->stream.get_executor(), session(conn),
                     [this, conn](std::exception_ptr e) {
                       if (e) {
                         try {
                           std::rethrow_exception(e);
                         } catch (const std::exception& ex) {
                           spdlog::error("connection failed: {}", ex.what());
                         }
                       }
                       connection_closed(conn);
                     });
    }
  }

  asio::awaitable<void> session(std::shared_ptr<Connection> conn) {
    auto& stream = conn->stream;
    beast::flat_buffer buffer;
    bool linger = false;  // drain unread input before closing (after a 413)
    bool drain_rearmed = false;
    for (;;) {
      if (buffer.size() == 0) {
        // Waiting for a request to start. During a drain the wait is short: a client with more
        // to send sends it at once, and the others should reconnect elsewhere.
        conn->idle = true;
        stream.expires_after(draining_ ? options_.drain_quiet : options_.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), use_tuple);
        conn->idle = false;
        if (ec == asio::error::operation_aborted && draining_ && !drain_rearmed) {
          // The drain began while this connection was idle: wait again, briefly.
          drain_rearmed = true;
          continue;
        }
        if (ec) break;
        buffer.commit(n);
      }

      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(16 * 1024);
      parser.body_limit(options_.body_limit);
      stream.expires_after(options_.io_timeout);
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
      if (!ec && !parser.is_done()) {
        auto expect = parser.get()[bhttp::field::expect];
        if (beast::iequals(expect, "100-continue")) {
          bhttp::response<bhttp::empty_body> cont(bhttp::status::continue_, 11);
          auto [wec, wn] = co_await bhttp::async_write(stream, cont, use_tuple);
          if (wec) break;
        }
        std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      }

      Request request;
      if (ec == bhttp::error::body_limit) {
        request.body_too_large = true;
        linger = true;
      } else if (ec == bhttp::error::header_limit || is_parse_error(ec)) {
        auto res = ec == bhttp::error::header_limit
                       ? plain_error(431, "Request header fields too large")
                       : plain_error(400, "Bad Request");
        co_await bhttp::async_write(stream, res, use_tuple);
        break;
      } else if (ec) {
        break;  // closed, timed out or cancelled
      }

      auto& msg = parser.get();
      request.method = std::string(msg.method_string());
      request.target = std::string(msg.target());
      auto q = request.target.find('?');
      request.path = request.target.substr(0, q);
      if (q != std::string::npos) request.query = request.target.substr(q + 1);
      for (const auto& field : msg) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      if (!request.body_too_large) request.body = std::move(msg.body());
      request.remote = conn->remote;
      if (options_.log_request_read) {
        // Tests wait for this line to know a request is in the server's hands.
        spdlog::info("request read method={} path={}", request.method, request.path);
        spdlog::default_logger()->flush();
      }
      const bool client_keep_alive = msg.keep_alive();
      const unsigned version = msg.version();

      auto started = std::chrono::steady_clock::now();
      Response response;
      try {
        if (workers_ && handler_.blocking(request)) {
          // Blocking work (forwarding) runs on the pool; this coroutine resumes on its strand.
          response = co_await asio::co_spawn(
              workers_->get_executor(),
              [this, &request]() -> asio::awaitable<Response> {
                co_return handler_.handle(request);
              },
              asio::use_awaitable);
        } else {
          response = handler_.handle(request);
        }
      } catch (const std::exception& e) {
        spdlog::error("handler failed on {} {}: {}", request.method, request.path, e.what());
        response = detail_response(500, "Internal Server Error");
      }
      if (response.delay.count() > 0) {
        asio::steady_timer delay(stream.get_executor(), response.delay);
        co_await delay.async_wait(use_tuple);
      }

      bhttp::response<bhttp::string_body> res;
      res.version(version);
      res.result(static_cast<unsigned>(response.status));
      for (auto& [name, value] : response.headers) res.insert(name, value);
      // While draining, only requests that already arrived keep the connection open: every
      // other response says Connection: close, so the client's next request goes elsewhere.
      bool keep_alive = client_keep_alive && !linger && (!draining_ || buffer.size() > 0);
      res.keep_alive(keep_alive);
      const std::size_t body_bytes = response.body.size();
      const bool bodiless =
          response.status == 204 || response.status == 304 || response.status < 200;
      if (!bodiless) {
        res.content_length(body_bytes);
        // HEAD: the length of the GET answer, without its body.
        if (request.method != "HEAD") res.body() = std::move(response.body);
      }
      stream.expires_after(options_.io_timeout);
      auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
      auto ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
      // The path identifies the user but never carries credentials; query strings may, so they
      // stay out of the log, as do all headers.
      spdlog::info("request method={} path={} status={} duration_ms={:.1f} bytes={} remote={}",
                   request.method, request.path, response.status, ms, bodiless ? 0 : body_bytes,
                   conn->remote);
      if (wec || !keep_alive) break;
    }

    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (linger) {
      // The client may still be sending the body we refused: read it away briefly so our 413
      // is not lost to a connection reset.
      std::size_t drained = 0;
      while (drained < (8u << 20)) {
        stream.expires_after(std::chrono::seconds(2));
        auto [rec, rn] = co_await stream.async_read_some(buffer.prepare(65536), use_tuple);
        if (rec) break;
        drained += rn;
      }
    }
    stream.close();
  }

  void connection_closed(const std::shared_ptr<Connection>& conn) {
    {
      std::lock_guard lock(connections_mu_);
      connections_.erase(conn);
    }
    if (draining_) {
      asio::post(control_, [this] {
        last_change_ = Clock::now();
        maybe_finish();
      });
    }
  }

  void wait_for_signal() {
    signals_.async_wait([this](const error_code& ec, int sig) {
      if (ec) return;
      if (!options_.graceful) {
        // The no-graceful-shutdown fault: gone at once, as if killed by the signal.
        spdlog::warn("received signal {}: exiting at once (no-graceful-shutdown fault)", sig);
        spdlog::default_logger()->flush();
        std::_Exit(128 + sig);
      }
      if (!draining_) {
        begin_shutdown(sig);
      } else if (sig == SIGINT) {
        spdlog::warn("second interrupt: exiting now");
        force_exit();
      }
      // Once finished, a pending wait would keep io_context running forever.
      if (!finished_) wait_for_signal();
    });
  }

  // Runs on the control strand.
  void begin_shutdown(int sig) {
    draining_ = true;
    lifecycle_.draining = true;
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(connections_mu_);
      open.assign(connections_.begin(), connections_.end());
    }
    spdlog::info("received {}: draining {} connection(s), grace {} ms, quiet {} ms",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT", open.size(), options_.grace.count(),
                 options_.drain_quiet.count());
    // The listener stays open: until the endpoint removal reaches every client, new
    // connections still arrive and must be served, not refused.
    last_change_ = Clock::now();
    for (auto& conn : open) {
      asio::post(conn->stream.get_executor(), [conn] {
        if (conn->idle) conn->stream.cancel();
      });
    }
    grace_timer_.expires_after(options_.grace);
    grace_timer_.async_wait([this](const error_code& ec) {
      if (ec) return;
      std::size_t left;
      {
        std::lock_guard lock(connections_mu_);
        left = connections_.size();
      }
      spdlog::warn("grace period over with {} connection(s) still open: exiting", left);
      force_exit();
    });
    maybe_finish();
  }

  // Runs on the control strand: once draining and no connection has been open for
  // drain_quiet, close the listener and let io_context end.
  void maybe_finish() {
    if (!draining_ || finished_ || quiet_armed_) return;
    {
      std::lock_guard lock(connections_mu_);
      if (!connections_.empty()) return;
    }
    auto quiet_until = last_change_ + options_.drain_quiet;
    if (Clock::now() < quiet_until) {
      quiet_armed_ = true;
      quiet_timer_.expires_at(quiet_until);
      quiet_timer_.async_wait([this](const error_code& ec) {
        quiet_armed_ = false;
        if (!ec) maybe_finish();  // re-checks: a connection may have come meanwhile
      });
      return;
    }
    finished_ = true;
    spdlog::info("drained: no connection for {} ms, closing the listener",
                 options_.drain_quiet.count());
    error_code ignored;
    acceptor_.close(ignored);
    grace_timer_.cancel();
    quiet_timer_.cancel();
    signals_.cancel(ignored);
  }

  [[noreturn]] static void force_exit() {
    spdlog::default_logger()->flush();
    std::_Exit(0);
  }

  const ServerOptions& options_;
  Handler& handler_;
  Lifecycle& lifecycle_;
  asio::io_context io_;
  asio::strand<asio::io_context::executor_type> control_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer grace_timer_;
  asio::steady_timer quiet_timer_;
  std::optional<asio::thread_pool> workers_;
  std::mutex connections_mu_;
  std::unordered_set<std::shared_ptr<Connection>> connections_;
  std::atomic<bool> draining_{false};
  // Control strand only:
  bool finished_ = false;
  bool quiet_armed_ = false;
  Clock::time_point last_change_{};  // last connection opened or closed
};

}  // namespace

int serve(const ServerOptions& options, Handler& handler, Lifecycle& lifecycle,
          const ListeningCallback& on_listening) {
  Server server(options, handler, lifecycle);
  server.listen(on_listening);
  return server.run();
}

}  // namespace todo
