#pragma once
// The worker's end of the start barrier: a small HTTP server on the pod's port that the
// coordinator reaches through the API server's pod proxy (pods/proxy), so the workers need no
// API credentials and the coordinator no route into the cluster's network. Asio and Beast stay
// in barrier_server.cpp.
#include <functional>
#include <memory>
#include <string>

namespace kgate::dist::detail {

struct HttpAnswer {
  int status = 200;
  std::string body;  // JSON
};
// Called on the server's thread, one request at a time.
using Handler = std::function<HttpAnswer(const std::string& method, const std::string& path,
                                         const std::string& body)>;

class BarrierServer {
 public:
  // Listens on every address at `port` (the pod's own) and serves on a thread of its own.
  // Throws std::runtime_error when the port cannot be bound.
  BarrierServer(int port, Handler handler);
  ~BarrierServer();  // stops and joins
  BarrierServer(const BarrierServer&) = delete;
  BarrierServer& operator=(const BarrierServer&) = delete;
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kgate::dist::detail
