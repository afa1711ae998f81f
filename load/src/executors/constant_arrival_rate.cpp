// Open model, fixed rate: iteration i is due at i / rate, for `duration`.
#include <cmath>

#include "executors.hpp"

namespace kgate::load::detail {
namespace {

class ConstantArrivalRate final : public Executor {
 public:
  ConstantArrivalRate(double rate, Nanos duration) : rate_(rate), duration_(duration) {
    total_ = static_cast<std::uint64_t>(std::floor(rate_ * seconds(duration_)));
  }
  bool open_model() const override { return true; }
  Nanos duration() const override { return duration_; }
  std::uint64_t total_iterations() const override { return total_; }
  std::optional<Nanos> arrival(std::uint64_t i) const override {
    if (i >= total_) return std::nullopt;
    return Nanos(static_cast<std::int64_t>(std::llround(static_cast<double>(i) * 1e9 / rate_)));
  }
  std::string describe() const override {
    return "constant-arrival-rate: " + std::to_string(static_cast<long long>(rate_)) + "/s for " +
           format_duration(duration_);
  }

 private:
  static double seconds(Nanos d) { return std::chrono::duration<double>(d).count(); }
  double rate_;
  Nanos duration_;
  std::uint64_t total_ = 0;
};

}  // namespace

std::unique_ptr<Executor> constant_arrival_rate(const ExecutorSpec& spec) {
  require(spec.rate > 0, spec, "needs a rate > 0 (--rate)");
  require(spec.duration.count() > 0, spec, "needs a duration > 0 (--duration)");
  return std::make_unique<ConstantArrivalRate>(spec.rate, spec.duration);
}

}  // namespace kgate::load::detail
