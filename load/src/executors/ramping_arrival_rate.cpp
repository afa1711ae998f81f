// Open model, ramped rate: the rate moves linearly through the stages. Iteration i is due when
// the cumulative count N(t) = ∫rate reaches i; within a stage N is quadratic in t, so each
// arrival time is one square root, exact and independent of any other iteration.
#include <algorithm>
#include <cmath>

#include "executors.hpp"

namespace kgate::load::detail {
namespace {

class RampingArrivalRate final : public Executor {
 public:
  RampingArrivalRate(double start_rate, std::vector<Stage> stages) : stages_(std::move(stages)) {
    double rate = start_rate;
    double count = 0;
    Nanos at{0};
    for (const auto& s : stages_) {
      double d = std::chrono::duration<double>(s.duration).count();
      segments_.push_back({at, d, rate, s.target, count});
      count += (rate + s.target) / 2 * d;
      rate = s.target;
      at += s.duration;
    }
    duration_ = at;
    total_ = static_cast<std::uint64_t>(std::floor(count + 1e-9));
  }
  bool open_model() const override { return true; }
  Nanos duration() const override { return duration_; }
  std::uint64_t total_iterations() const override { return total_; }

  std::optional<Nanos> arrival(std::uint64_t i) const override {
    if (i >= total_) return std::nullopt;
    const double want = static_cast<double>(i);
    // The last segment whose cumulative count at its start is ≤ i.
    auto it = std::upper_bound(segments_.begin(), segments_.end(), want,
                               [](double v, const Segment& s) { return v < s.count_before; });
    const Segment& s = *std::prev(it);
    // Solve count_before + r0 τ + (r1 - r0) τ² / (2D) = want for τ in [0, D]; the form below
    // stays stable when the rate barely changes (a → 0).
    const double a = s.d > 0 ? (s.r1 - s.r0) / (2 * s.d) : 0;
    const double c = want - s.count_before;  // ≥ 0
    const double disc = std::max(0.0, s.r0 * s.r0 + 4 * a * c);
    const double denom = s.r0 + std::sqrt(disc);
    double tau = denom > 0 ? 2 * c / denom : 0;
    tau = std::clamp(tau, 0.0, s.d);
    return s.start + Nanos(static_cast<std::int64_t>(std::llround(tau * 1e9)));
  }

  std::string describe() const override {
    std::string out = "ramping-arrival-rate:";
    for (const auto& s : stages_)
      out += " " + format_duration(s.duration) + "→" +
             std::to_string(static_cast<long long>(s.target)) + "/s";
    return out;
  }

 private:
  struct Segment {
    Nanos start;
    double d;             // seconds
    double r0, r1;        // rate at the start and end
    double count_before;  // iterations due before this segment
  };
  std::vector<Stage> stages_;
  std::vector<Segment> segments_;
  Nanos duration_{0};
  std::uint64_t total_ = 0;
};

}  // namespace

std::unique_ptr<Executor> ramping_arrival_rate(const ExecutorSpec& spec) {
  require(!spec.stages.empty(), spec, "needs stages (--stages 30s:100,1m:500)");
  require(spec.start_rate >= 0, spec, "start rate must be ≥ 0");
  for (const auto& s : spec.stages)
    require(s.target >= 0 && s.duration.count() > 0, spec,
            "every stage needs a duration > 0 and a rate ≥ 0");
  return std::make_unique<RampingArrivalRate>(spec.start_rate, spec.stages);
}

}  // namespace kgate::load::detail
