// The duration grammar (common/duration) as the config, the command line and thresholds read
// it. Properties: it never crashes or overflows; what it accepts is finite and non-negative,
// and formatting it reads back to within the formatter's rounding.
#include <cmath>

#include "fuzz_common.hpp"
#include "kgate/duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz_text(data, size);
  try {
    const auto scanned = kgate::scan_duration(text);
    FUZZ_ASSERT(scanned.length <= text.size());
    FUZZ_ASSERT(std::isfinite(scanned.micros) && scanned.micros >= 0);
  } catch (const kgate::DurationError& e) {
    FUZZ_ASSERT(e.offset() <= text.size());
  }
  try {
    const auto d = kgate::parse_duration(text);
    FUZZ_ASSERT(d.count() >= 0);
    const auto again = kgate::parse_duration(kgate::format_duration(d));
    // format_duration keeps 3 decimals of the largest unit: within 0.05% (or 1 us).
    const double diff = std::fabs(static_cast<double>(again.count() - d.count()));
    FUZZ_ASSERT(diff <= std::max(1.0, static_cast<double>(d.count()) * 5e-4));
  } catch (const kgate::DurationError& e) {
    FUZZ_ASSERT(e.offset() <= text.size());
  }
  return 0;
}
