#pragma once
// One timeline for a run against a cluster: what kgate did (delete sent, eviction refused,
// scaled), and what the watches saw (pod Terminating, endpoint removed, replacement Ready), each
// a typed kgate::Event on the run's clock, so the reports draw them on the same axis as the
// traffic. Thread-safe; bounded (past max_events, further events are counted, not kept).
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "kgate/result.hpp"

namespace kgate::cluster {

class Timeline {
 public:
  using Clock = std::function<double()>;  // seconds since the run started (RunContext::now)
  explicit Timeline(Clock clock, std::size_t max_events = 20000);

  double now() const { return clock_(); }
  void add(std::string kind, std::string object, std::string message = "");
  void add_at(double t, std::string kind, std::string object, std::string message = "");

  // Events with from <= t <= to, in time order; with `objects`, only those whose object starts
  // with one of them ("pod/todo-backend", "deployment/todo-backend").
  std::vector<Event> between(double from, double to,
                             const std::vector<std::string>& objects = {}) const;
  std::vector<Event> all() const;
  std::uint64_t dropped() const;

 private:
  Clock clock_;
  std::size_t max_;
  mutable std::mutex mutex_;
  std::vector<Event> events_;
  std::uint64_t dropped_ = 0;
};

}  // namespace kgate::cluster
