// `kgate load --out` and the load suite write this JSON: nothing in it may carry a secret.
#include "kgate/load/results_json.hpp"

#include <gtest/gtest.h>

#include "kgate/redact.hpp"

namespace kgate::load {
namespace {

TEST(ResultsJson, EveryStringIsRedactedAndTheTargetKeepsOnlyItsShape) {
  clear_secrets();
  register_secret("registered-secret-9d2f");
  LoadResult r;
  r.target = "GET http://127.0.0.1:7860/health?access_token=query-secret-1f&page=2";
  r.executor = "constant-arrival-rate: 10/s for 1s";
  r.summary.requests = 10;
  r.summary.completed = 10;
  r.summary.latency.record(1000);
  Threshold t = parse_threshold("p95 < 300ms");
  ThresholdResult v = evaluate(t, r.summary);
  v.message += " (seen by registered-secret-9d2f)";
  const std::string text = to_json(r, {v}).dump();
  EXPECT_EQ(text.find("query-secret-1f"), std::string::npos) << text;
  EXPECT_EQ(text.find("registered-secret-9d2f"), std::string::npos) << text;
  const auto doc = to_json(r, {v});
  EXPECT_EQ(doc["target"],
            "GET http://127.0.0.1:7860/health?access_token=[REDACTED]&page=[REDACTED]");
  EXPECT_EQ(doc["thresholds"][0]["threshold"], "p95 < 300ms");
  // The histogram is data, not text: it round-trips untouched.
  EXPECT_EQ(Histogram::from_base64(doc["latency"]["histogram"].get<std::string>()),
            r.summary.latency);
  clear_secrets();
}

}  // namespace
}  // namespace kgate::load
