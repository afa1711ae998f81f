// Threshold expressions (load/threshold): "p95 < 300ms", "error_rate <= 0.5%". Properties: a
// parse either succeeds or throws ThresholdError with an offset inside the text; what parses
// evaluates on a real summary and on an empty one without crashing, and the empty run never
// passes.
#include "fuzz_common.hpp"
#include "kgate/load/threshold.hpp"

using namespace kgate::load;

namespace {
LoadSummary sample() {
  LoadSummary s;
  s.duration_s = 10;
  s.requests = 1000;
  s.completed = 990;
  s.failed = 12;
  s.dropped = 3;
  s.errors = {{"timeout", 10}, {"5xx", 2}};
  s.status_codes = {{200, 978}, {503, 2}};
  for (std::uint64_t i = 1; i <= 990; ++i) {
    s.latency.record(i * 300);
    s.service.record(i * 100);
  }
  return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const LoadSummary full = sample();
  static const LoadSummary empty;
  const std::string text = fuzz_text(data, size);
  Threshold t;
  try {
    t = parse_threshold(text);
  } catch (const ThresholdError& e) {
    FUZZ_ASSERT(e.offset <= text.size());
    return 0;
  }
  const ThresholdResult r = evaluate(t, full);
  FUZZ_ASSERT(!r.message.empty());
  FUZZ_ASSERT(!evaluate(t, empty).passed);
  return 0;
}
