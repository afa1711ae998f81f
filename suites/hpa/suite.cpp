// The HPA suite: an open-model load ramp through the app's URL while the backend's
// HorizontalPodAutoscaler scales it up and, after the load, down; how fast and why, measured on
// one time axis (load, CPU per pod, replicas, the controller's decisions). It drives heavy load:
// runs only when named (--suites hpa). docs/hpa.md describes it.
#include <algorithm>

#include "env.hpp"

namespace kgate::hpa {

KGATE_SUITE(hpa, {.name = "hpa",
                  .title = "Kubernetes HPA",
                  .description = "The backend's HorizontalPodAutoscaler under a load ramp: "
                                 "preflight, scale-up, serving while scaling, scale-down",
                  .order = 45,
                  .fixtures =
                      [](const Config& c) {
                        std::vector<std::unique_ptr<SuiteFixture>> f;
                        f.push_back(std::make_unique<HpaEnv>(c));
                        return f;
                      },
                  // The experiment's waits are bounded by their budgets (at production
                  // defaults a ramp, the scale-up and a 5 min stabilization window).
                  .default_check_timeout = [](const Config&) { return Millis(30 * 60 * 1000); }});

}  // namespace kgate::hpa
