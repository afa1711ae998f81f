// Closed model, ramped VUs: the number of running VUs moves linearly through the stages.
#include <algorithm>
#include <cmath>

#include "executors.hpp"

namespace kgate::load::detail {
namespace {

class RampingVus final : public Executor {
 public:
  RampingVus(int start, std::vector<Stage> stages, Nanos think)
      : start_(start), stages_(std::move(stages)), think_(think) {
    max_ = start_;
    for (const auto& s : stages_) {
      duration_ += s.duration;
      max_ = std::max(max_, static_cast<int>(std::lround(s.target)));
    }
  }
  bool open_model() const override { return false; }
  Nanos duration() const override { return duration_; }
  int max_vus() const override { return max_; }
  Nanos think_time() const override { return think_; }

  int vus_at(Nanos t) const override {
    if (t >= duration_) return 0;
    double from = start_;
    for (const auto& s : stages_) {
      if (t < s.duration) {
        double f = std::chrono::duration<double>(t) / std::chrono::duration<double>(s.duration);
        return static_cast<int>(std::lround(from + (s.target - from) * f));
      }
      t -= s.duration;
      from = s.target;
    }
    return static_cast<int>(std::lround(from));
  }

  std::string describe() const override {
    std::string out = "ramping-vus:";
    for (const auto& s : stages_)
      out += " " + format_duration(s.duration) + "→" +
             std::to_string(static_cast<long long>(s.target)) + " VUs";
    return out;
  }

 private:
  int start_;
  std::vector<Stage> stages_;
  Nanos think_;
  Nanos duration_{0};
  int max_ = 0;
};

}  // namespace

std::unique_ptr<Executor> ramping_vus(const ExecutorSpec& spec) {
  require(!spec.stages.empty(), spec, "needs stages (--stages 30s:10,1m:50)");
  require(spec.start_vus >= 0, spec, "start VUs must be ≥ 0");
  for (const auto& s : spec.stages)
    require(s.target >= 0 && s.duration.count() > 0, spec,
            "every stage needs a duration > 0 and VUs ≥ 0");
  return std::make_unique<RampingVus>(spec.start_vus, spec.stages, spec.think_time);
}

}  // namespace kgate::load::detail
