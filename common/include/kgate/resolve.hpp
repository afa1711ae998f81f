#pragma once
// Name resolution with a deadline, for every client of ours (HTTP, the load engine, the TLS
// probe). getaddrinfo cannot be cancelled or given a timeout, so a name is looked up on a thread
// of its own that the caller stops waiting for at the deadline or when interrupted; the thread
// finishes and frees its result whenever the resolver returns. Address literals are converted
// on the caller's thread and never block.
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace kgate {

// One address as connect() takes it.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t size = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

struct ResolveResult {
  enum class Failure { kNone, kNotFound, kTimeout, kInterrupted };
  std::vector<SocketAddress> addresses;  // in getaddrinfo's order; empty on failure
  Failure failure = Failure::kNone;
  std::string error;  // getaddrinfo's reason, "timed out after 300ms" or "interrupted"
  bool ok() const { return failure == Failure::kNone; }
};

// TCP addresses for host (a name or an IP literal without brackets) and a numeric port.
// `interrupted` is polled every 20 ms while a lookup is in flight.
ResolveResult resolve_tcp(const std::string& host, const std::string& port,
                          std::chrono::milliseconds timeout,
                          const std::function<bool()>& interrupted = {});

}  // namespace kgate
