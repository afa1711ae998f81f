#include "rate_limit.hpp"

#include <charconv>
#include <stdexcept>

#include <kgate/duration.hpp>

namespace todo {

namespace {

[[noreturn]] void fail(std::string_view text, const std::string& why) {
  throw std::invalid_argument("invalid rate limit '" + std::string(text) + "': " + why +
                              " (expected N/WINDOW, e.g. 100/hour or 20/10s)");
}

std::chrono::milliseconds window_of(std::string_view text, std::string_view window) {
  using namespace std::chrono;
  if (window == "second" || window == "sec") return seconds(1);
  if (window == "minute" || window == "min") return minutes(1);
  if (window == "hour") return hours(1);
  if (window == "day") return hours(24);
  if (!window.empty() && window.back() == 'd') {
    std::uint64_t days = 0;
    auto [end, ec] = std::from_chars(window.data(), window.data() + window.size() - 1, days);
    if (ec == std::errc() && end == window.data() + window.size() - 1 && days > 0 && days < 3650) {
      return hours(24 * days);
    }
  }
  milliseconds d{0};
  try {
    d = duration_cast<milliseconds>(kgate::parse_duration(window));
  } catch (const std::invalid_argument&) {
    fail(text, "bad window '" + std::string(window) +
                   "': use second, minute, hour, day or a duration such as 10s");
  }
  if (d < milliseconds(1)) fail(text, "the window must be at least 1ms");
  return d;
}

}  // namespace

RateLimit parse_rate_limit(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) fail(text, "no '/'");
  auto count = text.substr(0, slash);
  RateLimit limit;
  auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), limit.requests);
  if (count.empty() || ec != std::errc() || end != count.data() + count.size()) {
    fail(text, "'" + std::string(count) + "' is not a whole number");
  }
  if (limit.requests == 0) fail(text, "the count must be at least 1");
  limit.window = window_of(text, text.substr(slash + 1));
  limit.text = std::string(text);
  return limit;
}

FixedWindowLimiter::FixedWindowLimiter(RateLimit limit, Clock::time_point origin)
    : limit_(std::move(limit)), origin_(origin) {}

FixedWindowLimiter::Decision FixedWindowLimiter::admit(const std::string& client,
                                                       Clock::time_point now) {
  using namespace std::chrono;
  auto elapsed = duration_cast<milliseconds>(now - origin_);
  if (elapsed.count() < 0) elapsed = milliseconds(0);
  const std::int64_t index = elapsed / limit_.window;
  const auto window_end = origin_ + limit_.window * (index + 1);
  Decision decision;
  std::lock_guard lock(mu_);
  if (index != window_index_) {
    window_index_ = index;
    counts_.clear();
  }
  auto& count = counts_[client];
  if (count >= limit_.requests) {
    decision.allowed = false;
    auto left = duration_cast<milliseconds>(window_end - now);
    decision.retry_after = seconds((left.count() + 999) / 1000);
    if (decision.retry_after < seconds(1)) decision.retry_after = seconds(1);
    return decision;
  }
  ++count;
  decision.remaining = limit_.requests - count;
  return decision;
}

}  // namespace todo
