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
  // The drain ends before `grace` once no connection has been open for this long: the
  // endpoint removal has reached every client, nothing new arrives.
  std::chrono::milliseconds drain_quiet{1000};
  bool graceful = true;           // false: the no-graceful-shutdown fault (_exit on the signal)
  bool log_request_read = false;  // log "request read" before handling (tests wait for it)
  std::size_t body_limit = 1u << 20;
  std::chrono::seconds idle_timeout{30};  // keep-alive connection without a request
  std::chrono::seconds io_timeout{30};    // reading one request / writing one response
};

using ListeningCallback = std::function<void(const std::string& host, unsigned short port)>;

// Binds, calls on_listening once the socket listens, serves until SIGTERM/SIGINT, then drains
// the way a rolling update needs it: lifecycle.draining is set at once (/ready answers 503);
// requests in flight and new ones (endpoint removal takes a while to reach every client) are
// still served, each response with Connection: close so clients move to other pods; a
// connection that stays quiet for drain_quiet is closed. Once no connection has been open for
// drain_quiet the listener closes and serve returns 0; when `grace` ends first, the process
// exits 0 at once. Throws std::runtime_error when it cannot listen.
int serve(const ServerOptions& options, Handler& handler, Lifecycle& lifecycle,
          const ListeningCallback& on_listening);

}  // namespace todo
