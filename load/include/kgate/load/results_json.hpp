#pragma once
// A load run as JSON (`kgate load --out`, and the load suite's part of results.json): totals,
// both latency distributions (percentiles and the serialized histogram, so runs on several
// machines merge exactly), the time series and the thresholds with their measured values.
// Every string in it has passed through kgate::redact (the target through redact_url).
#include <vector>

#include <nlohmann/json.hpp>

#include "kgate/load/engine.hpp"
#include "kgate/load/threshold.hpp"

namespace kgate::load {

nlohmann::json to_json(const LoadResult& result, const std::vector<ThresholdResult>& thresholds);

// "1.2ms", "312us", "1.50s"
std::string format_micros(std::uint64_t us);

}  // namespace kgate::load
