// One worker's share of a schedule, for distributed load: worker `index` of `count` takes the
// open model's iterations i ≡ index (mod count) at the times the whole schedule gives them, or
// the closed model's VUs v ≡ index (mod count). The shares of 0..count-1 are the whole schedule,
// each iteration (or VU) exactly once, because the whole schedule is closed-form: nobody needs to
// talk to anybody to agree on who sends what.
#include <stdexcept>

#include "executors.hpp"

namespace kgate::load::detail {
namespace {

// How many of 0..n-1 are ≡ index (mod count).
std::uint64_t share_count(std::uint64_t n, std::uint64_t index, std::uint64_t count) {
  return n > index ? (n - index - 1) / count + 1 : 0;
}

class Share final : public Executor {
 public:
  Share(std::shared_ptr<const Executor> whole, int index, int count)
      : whole_(std::move(whole)), index_(index), count_(count) {}
  bool open_model() const override { return whole_->open_model(); }
  Nanos duration() const override { return whole_->duration(); }
  std::optional<Nanos> arrival(std::uint64_t i) const override {
    return whole_->arrival(i * static_cast<std::uint64_t>(count_) +
                           static_cast<std::uint64_t>(index_));
  }
  std::uint64_t total_iterations() const override {
    return share_count(whole_->total_iterations(), static_cast<std::uint64_t>(index_),
                       static_cast<std::uint64_t>(count_));
  }
  int vus_at(Nanos t) const override { return vus_of(whole_->vus_at(t)); }
  int max_vus() const override { return vus_of(whole_->max_vus()); }
  Nanos think_time() const override { return whole_->think_time(); }
  std::string describe() const override {
    return "share " + std::to_string(index_) + " of " + std::to_string(count_) + " of " +
           whole_->describe();
  }

 private:
  int vus_of(int whole) const {
    return whole <= 0 ? 0
                      : static_cast<int>(share_count(static_cast<std::uint64_t>(whole),
                                                     static_cast<std::uint64_t>(index_),
                                                     static_cast<std::uint64_t>(count_)));
  }
  std::shared_ptr<const Executor> whole_;
  int index_, count_;
};

}  // namespace
}  // namespace kgate::load::detail

namespace kgate::load {

std::unique_ptr<Executor> share_of(std::shared_ptr<const Executor> whole, int index, int count) {
  if (!whole) throw std::invalid_argument("share_of: no schedule");
  if (count < 1 || index < 0 || index >= count)
    throw std::invalid_argument("share_of: worker " + std::to_string(index) + " of " +
                                std::to_string(count) + " does not exist");
  return std::make_unique<detail::Share>(std::move(whole), index, count);
}

}  // namespace kgate::load
