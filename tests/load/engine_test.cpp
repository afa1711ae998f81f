// The load engine against real servers on loopback: schedules are kept, connections reused,
// every timeout enforced, TLS verified, and latency measured from the intended start so a
// stalled server shows in the percentiles (coordinated omission).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/silent_dns.hpp"
#include "common/test_server.hpp"
#include "framework/certs.hpp"
#include "kgate/load/engine.hpp"

namespace kgate::load {
namespace {

using namespace std::chrono_literals;
using test::Reply;
using test::TestServer;

ExecutorSpec open_rate(double rate, Nanos duration) {
  ExecutorSpec s;
  s.type = "constant-arrival-rate";
  s.rate = rate;
  s.duration = duration;
  return s;
}

ExecutorSpec closed(int vus, Nanos duration) {
  ExecutorSpec s;
  s.type = "constant-vus";
  s.vus = vus;
  s.duration = duration;
  return s;
}

LoadResult run(const ExecutorSpec& spec, const std::string& url, EngineOptions options = {}) {
  std::atomic<bool> stop{false};
  RequestSpec request;
  request.url = url;
  return run_load(*make_executor(spec), request, options, stop);
}

TEST(Executors, ConstantArrivalRateIsEvenlySpaced) {
  auto e = make_executor(open_rate(1000, 2s));
  EXPECT_TRUE(e->open_model());
  EXPECT_EQ(e->total_iterations(), 2000u);
  EXPECT_EQ(*e->arrival(0), 0ns);
  EXPECT_EQ(*e->arrival(1), 1ms);
  EXPECT_EQ(*e->arrival(1999), 1999ms);
  EXPECT_FALSE(e->arrival(2000));
}

TEST(Executors, RampingArrivalRateFollowsItsIntegral) {
  ExecutorSpec s;
  s.type = "ramping-arrival-rate";
  s.stages = parse_stages("10s:100,10s:100");  // 0→100/s over 10 s, then 100/s for 10 s
  auto e = make_executor(s);
  EXPECT_EQ(e->total_iterations(), 500u + 1000u);
  // N(t) = 5 t² in the ramp: iteration 125 is due at t = 5 s.
  EXPECT_NEAR(std::chrono::duration<double>(*e->arrival(125)).count(), 5.0, 1e-6);
  // In the flat stage, 100/s from 500 on.
  EXPECT_NEAR(std::chrono::duration<double>(*e->arrival(600)).count(), 11.0, 1e-6);
  for (std::uint64_t i = 1; i < e->total_iterations(); ++i)
    ASSERT_LE(*e->arrival(i - 1), *e->arrival(i)) << i;
}

TEST(Executors, VuExecutorsRampLinearly) {
  auto c = make_executor(closed(8, 5s));
  EXPECT_FALSE(c->open_model());
  EXPECT_EQ(c->vus_at(0s), 8);
  EXPECT_EQ(c->vus_at(5s), 0);
  ExecutorSpec s;
  s.type = "ramping-vus";
  s.stages = parse_stages("10s:10,10s:0");
  auto r = make_executor(s);
  EXPECT_EQ(r->max_vus(), 10);
  EXPECT_EQ(r->vus_at(5s), 5);
  EXPECT_EQ(r->vus_at(10s), 10);
  EXPECT_EQ(r->vus_at(15s), 5);
}

TEST(Executors, BadSpecsSayWhatIsWrong) {
  EXPECT_THROW(make_executor(open_rate(0, 1s)), std::invalid_argument);
  ExecutorSpec s;
  s.type = "constant-arival-rate";
  try {
    make_executor(s);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("constant-arrival-rate"), std::string::npos);
  }
  EXPECT_THROW(parse_stages("30s"), std::invalid_argument);
  EXPECT_THROW(parse_stages("30x:10"), std::invalid_argument);
}

TEST(Engine, OpenModelHitsItsRateAndDropsNothing) {
  TestServer server([](const test::RawRequest&) { return TestServer::ok("ok"); });
  auto r = run(open_rate(500, 2s), server.url("/"));
  EXPECT_EQ(r.summary.requests, 1000u);
  EXPECT_EQ(r.summary.completed, 1000u);
  EXPECT_EQ(r.summary.failed, 0u);
  EXPECT_EQ(r.summary.dropped, 0u);
  EXPECT_EQ(r.summary.status_codes.at(200), 1000u);
  EXPECT_GE(r.series.size(), 2u);
  EXPECT_GT(r.summary.bytes_in, 1000u * 20);
  EXPECT_GT(r.summary.bytes_out, 1000u * 20);
}

TEST(Engine, ClosedModelReusesOneConnectionPerVu) {
  TestServer server([](const test::RawRequest&) { return TestServer::ok("ok"); });
  EngineOptions o;
  o.threads = 2;
  auto r = run(closed(2, 1s), server.url("/"), o);
  EXPECT_GT(r.summary.completed, 200u);
  EXPECT_EQ(server.connections(), 2) << "keep-alive: one connection per VU";
  EXPECT_EQ(r.connections_opened, 2u);
  EXPECT_EQ(static_cast<std::uint64_t>(server.requests()), r.summary.completed);
}

TEST(Engine, ConnectionCloseFromTheServerIsFollowedByANewConnection) {
  TestServer server([](const test::RawRequest&) {
    return TestServer::raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                           true);
  });
  auto r = run(closed(1, 500ms), server.url("/"));
  EXPECT_GT(r.summary.completed, 5u);
  EXPECT_EQ(r.summary.failed, 0u);
  EXPECT_EQ(static_cast<std::uint64_t>(server.connections()), r.summary.completed);
}

// A server that reads the request and closes without a word (a pod going away) is counted as
// `closed`, not as an anonymous `other`.
TEST(Engine, ConnectionsClosedWithoutAnAnswerAreCountedAsClosed) {
  TestServer server([](const test::RawRequest&) { return TestServer::raw("", true); });
  auto r = run(closed(1, 300ms), server.url("/"));
  EXPECT_GT(r.summary.errors["closed"], 2u) << "every request";
  EXPECT_EQ(r.summary.errors.count("other"), 0u);
  EXPECT_EQ(r.summary.completed, 0u);
}

TEST(Engine, RequestTimeoutCutsAHungAnswer) {
  TestServer server([](const test::RawRequest&) { return TestServer::hang(); });
  EngineOptions o;
  o.request_timeout = 300ms;
  auto started = std::chrono::steady_clock::now();
  auto r = run(closed(1, 1s), server.url("/"), o);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(r.summary.errors["timeout"], 2u);
  EXPECT_EQ(r.summary.completed, 0u);
  // Cut by the request timeout, the run ends at about 1.3 s (its duration plus one timeout).
  // Uncut, the last request would hang until the engine's hard stop at 1 s + 3 s (connect
  // timeout) + 0.3 s + 1 s = 5.3 s. 4 s tells the two apart with room for a loaded machine
  // (ASan, 2 cores, tests in parallel).
  EXPECT_LT(took, 4s) << "the run ends within its duration plus one timeout";
}

// A server that holds every answer for `stall`, then answers 200: connect is instant, the
// answer slow. Answers still held when it goes away are let go at once (no sleep to wait out).
class SlowServer {
 public:
  explicit SlowServer(std::chrono::milliseconds stall)
      : server_([this, stall](const test::RawRequest&) {
          std::unique_lock lock(mu_);
          cv_.wait_for(lock, stall, [this] { return released_; });
          return TestServer::ok("ok");
        }) {}
  ~SlowServer() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  std::string url() const { return server_.url("/"); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  TestServer server_;  // last: its threads use the members above
};

TEST(Engine, TotalTimeoutCutsASlowAnswerTheRequestTimeoutWouldWaitFor) {
  // Answers take 3 s, far from the 200 ms total timeout, so that a cut and an answer cannot be
  // confused however slow the machine.
  SlowServer server(3s);
  EngineOptions o;
  o.request_timeout = 10s;
  o.total_timeout = 200ms;
  auto started = std::chrono::steady_clock::now();
  auto r = run(open_rate(10, 1s), server.url(), o);
  auto took = std::chrono::steady_clock::now() - started;
  const auto& s = r.summary;
  EXPECT_EQ(s.requests, 10u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.completed, 0u);
  EXPECT_EQ(s.failed, s.requests);
  EXPECT_EQ(s.errors, (std::map<std::string, std::uint64_t>{{"timeout", s.requests}}))
      << "the same class as the request and connect timeouts";
  EXPECT_GE(s.latency.min(), 200'000u) << "not cut before the total timeout";
  // Cut on the engine's 20 ms sweep after 200 ms; an uncut request would take the server's 3 s.
  EXPECT_LT(s.latency.max(), 2'000'000u) << "cut near 200 ms, not at the answer (3 s)";
  // About 1.2 s when cut (the last arrival at 0.9 s plus 200 ms); 3.9 s when the answers are
  // awaited.
  EXPECT_LT(took, 3s) << "the run ends about one total timeout after its 1 s duration";
}

TEST(Engine, GenerousTotalTimeoutLetsTheSameSlowAnswersThrough) {
  SlowServer server(1s);
  EngineOptions o;
  o.request_timeout = 10s;
  o.total_timeout = 5s;
  auto r = run(open_rate(10, 1s), server.url(), o);
  const auto& s = r.summary;
  EXPECT_EQ(s.requests, 10u);
  EXPECT_EQ(s.completed, 10u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(s.status_codes.at(200), 10u);
  EXPECT_GE(s.service.min(), 900'000u) << "every answer took the server's stall";
}

TEST(Engine, RefusedConnectionsAreConnectErrors) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // nobody listens on this port now
  auto r = run(open_rate(50, 500ms), "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/");
  EXPECT_EQ(r.summary.completed, 0u);
  EXPECT_EQ(r.summary.errors["connect"], r.summary.requests);
}

// A listener that never accepts, its backlog filled: further SYNs go unanswered.
class FullBacklog {
 public:
  FullBacklog() {
    lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(lfd_, 0) == 0;
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    for (int i = 0; i < 4; ++i) {
      int f = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(f, reinterpret_cast<sockaddr*>(&a), sizeof a);
      fillers_.push_back(f);
    }
  }
  ~FullBacklog() {
    for (int f : fillers_) ::close(f);
    ::close(lfd_);
  }
  bool ok() const { return ok_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  int lfd_ = -1;
  bool ok_ = false;
  unsigned short port_ = 0;
  std::vector<int> fillers_;
};

TEST(Engine, ConnectTimeoutWhenTheBacklogIsFull) {
  FullBacklog listener;
  ASSERT_TRUE(listener.ok());
  EngineOptions o;
  o.connect_timeout = 200ms;
  o.connections = 1;
  auto r = run(closed(1, 700ms), listener.url(), o);
  EXPECT_GE(r.summary.errors["timeout"], 1u) << "connect attempts must time out, not hang";
}

TEST(Engine, TotalTimeoutCountsTheConnect) {
  FullBacklog listener;
  ASSERT_TRUE(listener.ok());
  EngineOptions o;
  o.connect_timeout = 10s;
  o.request_timeout = 10s;
  o.total_timeout = 200ms;
  o.connections = 1;
  auto started = std::chrono::steady_clock::now();
  auto r = run(closed(1, 700ms), listener.url(), o);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.summary.completed, 0u);
  EXPECT_GE(r.summary.errors["timeout"], 2u) << "hung connects cut by the total timeout";
  EXPECT_EQ(r.summary.errors["timeout"], r.summary.requests);
  // About 0.9 s (700 ms and one 200 ms cut); the connect timeout alone would hold it 10 s.
  EXPECT_LT(took, 5s) << "not held for the 10 s connect timeout";
}

class EngineTls : public ::testing::Test {
 protected:
  EngineTls() : certs_(testfw::make_test_certs(dir_.path())) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_file(ctx_, certs_.valid.cert.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx_, certs_.valid.key.c_str(), SSL_FILETYPE_PEM);
  }
  ~EngineTls() override { SSL_CTX_free(ctx_); }
  testfw::TempDir dir_{"kgate-load-tls"};
  testfw::TestCerts certs_;
  SSL_CTX* ctx_ = nullptr;
};

TEST_F(EngineTls, VerifiesAgainstTheGivenCa) {
  TestServer server([](const test::RawRequest&) { return TestServer::ok("ok"); }, ctx_);
  std::string url = "https://localhost:" + std::to_string(server.port()) + "/";
  EngineOptions o;
  o.ca_file = certs_.ca.cert;
  auto r = run(closed(1, 300ms), url, o);
  EXPECT_GT(r.summary.completed, 10u);
  EXPECT_EQ(r.summary.failed, 0u);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(EngineTls, RefusesAnUntrustedCertificateUnlessInsecure) {
  TestServer server([](const test::RawRequest&) { return TestServer::ok("ok"); }, ctx_);
  std::string url = "https://localhost:" + std::to_string(server.port()) + "/";
  auto r = run(open_rate(20, 300ms), url);  // the system store does not know the test CA
  EXPECT_EQ(r.summary.completed, 0u);
  EXPECT_GT(r.summary.errors["tls"], 0u);
  EngineOptions o;
  o.insecure = true;
  auto ok = run(open_rate(20, 300ms), url, o);
  EXPECT_GT(ok.summary.completed, 0u);
  EXPECT_EQ(ok.summary.errors.count("tls"), 0u);
}

// How many recorded values are at least `us` (give or take the width of its bucket).
std::uint64_t count_at_least(const Histogram& h, std::uint64_t us) {
  std::uint64_t n = 0;
  for (auto i = histogram_layout::bucket_index(us); i < Histogram::kBucketCount; ++i)
    n += h.bucket_count_at(i);
  return n;
}

// The server stalls for 1 s in a 10 s run at 1,000 rps. Requests that could not be sent while
// every connection was stuck waited in the engine: measured from their intended start, the
// stall shows (p99 ≥ 0.5 s); measured from the actual send (service time), it does not.
TEST(Engine, CoordinatedOmissionIsCorrected) {
  using Clock = std::chrono::steady_clock;
  std::atomic<Clock::rep> stall_from{Clock::time_point::max().time_since_epoch().count()};
  TestServer server([&](const test::RawRequest&) {
    auto from = Clock::time_point(Clock::duration(stall_from.load()));
    auto now = Clock::now();
    if (now >= from && now < from + 1s) std::this_thread::sleep_until(from + 1s);
    return TestServer::ok("ok");
  });
  stall_from = (Clock::now() + 4s).time_since_epoch().count();
  EngineOptions o;
  o.connections = 8;
  o.max_queue_wait = 2s;
  auto r = run(open_rate(1000, 10s), server.url("/"), o);
  const auto& s = r.summary;
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_GE(s.completed, 9900u);
  EXPECT_GE(s.latency.percentile(99), 500'000u) << "corrected p99 must show the 1 s stall";
  // Counted rather than timed, so a slow machine cannot blur it: the ~500 requests due in the
  // first half of the stall all waited past its end (slowness only adds to that), while a
  // connection carries one request at a time, so at most 8 requests (one per connection) were
  // sent into the stall and took ≥ 0.5 s of service.
  EXPECT_GE(count_at_least(s.latency, 500'000), 450u) << "the wait shows from the intended start";
  EXPECT_LE(count_at_least(s.service, 500'000), 8u) << "but not in the service time";
}

// Every request's outcome, as the resilience suite reads them: one per request, due at the
// schedule's exact times, with the status or the way it failed.
class Recorder : public RequestObserver {
 public:
  void observe(int, const RequestOutcome& o) noexcept override {
    std::lock_guard lock(mutex_);
    outcomes_.push_back(o);
  }
  std::vector<RequestOutcome> outcomes() {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

 private:
  std::mutex mutex_;
  std::vector<RequestOutcome> outcomes_;
};

TEST(Engine, TheObserverSeesEveryRequestAtItsIntendedTime) {
  std::atomic<int> n{0};
  TestServer server([&](const test::RawRequest&) {
    return ++n % 4 == 0 ? TestServer::raw("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n")
                        : TestServer::ok("ok");
  });
  Recorder recorder;
  EngineOptions o;
  o.threads = 2;
  o.observer = &recorder;
  auto r = run(open_rate(100, 1s), server.url("/"), o);
  auto seen = recorder.outcomes();
  ASSERT_EQ(seen.size(), r.summary.requests);
  ASSERT_EQ(seen.size(), 100u);
  std::uint64_t unavailable = 0;
  for (const auto& s : seen) {
    EXPECT_EQ(s.transport, RequestOutcome::Transport::kAnswered);
    EXPECT_GE(s.done, s.intended);
    if (s.status == 503) ++unavailable;
  }
  EXPECT_EQ(unavailable, r.summary.errors["5xx"]);
  EXPECT_EQ(unavailable, 25u);
  // The intended times are the schedule's, to the nanosecond: 10 ms apart over both threads.
  std::vector<std::chrono::steady_clock::time_point> due;
  for (const auto& s : seen) due.push_back(s.intended);
  std::sort(due.begin(), due.end());
  for (std::size_t i = 1; i < due.size(); ++i) EXPECT_EQ(due[i] - due[i - 1], 10ms) << i;
}

// A server that closes each connection after its answer without saying so (no Connection:
// close), as a draining server closes its idle connections: a request sent on such a connection
// fails (`closed`), unless the engine looks before it reuses one.
TEST(Engine, IdleConnectionsTheServerClosedAreNotReusedWhenChecked) {
  TestServer server([](const test::RawRequest&) {
    return TestServer::raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true);
  });
  Recorder unchecked_seen;
  EngineOptions o;
  o.threads = 1;
  o.connections = 1;
  o.observer = &unchecked_seen;
  auto unchecked = run(open_rate(50, 1s), server.url("/"), o);
  EXPECT_GT(unchecked.summary.errors["closed"], 10u) << "stale connections were reused";
  std::uint64_t broken = 0;
  for (const auto& s : unchecked_seen.outcomes())
    if (s.transport == RequestOutcome::Transport::kOther) ++broken;
  EXPECT_EQ(broken, unchecked.summary.errors["closed"]);

  o.observer = nullptr;
  o.check_idle_connections = true;
  const int before = server.connections();
  auto checked = run(open_rate(50, 1s), server.url("/"), o);
  EXPECT_EQ(checked.summary.failed, 0u);
  EXPECT_EQ(checked.summary.completed, 50u);
  EXPECT_EQ(static_cast<std::uint64_t>(server.connections() - before), 50u);
}

// Without connection reuse every request opens a connection of its own (as independent users
// do), so an L4 balancer spreads them; nothing fails for it.
TEST(Engine, WithoutReuseEachRequestHasItsOwnConnection) {
  TestServer server([](const test::RawRequest&) { return TestServer::ok("ok"); });
  EngineOptions o;
  o.threads = 1;
  o.reuse_connections = false;
  const int before = server.connections();
  auto r = run(open_rate(40, 1s), server.url("/"), o);
  EXPECT_EQ(r.summary.failed, 0u);
  EXPECT_EQ(r.summary.completed, 40u);
  EXPECT_EQ(server.connections() - before, 40);
}

TEST(Engine, CtrlCStopsEarlyAndMarksTheResult) {
  TestServer server([](const test::RawRequest&) { return TestServer::ok("ok"); });
  std::atomic<bool> stop{false};
  RequestSpec request;
  request.url = server.url("/");
  std::thread stopper([&] {
    // The user's Ctrl-C, once the run is well under way.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (server.requests() < 20 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    stop = true;
  });
  auto started = std::chrono::steady_clock::now();
  auto r = run_load(*make_executor(open_rate(200, 30s)), request, EngineOptions{}, stop);
  stopper.join();
  EXPECT_TRUE(r.interrupted);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_GT(r.summary.completed, 10u);
}

// A scenario of plain GETs that presses Ctrl-C (sets stop) as it reads the first answer: the
// engine hears of it at its next tick, when the VU that got the answer has begun its think.
class StopAfterFirstAnswer : public Scenario {
 public:
  StopAfterFirstAnswer(std::atomic<bool>& stop, std::string host) : stop_(stop), host_(host) {}
  std::uint32_t next(int, std::string& wire) override {
    wire = "GET / HTTP/1.1\r\nHost: " + host_ + "\r\n\r\n";
    return 0;
  }
  void answered(int, std::uint32_t, int, std::string_view) override {
    if (!stop_.exchange(true)) stopped_at_ = std::chrono::steady_clock::now();
  }
  std::chrono::steady_clock::time_point stopped_at() const { return stopped_at_; }

 private:
  std::atomic<bool>& stop_;
  std::string host_;
  std::chrono::steady_clock::time_point stopped_at_;
};

TEST(Engine, CtrlCDuringThinkTimeStopsWithinASecond) {
  TestServer server([](const test::RawRequest&) { return TestServer::ok("ok"); });
  std::atomic<bool> stop{false};
  StopAfterFirstAnswer scenario(stop, "127.0.0.1:" + std::to_string(server.port()));
  ExecutorSpec spec = closed(1, 60s);
  spec.think_time = 30s;
  RequestSpec origin;
  origin.url = server.url("/");
  auto r = run_load(*make_executor(spec), scenario, origin, EngineOptions{}, stop);
  const auto after_stop = std::chrono::steady_clock::now() - scenario.stopped_at();
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.summary.completed, 1u);
  EXPECT_LT(after_stop, 1s) << "a VU thinking for 30 s must not hold the end of the run";
}

TEST(Engine, NameResolutionIsBoundedByTheConnectTimeout) {
  std::string why;
  const bool ran = test::run_with_silent_dns(
      [] {
        EngineOptions o;
        o.connect_timeout = 300ms;
        const auto started = std::chrono::steady_clock::now();
        try {
          run(closed(1, 1s), "http://kgate-silent-dns.test:8080/", o);
          ADD_FAILURE() << "the name resolved";
        } catch (const std::runtime_error& e) {
          EXPECT_EQ(std::string(e.what()),
                    "cannot resolve kgate-silent-dns.test: timed out after 300ms");
        }
        // The silent server holds getaddrinfo for 5 s; the run gives up at its connect timeout.
        EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
      },
      &why);
  if (!ran) GTEST_SKIP() << "no silent DNS server: " << why;
}

TEST(Engine, CtrlCDuringNameResolutionEndsTheRunAtOnce) {
  std::string why;
  const bool ran = test::run_with_silent_dns(
      [] {
        std::atomic<bool> stop{false};
        RequestSpec request;
        request.url = "http://kgate-silent-dns.test:8080/";
        EngineOptions o;
        o.connect_timeout = 30s;
        auto started = std::chrono::steady_clock::now();
        std::thread ctrl_c([&] { stop = true; });
        auto r = run_load(*make_executor(closed(1, 1s)), request, o, stop);
        ctrl_c.join();
        EXPECT_TRUE(r.interrupted);
        EXPECT_EQ(r.summary.requests, 0u);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
      },
      &why);
  if (!ran) GTEST_SKIP() << "no silent DNS server: " << why;
}

}  // namespace
}  // namespace kgate::load
