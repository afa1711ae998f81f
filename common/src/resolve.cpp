#include "kgate/resolve.hpp"

#include <netdb.h>
#include <netinet/in.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace kgate {
namespace {

using Clock = std::chrono::steady_clock;

struct Answer {
  int rc = 0;
  int err = 0;  // errno for EAI_SYSTEM
  std::vector<SocketAddress> addresses;
};

Answer lookup(const std::string& host, const std::string& port, int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  // No AI_ADDRCONFIG: it drops 127.0.0.1 for "localhost" where only loopback has an address
  // (a fresh network namespace).
  hints.ai_flags = flags | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  Answer a;
  a.rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  a.err = errno;
  if (a.rc != 0) return a;
  for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SocketAddress s;
    std::memcpy(&s.storage, ai->ai_addr, ai->ai_addrlen);
    s.size = ai->ai_addrlen;
    a.addresses.push_back(s);
  }
  ::freeaddrinfo(res);
  return a;
}

ResolveResult from(Answer a) {
  ResolveResult r;
  if (a.rc == 0 && a.addresses.empty()) {
    r.failure = ResolveResult::Failure::kNotFound;
    r.error = "no addresses";
  } else if (a.rc == EAI_SYSTEM) {
    r.failure = ResolveResult::Failure::kNotFound;
    r.error = std::strerror(a.err);
  } else if (a.rc != 0) {
    r.failure = ResolveResult::Failure::kNotFound;
    r.error = ::gai_strerror(a.rc);
  } else {
    r.addresses = std::move(a.addresses);
  }
  return r;
}

// What the lookup thread and the waiting caller share; the last one to let go frees it.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Answer answer;
};

}  // namespace

ResolveResult resolve_tcp(const std::string& host, const std::string& port,
                          std::chrono::milliseconds timeout,
                          const std::function<bool()>& interrupted) {
  Answer literal = lookup(host, port, AI_NUMERICHOST);
  if (literal.rc != EAI_NONAME) return from(std::move(literal));

  const auto deadline = Clock::now() + timeout;
  auto pending = std::make_shared<Pending>();
  try {
    std::thread([pending, host, port] {
      Answer a = lookup(host, port, 0);
      std::lock_guard lock(pending->mu);
      pending->answer = std::move(a);
      pending->done = true;
      pending->cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    ResolveResult r;
    r.failure = ResolveResult::Failure::kNotFound;
    r.error = std::string("cannot start a resolver thread: ") + e.what();
    return r;
  }
  std::unique_lock lock(pending->mu);
  for (;;) {
    const auto slice = std::min(deadline, Clock::now() + std::chrono::milliseconds(20));
    if (pending->cv.wait_until(lock, slice, [&] { return pending->done; })) {
      return from(std::move(pending->answer));
    }
    ResolveResult r;
    if (interrupted && interrupted()) {
      r.failure = ResolveResult::Failure::kInterrupted;
      r.error = "interrupted";
      return r;
    }
    if (Clock::now() >= deadline) {
      r.failure = ResolveResult::Failure::kTimeout;
      r.error = "timed out after " + std::to_string(timeout.count()) + "ms";
      return r;
    }
  }
}

}  // namespace kgate
