// Before any load: can this HPA scale the backend at all? Each problem says what to change.
#include "env.hpp"

namespace kgate::hpa {

class HpaPreflight : public HpaCheck {
 public:
  static constexpr GroupInfo group{"hpa", "Preflight"};
  using HpaCheck::HpaCheck;
};

KGATE_CHECK(HpaPreflight, Ready,
            {.title = "The backend's HPA can scale it: autoscaling/v2, a request for each "
                      "Utilization metric on every container of every live pod, metrics.k8s.io "
                      "answering, AbleToScale and ScalingActive true",
             .severity = Severity::High,
             .tags = {"kubernetes", "autoscaling"},
             .needs = kDisruptive | kNeedsCluster}) {
  const auto& p = env().preflight();
  for (const auto& n : p.notes) property("found", n);
  for (const auto& problem : p.problems) KGATE_EXPECT(false) << problem;
}

}  // namespace kgate::hpa
