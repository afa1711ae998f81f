#include "kgate/cluster/timeline.hpp"

#include <algorithm>

namespace kgate::cluster {

Timeline::Timeline(Clock clock, std::size_t max_events)
    : clock_(std::move(clock)), max_(max_events) {}

void Timeline::add(std::string kind, std::string object, std::string message) {
  add_at(clock_(), std::move(kind), std::move(object), std::move(message));
}

void Timeline::add_at(double t, std::string kind, std::string object, std::string message) {
  std::lock_guard lock(mutex_);
  if (events_.size() >= max_) {
    ++dropped_;
    return;
  }
  events_.push_back({t, std::move(kind), std::move(object), std::move(message)});
}

std::vector<Event> Timeline::between(double from, double to,
                                     const std::vector<std::string>& objects) const {
  std::vector<Event> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : events_) {
      if (e.t < from || e.t > to) continue;
      if (!objects.empty() &&
          std::none_of(objects.begin(), objects.end(),
                       [&](const std::string& o) { return e.object.rfind(o, 0) == 0; }))
        continue;
      out.push_back(e);
    }
  }
  // Watches of different kinds deliver in their own order; the axis is time.
  std::stable_sort(out.begin(), out.end(),
                   [](const Event& a, const Event& b) { return a.t < b.t; });
  return out;
}

std::vector<Event> Timeline::all() const {
  return between(-1e300, 1e300);
}

std::uint64_t Timeline::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace kgate::cluster
