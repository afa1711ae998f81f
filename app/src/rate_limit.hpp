#pragma once
// --rate-limit N/WINDOW: a fixed-window request limit per client, the way slowapi/limits count
// ("100/hour"): every client gets N requests per window; windows start together at process start.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace todo {

struct RateLimit {
  std::uint64_t requests = 0;
  std::chrono::milliseconds window{0};
  std::string text;  // as given, for messages ("100/hour")
};

// "100/hour", "20/10s", "5/minute", "1000/day", "3/1.5s". Throws std::invalid_argument saying
// what is wrong.
RateLimit parse_rate_limit(std::string_view text);

class FixedWindowLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit FixedWindowLimiter(RateLimit limit, Clock::time_point origin = Clock::now());

  struct Decision {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  // until the window ends, rounded up (at least 1 s)
    std::uint64_t remaining = 0;
  };
  // Counts one request of `client` at `now`.
  Decision admit(const std::string& client, Clock::time_point now = Clock::now());
  const RateLimit& limit() const { return limit_; }

 private:
  RateLimit limit_;
  Clock::time_point origin_;
  std::mutex mu_;
  std::int64_t window_index_ = -1;
  // Only the current window's counts: the map is cleared when a window ends.
  std::unordered_map<std::string, std::uint64_t> counts_;
};

}  // namespace todo
