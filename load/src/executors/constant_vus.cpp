// Closed model, fixed VUs: `vus` users loop (send, wait, think) for `duration`.
#include "executors.hpp"

namespace kgate::load::detail {
namespace {

class ConstantVus final : public Executor {
 public:
  ConstantVus(int vus, Nanos duration, Nanos think)
      : vus_(vus), duration_(duration), think_(think) {}
  bool open_model() const override { return false; }
  Nanos duration() const override { return duration_; }
  int vus_at(Nanos t) const override { return t < duration_ ? vus_ : 0; }
  int max_vus() const override { return vus_; }
  Nanos think_time() const override { return think_; }
  std::string describe() const override {
    return "constant-vus: " + std::to_string(vus_) + " VUs for " + format_duration(duration_) +
           (think_.count() > 0 ? ", think " + format_duration(think_) : "");
  }

 private:
  int vus_;
  Nanos duration_, think_;
};

}  // namespace

std::unique_ptr<Executor> constant_vus(const ExecutorSpec& spec) {
  require(spec.vus > 0, spec, "needs vus > 0 (--vus)");
  require(spec.duration.count() > 0, spec, "needs a duration > 0 (--duration)");
  require(spec.think_time.count() >= 0, spec, "think time must be ≥ 0");
  return std::make_unique<ConstantVus>(spec.vus, spec.duration, spec.think_time);
}

}  // namespace kgate::load::detail
