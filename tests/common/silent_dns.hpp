#pragma once
// A DNS server that never answers, for tests of lookup deadlines: a UDP socket on a loopback
// address, port 53, that receives queries and drops them. run_with_silent_dns() runs a function
// on a thread of its own whose private mount namespace sees an /etc/resolv.conf naming only that
// server, so getaddrinfo() there waits out the resolver's own timeout, as with a dead DNS
// server. The rest of the process keeps the real resolver. Needs root (a mount namespace and
// port 53); when unavailable it returns false and says why, so the test can skip.
#include <functional>
#include <string>

namespace kgate::test {

bool run_with_silent_dns(const std::function<void()>& fn, std::string* why);

}  // namespace kgate::test
