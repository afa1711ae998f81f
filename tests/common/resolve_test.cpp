#include "kgate/resolve.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <atomic>

#include "kgate/http.hpp"
#include "silent_dns.hpp"

namespace kgate {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Resolve, LiteralsNeedNoLookup) {
  auto v4 = resolve_tcp("127.0.0.1", "8080", 1ms);
  ASSERT_TRUE(v4.ok()) << v4.error;
  ASSERT_EQ(v4.addresses.size(), 1u);
  EXPECT_EQ(v4.addresses[0].family(), AF_INET);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(v4.addresses[0].get())->sin_port), 8080);
  auto v6 = resolve_tcp("::1", "443", 1ms);
  ASSERT_TRUE(v6.ok()) << v6.error;
  EXPECT_EQ(v6.addresses[0].family(), AF_INET6);
}

TEST(Resolve, LocalhostFromTheHostsFile) {
  auto r = resolve_tcp("localhost", "80", 5s);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.addresses.empty());
}

TEST(Resolve, ADeadDnsServerCostsTheTimeoutNotTheResolversOwn) {
  std::string why;
  const bool ran = test::run_with_silent_dns(
      [] {
        const auto started = Clock::now();
        auto r = resolve_tcp("kgate-silent-dns.test", "80", 200ms);
        EXPECT_EQ(r.failure, ResolveResult::Failure::kTimeout);
        EXPECT_EQ(r.error, "timed out after 200ms");
        EXPECT_TRUE(r.addresses.empty());
        // The silent server holds getaddrinfo for 5 s.
        EXPECT_LT(Clock::now() - started, 2s);
      },
      &why);
  if (!ran) GTEST_SKIP() << "no silent DNS server: " << why;
}

TEST(Resolve, InterruptEndsTheWait) {
  std::string why;
  const bool ran = test::run_with_silent_dns(
      [] {
        const auto started = Clock::now();
        std::atomic<int> asked{0};
        auto r = resolve_tcp("kgate-silent-dns.test", "80", 30s, [&] { return ++asked >= 3; });
        EXPECT_EQ(r.failure, ResolveResult::Failure::kInterrupted);
        EXPECT_EQ(asked.load(), 3);
        EXPECT_LT(Clock::now() - started, 2s);
      },
      &why);
  if (!ran) GTEST_SKIP() << "no silent DNS server: " << why;
}

TEST(Resolve, HttpClientLookupIsBoundedByTheConnectTimeout) {
  std::string why;
  const bool ran = test::run_with_silent_dns(
      [] {
        http::ClientOptions o;
        o.connect_timeout = 300ms;
        http::Client client(o);
        http::Request req;
        req.url = "http://kgate-silent-dns.test/health";
        const auto started = Clock::now();
        try {
          client.send(req);
          ADD_FAILURE() << "resolved";
        } catch (const http::TransportError& e) {
          EXPECT_EQ(e.kind(), http::ErrorKind::Timeout);
          EXPECT_EQ(std::string(e.what()),
                    "GET http://kgate-silent-dns.test/health: resolve timed out after 300ms");
        }
        EXPECT_LT(Clock::now() - started, 2s);
      },
      &why);
  if (!ran) GTEST_SKIP() << "no silent DNS server: " << why;
}

}  // namespace
}  // namespace kgate
