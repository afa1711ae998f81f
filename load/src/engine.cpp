// The hot path. Each thread owns an io_context, its share of the schedule (open model:
// iterations k, k+T, k+2T…; closed model: VUs v with v % T == k) and of the connection pool.
// A request is: take an idle connection (or open one), write pre-serialized bytes, parse the
// answer with a field-less Beast parser that allocates nothing, record two latencies.
// Timeouts (connect, request, total) are enforced by a periodic sweep, not a timer per request
// (cheaper, like wrk).
#include "kgate/load/engine.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "kgate/resolve.hpp"
#include "kgate/url.hpp"

namespace kgate::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using beast::error_code;

std::uint64_t micros(Clock::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us > 0 ? static_cast<std::uint64_t>(us) : 0;
}

// The request on the wire, built once: HTTP/1.1 with Host, Content-Length and keep-alive.
std::string serialize(const RequestSpec& r, const Url& u) {
  std::string out = r.method + " " + u.target + " HTTP/1.1\r\nHost: " + u.host_header() + "\r\n";
  bool agent = false;
  for (const auto& [k, v] : r.headers) {
    out += k + ": " + v + "\r\n";
    agent = agent || beast::iequals(k, "User-Agent");
  }
  if (!agent) out += "User-Agent: kgate-load\r\n";
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH")
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "\r\n" + r.body;
  return out;
}

// Parses a response keeping only its status and size: no fields, no body storage.
class ResponseParser final : public http::basic_parser<false> {
 public:
  explicit ResponseParser(std::string* body = nullptr) : body_(body) {
    body_limit(std::uint64_t{1} << 30);
  }
  int status() const { return status_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, error_code&) override { status_ = code; }
  void on_field_impl(http::field, beast::string_view, beast::string_view, error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    if (body_) body_->append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    if (body_) body_->append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}
  int status_ = 0;
  std::string* body_;  // where the body goes when someone reads it; null: counted and dropped
};

// `closed`: the server closed or reset the connection before answering (a pod going away, a
// keep-alive limit) — its own class, because it is the usual sign of a terminating backend.
enum ErrorClass { kConnect, kTimeout, kTls, k4xx, k5xx, kClosed, kOther, kClasses };
constexpr const char* kClassNames[kClasses] = {"connect", "timeout", "tls",  "4xx",
                                               "5xx",     "closed",  "other"};

// What a thread measured since its last hand-over (one interval) and in total.
struct Tally {
  std::uint64_t requests = 0, completed = 0, failed = 0, dropped = 0, bytes_in = 0, bytes_out = 0;
  std::uint64_t errors[kClasses] = {};
  std::array<std::uint64_t, 600> status{};  // by HTTP status code
  Histogram latency, service;

  void merge(const Tally& o) {
    requests += o.requests;
    completed += o.completed;
    failed += o.failed;
    dropped += o.dropped;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
    for (int i = 0; i < kClasses; ++i) errors[i] += o.errors[i];
    for (std::size_t i = 0; i < status.size(); ++i) status[i] += o.status[i];
    latency.merge(o.latency);
    service.merge(o.service);
  }
  void reset() { *this = Tally(); }

  // The counters an interval and the whole run report alike.
  template <class Out>
  void counts_into(Out& o) const {
    o.requests = requests;
    o.completed = completed;
    o.failed = failed;
    o.dropped = dropped;
    o.bytes_in = bytes_in;
    o.bytes_out = bytes_out;
    for (int i = 0; i < kClasses; ++i)
      if (errors[i]) o.errors[kClassNames[i]] = errors[i];
  }
};

// Collects the threads' intervals into the time series; finished intervals become numbers so
// memory does not grow with the run's length.
class Aggregator {
 public:
  Aggregator(Nanos interval, bool keep_histograms)
      : interval_(interval), keep_histograms_(keep_histograms) {}

  void add(std::size_t slot, const Tally& t) {
    std::lock_guard lock(mu_);
    if (slot >= series_.size()) {
      auto& s = slots_[slot];
      if (!s) s = std::make_unique<Tally>();
      s->merge(t);
    }  // else: a straggler for a finished interval; it still counts in the totals
    total_.merge(t);
  }
  // Intervals before `slot` are complete: turn them into IntervalStats.
  void finish_before(std::size_t slot) {
    std::lock_guard lock(mu_);
    const std::size_t last = slots_.empty() ? 0 : slots_.rbegin()->first + 1;
    while (series_.size() < std::min(slot, last)) {
      auto it = slots_.find(series_.size());
      Tally empty;
      Tally& t = it == slots_.end() ? empty : *it->second;
      IntervalStats s;
      s.start_s =
          std::chrono::duration<double>(interval_).count() * static_cast<double>(series_.size());
      t.counts_into(s);
      if (t.latency.count() > 0) {
        s.p50_us = t.latency.percentile(50);
        s.p95_us = t.latency.percentile(95);
        s.p99_us = t.latency.percentile(99);
        s.max_us = t.latency.max();
      }
      if (t.service.count() > 0) s.service_p99_us = t.service.percentile(99);
      if (keep_histograms_) {
        s.latency_histogram = t.latency.serialize();
        s.service_histogram = t.service.serialize();
      }
      s.rps = static_cast<double>(t.completed) / std::chrono::duration<double>(interval_).count();
      series_.push_back(s);
      if (it != slots_.end()) slots_.erase(it);  // memory stays flat however long the run
    }
  }
  Progress progress(double elapsed, double total) {
    std::lock_guard lock(mu_);
    Progress p;
    p.elapsed_s = elapsed;
    p.total_s = total;
    if (!series_.empty()) {
      last_ = series_.back();
      p.last = &last_;
    }
    p.requests = total_.requests;
    p.failed = total_.failed;
    p.dropped = total_.dropped;
    return p;
  }
  Tally& total() { return total_; }
  std::vector<IntervalStats>& series() { return series_; }

 private:
  std::mutex mu_;
  Nanos interval_;
  bool keep_histograms_;
  std::map<std::size_t, std::unique_ptr<Tally>> slots_;
  std::vector<IntervalStats> series_;
  Tally total_;
  IntervalStats last_;
};

struct Shared {
  const Executor& executor;
  const EngineOptions& options;
  const std::atomic<bool>& stop;
  Url url;
  std::string wire;  // the serialized request (fixed-request runs)
  Scenario* scenario = nullptr;
  std::vector<tcp::endpoint> endpoints;
  ssl::context* tls = nullptr;
  Clock::time_point t0;
  int threads = 1;
  Aggregator aggregator;
  std::atomic<std::uint64_t> opened{0};
  std::atomic<int> open_now{0}, peak{0};
  std::atomic<int> running{0};             // threads that have started
  std::atomic<Clock::rep> all_running{0};  // when the last one did (steady ticks)
};

class Worker;

// One keep-alive connection. Plain TCP or TLS; the rest of the engine does not care.
class Conn {
 public:
  Conn(Worker& w, asio::io_context& ioc, ssl::context* tls) : w_(w), sock_(ioc), think_(ioc) {
    if (tls) tls_.emplace(sock_, *tls);
    buffer_.reserve(512);
  }
  bool busy() const { return busy_; }
  bool open() const { return open_; }
  // Sends one request. `intended` is when it should have started (open model) or now.
  void start(Clock::time_point intended);
  // check_idle_connections: has the server closed this kept-alive connection (or sent something
  // unasked, which is as good as closing it)? One non-blocking peek, no data consumed.
  bool closed_by_peer() {
    char byte;
    const auto n = ::recv(sock_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }
  // The sweep: a request past its deadline is cut by closing the socket. The deadline is the
  // nearest of the phase's (connect or request timeout) and the iteration's (total timeout).
  void enforce_deadline(Clock::time_point now) {
    if (busy_ && now > deadline_) {
      timed_out_ = true;
      shut();
    }
  }
  void shut() {
    error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }
  // Closed model: the VU pauses for its think time, then sends again unless the run is ending.
  // The timer belongs to the connection so that the end of the run can cancel it: a pending
  // think would otherwise keep the thread's io_context running for the whole pause.
  template <class Then>
  void think(Nanos pause, Then then) {
    think_.expires_after(pause);
    think_.async_wait([then](error_code ec) {
      if (!ec) then();
    });
  }
  void stop_thinking() { think_.cancel(); }

 private:
  void connect();
  void handshake();
  void send();
  void read();
  void write();
  void done(error_code ec);
  const std::string& wire() const;
  void fail(ErrorClass cls, error_code ec = {});
  void reset_socket();
  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(sock_);
  }

  Worker& w_;
  tcp::socket sock_;
  asio::steady_timer think_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  beast::flat_buffer buffer_;
  std::optional<ResponseParser> parser_;
  bool busy_ = false, open_ = false, timed_out_ = false;
  bool connected_now_ = false;  // this iteration began by connecting (its start is begun_)
  std::size_t written_ = 0, received_ = 0, read_size_ = 512;
  std::string own_wire_, body_;  // scenario runs: this request, and the answer it wants read
  std::uint32_t tag_ = 0;
  bool issued_ = false;  // the scenario has a request of this connection in flight

 public:
  std::size_t vu = 0;  // closed model: the VU this connection belongs to (local index)

 private:
  Clock::time_point intended_, begun_, sent_, deadline_;
};

class Worker {
 public:
  Worker(Shared& s, int index) : s_(s), index_(index), tick_(ioc_), arrivals_(ioc_) {
    const int t = s.threads;
    if (s.executor.open_model()) {
      cap_ = s.options.connections / t + (index < s.options.connections % t ? 1 : 0);
      cap_ = std::max(cap_, 1);
    } else {
      cap_ = s.executor.max_vus() / t + (index < s.executor.max_vus() % t ? 1 : 0);
    }
    conns_.reserve(static_cast<std::size_t>(cap_));
  }

  void run() {
    if (s_.running.fetch_add(1) + 1 == s_.threads)
      s_.all_running.store(Clock::now().time_since_epoch().count());
    if (s_.executor.open_model()) {
      next_ = static_cast<std::uint64_t>(index_);
      schedule_arrival();
    } else {
      vus_.assign(static_cast<std::size_t>(cap_), nullptr);
    }
    on_tick({});
    ioc_.run();
    flush(true);
  }

  // --- called by connections -------------------------------------------------------------
  Shared& shared() { return s_; }
  int index() const { return index_; }
  Tally& tally() { return tally_; }
  bool stopping() const { return stopping_; }
  void connection_opened() {
    s_.opened.fetch_add(1, std::memory_order_relaxed);
    int now = s_.open_now.fetch_add(1, std::memory_order_relaxed) + 1;
    int peak = s_.peak.load(std::memory_order_relaxed);
    while (now > peak && !s_.peak.compare_exchange_weak(peak, now)) {
    }
  }
  void connection_closed() { s_.open_now.fetch_sub(1, std::memory_order_relaxed); }

  // A request finished (answered or failed) on `c`: give the connection its next work.
  void released(Conn* c) {
    if (stopping_) return;
    if (s_.executor.open_model()) {
      if (!dispatch_to(c)) idle_.push_back(c);
    } else {
      vu_next(c);
    }
  }

 private:
  // --- open model ------------------------------------------------------------------------
  void schedule_arrival() {
    auto at = s_.executor.arrival(next_);
    if (!at) {
      schedule_done_ = true;
      return;
    }
    arrivals_.expires_at(s_.t0 + *at);
    arrivals_.async_wait([this](error_code ec) {
      if (ec || stopping_) return;
      auto now = Clock::now();
      // Everything due by now, in order; the timer fires late under load, never early.
      for (;;) {
        auto due = s_.executor.arrival(next_);
        if (!due) {
          schedule_done_ = true;
          break;
        }
        if (s_.t0 + *due > now) break;
        queue_.push_back(s_.t0 + *due);
        next_ += static_cast<std::uint64_t>(s_.threads);
      }
      drain_queue(now);
      if (!schedule_done_) schedule_arrival();
    });
  }

  void drain_queue(Clock::time_point now) {
    while (!queue_.empty()) {
      if (now - queue_.front() > s_.options.max_queue_wait) {
        dropped(queue_.front(), now);
        queue_.pop_front();
        continue;
      }
      Conn* c = take_connection();
      if (!c) return;  // all busy, pool full: the rest wait (or are dropped on a later pass)
      auto intended = queue_.front();
      queue_.pop_front();
      c->start(intended);
    }
  }

  bool dispatch_to(Conn* c) {
    auto now = Clock::now();
    while (!queue_.empty() && now - queue_.front() > s_.options.max_queue_wait) {
      dropped(queue_.front(), now);
      queue_.pop_front();
    }
    if (queue_.empty()) return false;
    auto intended = queue_.front();
    queue_.pop_front();
    c->start(intended);
    return true;
  }

  void dropped(Clock::time_point intended, Clock::time_point now) {
    ++tally_.dropped;
    if (auto* ob = s_.options.observer) {
      RequestOutcome o;
      o.intended = intended;
      o.done = now;
      o.transport = RequestOutcome::Transport::kDropped;
      ob->observe(index_, o);
    }
  }

  Conn* take_connection() {
    if (!idle_.empty()) {
      Conn* c = idle_.back();
      idle_.pop_back();
      return c;
    }
    if (static_cast<int>(conns_.size()) < cap_) return new_connection();
    return nullptr;
  }

  Conn* new_connection() {
    conns_.push_back(std::make_unique<Conn>(*this, ioc_, s_.tls));
    return conns_.back().get();
  }

  // --- closed model ----------------------------------------------------------------------
  void adjust_vus(Clock::time_point now) {
    if (now < s_.t0) return;
    int want_total = s_.executor.vus_at(std::chrono::duration_cast<Nanos>(now - s_.t0));
    for (std::size_t local = 0; local < vus_.size(); ++local) {
      int global = static_cast<int>(local) * s_.threads + index_;
      bool active = global < want_total;
      if (active && !vus_[local]) {
        // A VU that ramped down left its connection parked: reuse it before opening another.
        if (!parked_.empty()) {
          vus_[local] = parked_.back();
          parked_.pop_back();
        } else {
          vus_[local] = new_connection();
        }
        vus_[local]->vu = local;
        vus_[local]->start(Clock::now());
      }
    }
  }
  void vu_next(Conn* c) {
    auto local = c->vu;
    int global = static_cast<int>(local) * s_.threads + index_;
    auto now = Clock::now();
    if (global >= s_.executor.vus_at(std::chrono::duration_cast<Nanos>(now - s_.t0))) {
      vus_[local] = nullptr;  // ramped down: this VU stops; its connection stays for a ramp-up
      parked_.push_back(c);
      return;
    }
    auto think = s_.executor.think_time();
    if (think.count() <= 0) {
      c->start(now);
      return;
    }
    c->think(think, [this, c] {
      if (!stopping_) c->start(Clock::now());
    });
  }

  // --- housekeeping: deadlines, intervals, the end and Ctrl-C -----------------------------
  void on_tick(error_code ec) {
    if (ec) return;
    auto now = Clock::now();
    for (auto& c : conns_) c->enforce_deadline(now);
    flush(false);
    const auto end = s_.t0 + s_.executor.duration();
    if (s_.stop.load()) {
      interrupted_ = true;
      return finish();
    }
    if (s_.executor.open_model()) {
      drain_queue(now);
      if (schedule_done_ && queue_.empty() && all_idle()) return finish();
    } else if (now >= end) {
      if (!stopping_) stopping_ = true;  // VUs finish their current request
      if (all_idle()) return finish();
    } else {
      adjust_vus(now);
    }
    // Past the end plus the longest a started request may take, nothing more can be waited for.
    if (now >
        end + s_.options.connect_timeout + s_.options.request_timeout + std::chrono::seconds(1)) {
      return finish();
    }
    tick_.expires_after(std::chrono::milliseconds(20));
    tick_.async_wait([this](error_code e) { on_tick(e); });
  }

  bool all_idle() const {
    return std::none_of(conns_.begin(), conns_.end(), [](const auto& c) { return c->busy(); });
  }

  void finish() {
    stopping_ = true;
    arrivals_.cancel();
    tick_.cancel();
    for (auto& c : conns_) {
      c->stop_thinking();
      c->shut();
    }
  }

  // Hands this thread's interval to the aggregator when the interval changes.
  void flush(bool last) {
    auto since = std::max(Clock::duration::zero(), Clock::now() - s_.t0);
    auto slot = static_cast<std::size_t>(since / s_.options.interval);
    if (slot == slot_ && !last) return;
    s_.aggregator.add(slot_, tally_);
    tally_.reset();
    slot_ = slot;
  }

 public:
  bool interrupted_ = false;

 private:
  Shared& s_;
  int index_;
  asio::io_context ioc_{1};
  asio::steady_timer tick_, arrivals_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> idle_, parked_;
  std::vector<Conn*> vus_;
  std::deque<Clock::time_point> queue_;
  std::uint64_t next_ = 0;
  bool schedule_done_ = false, stopping_ = false;
  int cap_ = 1;
  Tally tally_;
  std::size_t slot_ = 0;
};

const std::string& Conn::wire() const {
  return w_.shared().scenario ? own_wire_ : w_.shared().wire;
}

void Conn::start(Clock::time_point intended) {
  busy_ = true;
  timed_out_ = false;
  connected_now_ = false;
  intended_ = intended;
  ++w_.tally().requests;
  if (open_ && w_.shared().options.check_idle_connections && closed_by_peer()) {
    open_ = false;
    w_.connection_closed();
    shut();
    reset_socket();
  }
  if (!open_) return connect();
  send();
}

void Conn::reset_socket() {
  sock_ = tcp::socket(sock_.get_executor());
  if (tls_) tls_.emplace(sock_, *w_.shared().tls);
  buffer_.clear();
}

void Conn::connect() {
  auto& s = w_.shared();
  begun_ = Clock::now();
  connected_now_ = true;
  deadline_ = begun_ + s.options.connect_timeout;
  if (s.options.total_timeout.count() > 0)
    deadline_ = std::min(deadline_, begun_ + s.options.total_timeout);
  asio::async_connect(sock_, s.endpoints, [this](error_code ec, const tcp::endpoint&) {
    if (ec) return fail(timed_out_ ? kTimeout : kConnect, ec);
    error_code ignored;
    sock_.set_option(tcp::no_delay(true), ignored);
    open_ = true;
    w_.connection_opened();
    if (tls_) return handshake();
    send();
  });
}

void Conn::handshake() {
  auto& s = w_.shared();
  if (!SSL_set_tlsext_host_name(tls_->native_handle(), s.url.host.c_str())) return fail(kTls);
  if (!s.options.insecure) {
    tls_->set_verify_mode(ssl::verify_peer);
    tls_->set_verify_callback(ssl::host_name_verification(s.url.host));
  }
  tls_->async_handshake(ssl::stream_base::client, [this](error_code ec) {
    if (ec) return fail(timed_out_ ? kTimeout : kTls);
    send();
  });
}

void Conn::send() {
  auto& s = w_.shared();
  if (s.scenario) {
    own_wire_.clear();
    tag_ = s.scenario->next(w_.index(), own_wire_);
    issued_ = true;
    body_.clear();
    parser_.emplace(s.scenario->wants_body(tag_) ? &body_ : nullptr);
  } else {
    parser_.emplace();
  }
  sent_ = Clock::now();
  deadline_ = sent_ + s.options.request_timeout;
  if (s.options.total_timeout.count() > 0) {
    // An iteration on an open connection starts with its write; a fresh one with its connect.
    if (!connected_now_) begun_ = sent_;
    deadline_ = std::min(deadline_, begun_ + s.options.total_timeout);
  }
  written_ = 0;
  received_ = 0;
  write();
}

// Plain write_some/read_some loops rather than Beast's composed operations: fewer layers of
// handlers per request on the hot path, and the parser is fed straight from the buffer.
void Conn::write() {
  const std::string& wire = this->wire();
  with_stream([this, &wire](auto& stream) {
    stream.async_write_some(asio::buffer(wire.data() + written_, wire.size() - written_),
                            [this](error_code ec, std::size_t n) {
                              if (ec) return done(ec);
                              written_ += n;
                              w_.tally().bytes_out += n;
                              if (written_ < this->wire().size()) return write();
                              read();
                            });
  });
}

void Conn::read() {
  with_stream([this](auto& stream) {
    stream.async_read_some(buffer_.prepare(read_size_), [this](error_code ec, std::size_t n) {
      if (ec == asio::error::eof && parser_->got_some()) {
        // A body delimited by the end of the connection ends here.
        error_code eof_ec;
        parser_->put_eof(eof_ec);
        return done(eof_ec);
      }
      if (ec) return done(ec);
      buffer_.commit(n);
      received_ += n;
      // Small reads keep 10,000 idle connections cheap; a connection that fills its reads
      // gets larger ones (up to 64 KiB) so big bodies take few system calls.
      if (n == read_size_ && read_size_ < 65536) read_size_ *= 2;
      while (buffer_.size() > 0 && !parser_->is_done()) {
        error_code pec;
        std::size_t used = parser_->put(buffer_.data(), pec);
        buffer_.consume(used);
        if (pec == http::error::need_more) break;
        if (pec) return done(pec);
        if (used == 0) break;
      }
      if (parser_->is_done()) return done({});
      read();
    });
  });
}

void Conn::done(error_code ec) {
  if (ec) {
    if (timed_out_) return fail(kTimeout);
    if (ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::broken_pipe || ec == http::error::end_of_stream ||
        ec == asio::ssl::error::stream_truncated)
      return fail(kClosed, ec);
    if (tls_ && ec.category() == asio::error::get_ssl_category()) return fail(kTls);
    return fail(kOther, ec);
  }
  auto now = Clock::now();
  Tally& t = w_.tally();
  t.bytes_in += received_;
  ++t.completed;
  const int status = parser_->status();
  ++t.status[static_cast<std::size_t>(std::clamp(status, 0, 599))];
  if (status >= 500) {
    ++t.failed;
    ++t.errors[k5xx];
  } else if (status >= 400) {
    ++t.failed;
    ++t.errors[k4xx];
  }
  t.latency.record(micros(now - intended_));
  t.service.record(micros(now - sent_));
  if (const auto& sample = w_.shared().options.on_sample) [[unlikely]]
    sample(w_.index(),
           Sample{micros(now - intended_), static_cast<std::int64_t>(micros(now - sent_))});
  if (auto* ob = w_.shared().options.observer) {
    RequestOutcome o;
    o.intended = intended_;
    o.done = now;
    o.status = status;
    o.tag = tag_;
    ob->observe(w_.index(), o);
  }
  if (auto* sc = w_.shared().scenario) sc->answered(w_.index(), tag_, status, body_);
  issued_ = false;
  const bool keep = parser_->keep_alive() && w_.shared().options.reuse_connections;
  busy_ = false;
  if (!keep) {
    shut();
    open_ = false;
    w_.connection_closed();
    reset_socket();
  }
  w_.released(this);
}

void Conn::fail(ErrorClass cls, error_code ec) {
  // The scenario hears of a request it issued (a connect failure never issued one).
  if (auto* sc = w_.shared().scenario; sc && issued_) sc->answered(w_.index(), tag_, 0, {});
  const std::uint32_t issued_tag = issued_ ? tag_ : 0;
  issued_ = false;
  // A request abandoned at the end of the run or on Ctrl-C is not a failure of the target.
  if (!w_.stopping() || cls == kTimeout) {
    Tally& t = w_.tally();
    ++t.failed;
    ++t.errors[cls];
    // It still took this long from the user's point of view: keep the corrected latency honest.
    const auto now = Clock::now();
    const std::uint64_t took = micros(now - intended_);
    t.latency.record(took);
    if (const auto& sample = w_.shared().options.on_sample) [[unlikely]]
      sample(w_.index(), Sample{took, -1});
    if (auto* ob = w_.shared().options.observer) {
      using T = RequestOutcome::Transport;
      RequestOutcome o;
      o.intended = intended_;
      o.done = now;
      o.transport = cls == kConnect   ? T::kConnect
                    : cls == kTimeout ? T::kTimeout
                    : cls == kTls     ? T::kTls
                                      : T::kOther;
      o.sys_error = ec.category() == boost::system::system_category() ? ec.value() : 0;
      o.tag = issued_tag;
      ob->observe(w_.index(), o);
    }
  }
  busy_ = false;
  if (open_) w_.connection_closed();
  open_ = false;
  shut();
  reset_socket();
  w_.released(this);
}

}  // namespace

namespace {

LoadResult run(const Executor& executor, Scenario* scenario, const RequestSpec& request,
               const EngineOptions& options, const std::atomic<bool>& stop,
               const ProgressFn& progress) {
  Url url = Url::parse(request.url);
  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (!executor.open_model()) threads = std::max(1, std::min(threads, executor.max_vus()));

  Shared shared{executor,
                options,
                stop,
                url,
                serialize(request, url),
                scenario,
                {},
                nullptr,
                {},
                threads,
                Aggregator(options.interval, options.interval_histograms)};
  if (scenario) scenario->start(threads);
  {
    // Bounded like every other wait of the run: a dead DNS server costs the connect timeout,
    // and Ctrl-C ends the wait at once.
    const auto lookup = resolve_tcp(
        url.host, url.port, std::chrono::ceil<std::chrono::milliseconds>(options.connect_timeout),
        [&stop] { return stop.load(); });
    if (lookup.failure == ResolveResult::Failure::kInterrupted) {
      LoadResult nothing;
      nothing.executor = executor.describe();
      nothing.target = request.method + " " + request.url;
      nothing.threads = threads;
      nothing.interrupted = true;
      return nothing;
    }
    if (!lookup.ok()) throw std::runtime_error("cannot resolve " + url.host + ": " + lookup.error);
    for (const auto& a : lookup.addresses) {
      tcp::endpoint e;
      std::memcpy(e.data(), a.get(), a.size);
      e.resize(a.size);
      shared.endpoints.push_back(e);
    }
  }
  std::optional<ssl::context> tls;
  if (url.tls()) {
    tls.emplace(ssl::context::tls_client);
    tls->set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    tls->set_default_verify_paths(ec);
    if (!options.ca_file.empty()) {
      tls->load_verify_file(options.ca_file, ec);
      if (ec)
        throw std::runtime_error("cannot load CA file " + options.ca_file + ": " + ec.message());
    }
    shared.tls = &*tls;
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < threads; ++i) workers.push_back(std::make_unique<Worker>(shared, i));
  // Every thread starts on the same tick: a little ahead, or the caller's start instant.
  shared.t0 = options.start_at.value_or(Clock::now() + std::chrono::milliseconds(5));
  std::vector<std::thread> pool;
  for (auto& w : workers) pool.emplace_back([&w] { w->run(); });

  // The reporter: finishes intervals as they complete and shows progress.
  std::atomic<bool> done{false};
  std::thread reporter([&] {
    const double total = std::chrono::duration<double>(executor.duration()).count();
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto since = Clock::now() - shared.t0;
      // Threads hand over an interval within a tick (20 ms) of its end: wait a few ticks more.
      auto settled = since - std::chrono::milliseconds(60);
      if (settled.count() < 0) continue;
      shared.aggregator.finish_before(static_cast<std::size_t>(settled / options.interval));
      if (progress)
        progress(shared.aggregator.progress(std::chrono::duration<double>(since).count(), total));
    }
  });
  for (auto& t : pool) t.join();
  done = true;
  reporter.join();

  const double elapsed = std::chrono::duration<double>(Clock::now() - shared.t0).count();
  auto& agg = shared.aggregator;
  agg.finish_before(static_cast<std::size_t>(-1));

  LoadResult result;
  Tally& total = agg.total();
  LoadSummary& s = result.summary;
  // The run's real duration, the drain of the last answers included: rps is what the target
  // actually served over the time it took, not over the schedule's nominal length.
  s.duration_s = elapsed;
  total.counts_into(s);
  for (std::size_t i = 0; i < total.status.size(); ++i)
    if (total.status[i]) s.status_codes[static_cast<int>(i)] = total.status[i];
  s.latency = total.latency;
  s.service = total.service;
  result.series = std::move(agg.series());
  result.executor = executor.describe();
  result.target = request.method + " " + request.url;
  result.threads = threads;
  result.connections_opened = shared.opened.load();
  result.peak_connections = shared.peak.load();
  const Clock::time_point all_running{Clock::duration(shared.all_running.load())};
  result.start_lag_s =
      std::max(0.0, std::chrono::duration<double>(all_running - shared.t0).count());
  result.interrupted = stop.load() || std::any_of(workers.begin(), workers.end(),
                                                  [](const auto& w) { return w->interrupted_; });
  return result;
}

}  // namespace

LoadResult run_load(const Executor& executor, const RequestSpec& request,
                    const EngineOptions& options, const std::atomic<bool>& stop,
                    const ProgressFn& progress) {
  return run(executor, nullptr, request, options, stop, progress);
}

LoadResult run_load(const Executor& executor, Scenario& scenario, const RequestSpec& origin,
                    const EngineOptions& options, const std::atomic<bool>& stop,
                    const ProgressFn& progress) {
  return run(executor, &scenario, origin, options, stop, progress);
}

}  // namespace kgate::load
