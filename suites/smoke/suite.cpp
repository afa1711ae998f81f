// The smoke suite: is the deployed app alive and does its main flow work, end to end?
#include "kgate/registry.hpp"

namespace kgate {

KGATE_SUITE(smoke, {.name = "smoke",
                    .title = "Smoke",
                    .description = "Health endpoints, the full task and chat flow, routing "
                                   "through the frontend and the ingress, latency",
                    .order = 10});

}  // namespace kgate
