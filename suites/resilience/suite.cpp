// The resilience suite: pods deleted, evicted, restarted and scaled under live authenticated
// traffic, each disruption measured per request and drawn on one timeline with what the
// cluster did. Disruptive: runs only when named (--suites resilience) and only in a namespace
// labelled kubernetes.disruption_label=allowed. docs/resilience.md describes it.
#include "env.hpp"

namespace kgate::resilience {

KGATE_SUITE(resilience,
            {.name = "resilience",
             .title = "Kubernetes resilience",
             .description = "Pods deleted, evicted, restarted and scaled under live traffic",
             .order = 40,
             .fixtures =
                 [](const Config& c) {
                   std::vector<std::unique_ptr<SuiteFixture>> f;
                   f.push_back(std::make_unique<ResilienceEnv>(c));
                   return f;
                 },
             // Findings below medium (a missing PodDisruptionBudget) are warnings.
             .fail_on = [](const Config&) { return std::string("medium"); }});

}  // namespace kgate::resilience
