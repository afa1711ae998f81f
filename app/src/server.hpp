#pragma once
// The HTTP/1.1 server (Boost.Beast, C++20 coroutines). Beast stays inside server.cpp.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "message.hpp"

namespace todo {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  unsigned short port = 0;  // 0: the OS picks
  int io_threads = 1;
  int worker_threads = 0;  // pool for Handler::blocking requests; 0: run them on I/O threads
  std::chrono::milliseconds grace{10000};
  std::size_t body_limit = 1u << 20;
  std::chrono::seconds idle_timeout{30};  // keep-alive connection without a request
  std::chrono::seconds io_timeout{30};    // reading one request / writing one response
};

using ListeningCallback = std::function<void(const std::string& host, unsigned short port)>;

// Binds, calls on_listening once the socket listens, serves until SIGTERM/SIGINT, then drains:
// stops accepting, sets lifecycle.draining, finishes requests in flight, closes idle keep-alive
// connections, and returns 0 — at the latest when the grace period ends. Throws
// std::runtime_error when it cannot listen.
int serve(const ServerOptions& options, Handler& handler, Lifecycle& lifecycle,
          const ListeningCallback& on_listening);

}  // namespace todo
