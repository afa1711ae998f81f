#include "kgate/check_context.hpp"

#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "kgate/redact.hpp"
#include "kgate/registry.hpp"
#include "kgate/todo_api.hpp"

namespace kgate {
namespace {

constexpr std::size_t kMaxEvidencePerCheck = 30;
std::atomic<int> g_signals{0};
// The running check was asked to stop (past its timeout). Process-wide like Ctrl-C, so the HTTP
// client's and wait_until's interrupt hook sees it: one run, one check at a time.
std::atomic<bool> g_check_stop{false};
thread_local CheckContext* t_current = nullptr;

http::ClientOptions client_options(const Config& cfg) {
  http::ClientOptions o;
  o.connect_timeout = cfg.target.connect_timeout;
  o.request_timeout = cfg.target.request_timeout;
  o.verify_tls = !cfg.target.insecure;
  o.ca_file = cfg.target.ca_file;
  o.user_agent = "kgate/" KGATE_VERSION;
  return o;
}

std::string request_excerpt(const http::Request& r) {
  std::string out;
  for (const auto& [k, v] : r.headers) {
    bool secret =
        strcasecmp(k.c_str(), "authorization") == 0 || strcasecmp(k.c_str(), "cookie") == 0;
    out += k + ": " + (secret ? std::string("[REDACTED]") : v) + "\n";
  }
  if (!r.body.empty()) out += "\n" + excerpt(r.body, 600);
  return out;
}

// Seconds to wait on a 429: Retry-After in seconds (HTTP dates are rare for APIs: 1 s then).
std::chrono::milliseconds retry_after(const http::Response& r, int attempt) {
  auto h = r.header("Retry-After");
  long secs = 0;
  if (h) secs = std::strtol(h->c_str(), nullptr, 10);
  if (secs <= 0) secs = 1L << std::min(attempt, 4);
  return std::chrono::seconds(secs);
}

// Waits up to `d`, giving up early when the run or the check is told to stop.
void wait_for(const RunContext& run, std::chrono::nanoseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until && !run.stop_requested())
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
        until - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
}

}  // namespace

bool interrupted() {
  return g_signals.load() > 0;
}
bool stop_requested_anywhere() {
  return g_check_stop.load() || interrupted();
}
int note_interrupt() {
  return g_signals.fetch_add(1);
}

CheckContext* current_check() {
  return t_current;
}
void set_current_check(CheckContext* c) {
  t_current = c;
}

// --- RunContext ------------------------------------------------------------------------------

RunContext::RunContext(Config cfg, std::string secret_override)
    : cfg_(std::move(cfg)),
      client_(client_options(cfg_)),
      secret_(secret_override),
      t0_(std::chrono::steady_clock::now()),
      epoch_ms_(static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count())) {
  if (secret_.empty()) {
    if (const char* v = std::getenv(cfg_.auth.mint.secret_env.c_str())) secret_ = v;
  }
  if (!secret_.empty()) register_secret(secret_);
  // A per-window request budget becomes an even spacing: the whole run stays under it, however
  // long it lasts (a window's worth of requests never arrives in a burst).
  if (cfg_.target.max_requests > 0)
    budget_interval_ =
        std::chrono::duration_cast<std::chrono::nanoseconds>(cfg_.target.max_requests_window) /
        cfg_.target.max_requests;
  provider_ = make_identity_provider(
      cfg_, [this](const http::Request& r) { return send(r, nullptr).response; }, secret_override);
}

RunContext::~RunContext() = default;

double RunContext::now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

bool RunContext::stop_requested() const {
  return stop_requested_anywhere();
}
void RunContext::request_stop(std::string why) {
  std::lock_guard lock(stop_mutex_);
  if (stop_reason_.empty()) stop_reason_ = std::move(why);
  g_check_stop = true;
}
void RunContext::clear_stop() {
  std::lock_guard lock(stop_mutex_);
  stop_reason_.clear();
  g_check_stop = false;
}
std::string RunContext::stop_reason() const {
  std::lock_guard lock(stop_mutex_);
  if (!stop_reason_.empty()) return stop_reason_;
  return interrupted() ? "interrupted by signal" : "";
}

void RunContext::pace(double max_rps) {
  min_interval_ = max_rps > 0 ? std::chrono::nanoseconds(static_cast<long long>(1e9 / max_rps))
                              : std::chrono::nanoseconds(0);
}

std::vector<RunContext::SeenError> RunContext::errors_seen() const {
  std::lock_guard lock(seen_mutex_);
  return errors_seen_;
}

RunContext::Sent RunContext::send(const http::Request& request, std::vector<Evidence>* evidence) {
  if (min_interval_.count() > 0) {
    wait_for(*this, last_send_ + min_interval_ - std::chrono::steady_clock::now());
    last_send_ = std::chrono::steady_clock::now();
  }
  if (budget_interval_.count() > 0) {
    wait_for(*this, last_budgeted_ + budget_interval_ - std::chrono::steady_clock::now());
    last_budgeted_ = std::chrono::steady_clock::now();
  }
  const auto started = std::chrono::steady_clock::now();
  std::chrono::milliseconds waited{0};
  auto keep = [&](const Evidence& ev) {
    if (evidence && evidence->size() < kMaxEvidencePerCheck) evidence->push_back(ev);
  };
  for (int attempt = 0;; ++attempt) {
    Evidence ev;
    ev.method = request.method;
    ev.url = request.url;
    ev.request_excerpt = request_excerpt(request);
    try {
      Sent out;
      out.response = client_.send(request);
      const auto& resp = out.response;
      ev.status = resp.status;
      ev.elapsed_ms = static_cast<double>(resp.elapsed.count()) / 1000.0;
      ev.response_excerpt = excerpt(resp.body, 1200);
      const bool limited = resp.status == 429;
      if (limited) {
        ev.note = "rate limited (429)";
        ++rate_limited_answers_;
      }
      if (resp.status >= 400) {
        std::lock_guard lock(seen_mutex_);
        if (errors_seen_.size() >= 500) errors_seen_.erase(errors_seen_.begin());
        errors_seen_.push_back(
            {request.method, request.url, resp.status, resp.body.substr(0, 4096)});
      }
      keep(ev);
      if (!limited) return out;
      auto wait = retry_after(resp, attempt);
      if (attempt >= cfg_.auth.rate_limit_retries ||
          waited + wait > cfg_.auth.rate_limit_max_wait) {
        out.rate_limited = true;
        out.rate_limit_note = "target rate-limited " + request.method + " " + request.url +
                              " (429) after " + std::to_string(attempt + 1) + " attempt(s)";
        return out;
      }
      spdlog::info("429 from {}: waiting {} ms (Retry-After)", request.url, wait.count());
      // Bounded back-off the target asked for: the one place kgate waits without a condition.
      wait_for(*this, wait);
      waited += wait;
    } catch (const http::TransportError& e) {
      ev.note = e.what();
      ev.elapsed_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
      keep(ev);
      throw;
    }
  }
}

const Identity& RunContext::identity(const std::string& label) {
  if (auto it = identities_.find(label); it != identities_.end()) return it->second;
  if (auto it = identity_errors_.find(label); it != identity_errors_.end())
    throw IdentityUnavailable(it->second);
  try {
    return identities_.emplace(label, provider_->acquire(label)).first->second;
  } catch (const IdentityUnavailable& e) {
    identity_errors_[label] = e.what();
    throw;
  } catch (const http::TransportError& e) {
    identity_errors_[label] = std::string("no answer: ") + e.what();
    throw IdentityUnavailable(identity_errors_[label]);
  }
}

std::string RunContext::identity_error(const std::string& label) const {
  auto it = identity_errors_.find(label);
  return it == identity_errors_.end() ? "" : it->second;
}

std::string RunContext::describe_auth() const {
  return provider_->describe();
}

// --- CheckContext ----------------------------------------------------------------------------

CheckContext::CheckContext(RunContext& run, const CheckDef* def) : run_(run), def_(def) {
  if (def_) {
    result_.id = def_->id;
    result_.suite = def_->suite;
    result_.classname = def_->suite + "." + def_->group;
    result_.name = def_->name;
    result_.title = def_->info.title;
    result_.severity = to_string(def_->info.severity);
    result_.reference = def_->info.reference;
    result_.tags = def_->tags;
  }
}

CheckContext::~CheckContext() {
  if (!cleanups_.empty()) run_cleanups();
}

std::string CheckContext::id() const {
  return def_ ? def_->id : "";
}

http::Response CheckContext::send(const http::Request& request) {
  std::vector<Evidence> evidence;
  RunContext::Sent sent;
  try {
    sent = run_.send(request, &evidence);
  } catch (...) {
    std::lock_guard lock(mutex_);
    for (auto& e : evidence)
      if (result_.evidence.size() < kMaxEvidencePerCheck) result_.evidence.push_back(e);
    throw;
  }
  {
    std::lock_guard lock(mutex_);
    for (auto& e : evidence)
      if (result_.evidence.size() < kMaxEvidencePerCheck) result_.evidence.push_back(e);
  }
  if (sent.rate_limited) throw CheckStopped{CheckStopped::Inconclusive, sent.rate_limit_note};
  return std::move(sent.response);
}

http::Response CheckContext::send(const std::string& method, const std::string& url,
                                  const std::string& token, const std::string& json_body) {
  http::Request r;
  r.method = method;
  r.url = url;
  r.headers.emplace_back("Accept", "application/json");
  if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
  if (!json_body.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = json_body;
  }
  return send(r);
}

const Identity& CheckContext::identity(const std::string& label) {
  try {
    return run_.identity(label);
  } catch (const IdentityUnavailable& e) {
    throw CheckStopped{CheckStopped::SetupError,
                       "could not set up: identity '" + label + "' unavailable: " + e.what()};
  }
}

void CheckContext::defer(std::string what, std::function<void()> action) {
  std::lock_guard lock(mutex_);
  cleanups_.emplace_back(std::move(what), std::move(action));
}

std::vector<std::string> CheckContext::run_cleanups() {
  std::vector<std::string> left;
  for (;;) {
    std::pair<std::string, std::function<void()>> next;
    {
      std::lock_guard lock(mutex_);
      if (cleanups_.empty()) break;
      next = std::move(cleanups_.back());
      cleanups_.pop_back();
    }
    try {
      next.second();
    } catch (const CheckStopped& s) {
      left.push_back(next.first + ": " + s.reason);
    } catch (const std::exception& e) {
      left.push_back(next.first + ": " + e.what());
    }
  }
  for (const auto& l : left) spdlog::warn("cleanup failed: {}", redact(l));
  return left;
}

void CheckContext::property(const std::string& name, const std::string& value) {
  std::lock_guard lock(mutex_);
  result_.properties.push_back({name, value});
}
void CheckContext::measure(const std::string& name, double value, const std::string& unit) {
  std::lock_guard lock(mutex_);
  result_.scalars.push_back({name, value, unit});
}
void CheckContext::table(Table t) {
  std::lock_guard lock(mutex_);
  result_.tables.push_back(std::move(t));
}
void CheckContext::chart(Chart c) {
  std::lock_guard lock(mutex_);
  result_.charts.push_back(std::move(c));
}
void CheckContext::event(std::string kind, std::string object, std::string message) {
  event_at(now(), std::move(kind), std::move(object), std::move(message));
}
void CheckContext::event_at(double t, std::string kind, std::string object, std::string message) {
  std::lock_guard lock(mutex_);
  Event e{t, std::move(kind), std::move(object), std::move(message)};
  // Watches deliver out of order across streams: keep the timeline sorted.
  auto pos = std::upper_bound(result_.events.begin(), result_.events.end(), e,
                              [](const Event& a, const Event& b) { return a.t < b.t; });
  result_.events.insert(pos, std::move(e));
}
void CheckContext::threshold(ThresholdResult t) {
  std::lock_guard lock(mutex_);
  result_.thresholds.push_back(std::move(t));
}
void CheckContext::progress(std::string text) {
  std::lock_guard lock(mutex_);
  progress_ = std::move(text);
}
std::string CheckContext::progress_text() const {
  std::lock_guard lock(mutex_);
  return progress_;
}
void CheckContext::add_finding(Finding f) {
  std::lock_guard lock(mutex_);
  findings_.push_back(std::move(f));
}
std::vector<Finding> CheckContext::findings() const {
  std::lock_guard lock(mutex_);
  return findings_;
}

CheckResult CheckContext::take_result() {
  std::lock_guard lock(mutex_);
  return std::move(result_);
}

}  // namespace kgate
