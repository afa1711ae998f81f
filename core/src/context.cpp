#include "kgate/context.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "kgate/check.hpp"
#include "kgate/redact.hpp"
#include "kgate/url.hpp"

namespace kgate {
namespace {

RunContext* g_ctx = nullptr;
constexpr std::size_t kMaxEvidencePerCheck = 30;

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

}  // namespace

RunContext& ctx() {
  return *g_ctx;
}
void set_ctx(RunContext* c) {
  g_ctx = c;
}

RunContext::RunContext(Config cfg, std::string secret_override)
    : cfg_(std::move(cfg)), client_(client_options(cfg_)), secret_(secret_override) {
  if (secret_.empty()) {
    if (const char* v = std::getenv(cfg_.auth.mint.secret_env.c_str())) secret_ = v;
  }
  if (!secret_.empty()) register_secret(secret_);
  provider_ = make_identity_provider(
      cfg_, [this](const http::Request& r) { return send(r); }, secret_override);
}

RunContext::~RunContext() = default;

void RunContext::pace(double max_rps) {
  min_interval_ = max_rps > 0 ? std::chrono::nanoseconds(static_cast<long long>(1e9 / max_rps))
                              : std::chrono::nanoseconds(0);
}

http::Response RunContext::send(const http::Request& request) {
  if (min_interval_.count() > 0) {
    auto next = last_send_ + min_interval_;
    while (std::chrono::steady_clock::now() < next && !interrupted())
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
          next - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
    last_send_ = std::chrono::steady_clock::now();
  }
  auto started = std::chrono::steady_clock::now();
  std::chrono::milliseconds waited{0};
  for (int attempt = 0;; ++attempt) {
    Evidence ev;
    ev.method = request.method;
    ev.url = request.url;
    ev.request_excerpt = request_excerpt(request);
    try {
      http::Response resp = client_.send(request);
      ev.status = resp.status;
      ev.elapsed_ms = static_cast<double>(resp.elapsed.count()) / 1000.0;
      ev.response_excerpt = excerpt(resp.body, 1200);
      bool limited = resp.status == 429;
      if (limited) ev.note = "rate limited (429)";
      if (record_.evidence.size() < kMaxEvidencePerCheck) record_.evidence.push_back(ev);
      if (!limited) return resp;
      auto wait = retry_after(resp, attempt);
      if (attempt >= cfg_.auth.rate_limit_retries ||
          waited + wait > cfg_.auth.rate_limit_max_wait) {
        record_.rate_limited = true;
        record_.rate_limit_note = "target rate-limited " + request.method + " " + request.url +
                                  " (429) after " + std::to_string(attempt + 1) + " attempt(s)";
        return resp;
      }
      spdlog::info("429 from {}: waiting {} ms (Retry-After)", request.url, wait.count());
      // Bounded back-off the target asked for: the one place kgate waits without a condition.
      auto until = std::chrono::steady_clock::now() + wait;
      while (std::chrono::steady_clock::now() < until && !interrupted())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      waited += wait;
    } catch (const http::TransportError& e) {
      ev.note = e.what();
      ev.elapsed_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
      if (record_.evidence.size() < kMaxEvidencePerCheck) record_.evidence.push_back(ev);
      throw;
    }
  }
}

http::Response RunContext::send(const std::string& method, const std::string& url,
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
    identity_errors_[label] = e.what();
    throw IdentityUnavailable(e.what());
  }
}

void RunContext::defer(std::string what, std::function<void()> action) {
  cleanups_.emplace_back(std::move(what), std::move(action));
}

void RunContext::run_cleanups() {
  while (!cleanups_.empty()) {
    auto [what, action] = std::move(cleanups_.back());
    cleanups_.pop_back();
    try {
      action();
    } catch (const std::exception& e) {
      spdlog::warn("cleanup '{}' failed: {}", what, redact(e.what()));
    }
  }
}

void RunContext::begin_check() {
  record_ = CheckRecord{};
}
CheckRecord RunContext::end_check() {
  return std::move(record_);
}

std::string RunContext::describe_auth() const {
  return provider_->describe();
}

}  // namespace kgate
