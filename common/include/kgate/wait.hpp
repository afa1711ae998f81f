#pragma once
// Waiting for conditions with deadlines, as the Kubernetes e2e framework does: poll a condition
// at an interval until it holds or the deadline passes. No check sleeps a fixed time.
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace kgate {

struct WaitResult {
  bool ok = false;
  int attempts = 0;
  std::chrono::milliseconds waited{0};
  std::string last_error;  // what the last failed attempt said
};

// cond returns true when satisfied; it may set *why to say what it saw. std::exceptions from cond
// count as "not yet" and their message becomes last_error; others propagate. The wait gives up
// early (not ok) when http::interrupt_requested() says so.
WaitResult wait_until(const std::function<bool(std::string* why)>& cond,
                      std::chrono::milliseconds timeout,
                      std::chrono::milliseconds interval = std::chrono::milliseconds(100));

}  // namespace kgate
