// The serialized latency histogram (load/histogram), as results JSON carries it in base64 so
// that runs merge exactly. The input is the raw bytes (deserialize) and, read as text, base64
// (from_base64). Properties: corrupt input is std::invalid_argument, never a crash; what is
// accepted is consistent (serializes back to the same bytes, percentiles within min..max).
#include <stdexcept>

#include "fuzz_common.hpp"
#include "kgate/load/histogram.hpp"

using kgate::load::Histogram;

namespace {
void check(const Histogram& h) {
  FUZZ_ASSERT(Histogram::deserialize(h.serialize()) == h);
  if (h.count() == 0) return;
  for (double q : {0.0, 50.0, 99.9, 100.0}) {
    const auto v = h.percentile(q);
    FUZZ_ASSERT(v >= h.min() && v <= h.max());
  }
  (void)h.mean();
  (void)h.stddev();
  Histogram twice = h;
  twice.merge(h);
  FUZZ_ASSERT(twice.count() == 2 * h.count());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = fuzz_text(data, size);
  try {
    const Histogram h = Histogram::deserialize(bytes);
    FUZZ_ASSERT(h.serialize() == bytes);
    check(h);
  } catch (const std::invalid_argument&) {
  }
  try {
    check(Histogram::from_base64(bytes));
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
