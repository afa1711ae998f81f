#pragma once
// Per-request figures the Kubernetes suites compute from their own request records (the
// resilience windows, the HPA's load): what counts as a failed request, and an exact percentile.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kgate/load/engine.hpp"

namespace kgate::load {

// Failed for its user: no answer (refused, reset, timed out, dropped) or a 5xx. A 4xx is an
// answer from a working service.
inline bool failed_request(int status, std::uint8_t transport) {
  return transport != static_cast<std::uint8_t>(RequestOutcome::Transport::kAnswered) ||
         status >= 500;
}

// The nearest-rank q-th percentile of `seconds`, in milliseconds (0 for none): exact, for the
// few thousand requests of a window, where the histogram's buckets are not needed.
inline double percentile_ms(std::vector<double> seconds, double q) {
  if (seconds.empty()) return 0;
  std::sort(seconds.begin(), seconds.end());
  const auto i =
      static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(seconds.size())));
  return seconds[std::min(seconds.size() - 1, i == 0 ? 0 : i - 1)] * 1000.0;
}

}  // namespace kgate::load
