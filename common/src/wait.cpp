#include "kgate/wait.hpp"

#include <algorithm>
#include <exception>

#include "kgate/http.hpp"

namespace kgate {

WaitResult wait_until(const std::function<bool(std::string* why)>& cond,
                      std::chrono::milliseconds timeout, std::chrono::milliseconds interval) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  if (interval <= std::chrono::milliseconds::zero()) interval = std::chrono::milliseconds(1);
  WaitResult result;
  for (;;) {
    ++result.attempts;
    std::string why;
    bool ok = false;
    try {
      ok = cond(&why);
    } catch (const std::exception& e) {
      // Only failures: anything else (a check being stopped with an outcome) goes through.
      why = e.what();
    }
    auto now = Clock::now();
    result.waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
    if (ok) {
      result.ok = true;
      result.last_error.clear();
      return result;
    }
    result.last_error = std::move(why);
    if (now >= deadline) return result;
    if (http::interrupt_requested()) {  // Ctrl-C, or a check past its timeout: give up now
      result.last_error = "interrupted (" + result.last_error + ")";
      return result;
    }
    // Sleep to the next attempt, but never past the deadline: the last attempt is at it.
    std::this_thread::sleep_for(std::min<Clock::duration>(interval, deadline - now));
  }
}

}  // namespace kgate
