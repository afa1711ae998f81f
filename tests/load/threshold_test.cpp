// Thresholds: parsing (units, operators, errors with offsets and suggestions) and evaluation
// against a hand-made summary, including runs that measured nothing.
#include "kgate/load/threshold.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

using kgate::load::evaluate;
using kgate::load::LoadSummary;
using kgate::load::MetricKind;
using kgate::load::Op;
using kgate::load::parse_threshold;
using kgate::load::Threshold;
using kgate::load::ThresholdError;
using kgate::load::ThresholdResult;

// 1000 requests over 10 s: 990 answered, 15 failed (10 timeouts, 5 x 503), 10 dropped.
LoadSummary summary() {
  LoadSummary s;
  s.duration_s = 10;
  s.requests = 1000;
  s.completed = 990;
  s.failed = 15;
  s.dropped = 10;
  s.bytes_in = 123'456;
  s.bytes_out = 65'432;
  s.errors = {{"timeout", 10}, {"5xx", 5}};
  s.status_codes = {{200, 985}, {503, 5}};
  for (std::uint64_t i = 1; i <= 1000; ++i) s.latency.record(i * 1000);  // 1 ms .. 1 s
  for (std::uint64_t i = 1; i <= 990; ++i) s.service.record(i * 100);    // 0.1 ms .. 99 ms
  return s;
}

ThresholdResult eval(const std::string& text, const LoadSummary& s) {
  static std::vector<std::unique_ptr<Threshold>> keep;  // results point at their threshold
  keep.push_back(std::make_unique<Threshold>(parse_threshold(text)));
  return evaluate(*keep.back(), s);
}

double measured(const std::string& metric, const LoadSummary& s) {
  // ">= 0" passes for every measurable metric: this reads the value
  const bool latency = metric[0] == 'p' || metric.find("service") == 0 ||
                       metric.find("latency") == 0 || metric == "avg" || metric == "mean" ||
                       metric == "min" || metric == "max";
  const bool rate = metric.find("rate") != std::string::npos;
  auto r = eval(metric + " >= " + (latency ? "0ms" : rate ? "0%" : "0"), s);
  EXPECT_TRUE(r.passed) << metric << ": " << r.message;
  return r.measured;
}

TEST(ThresholdParse, NormalizesUnits) {
  struct Case {
    const char* text;
    double value;
    MetricKind kind;
  };
  const Case cases[] = {
      {"p95 < 300ms", 300'000, MetricKind::kLatency},
      {"p95 < 1s", 1'000'000, MetricKind::kLatency},
      {"p95 < 1.5s", 1'500'000, MetricKind::kLatency},
      {"p95 < 250us", 250, MetricKind::kLatency},
      {"p95 < 250\xC2\xB5s", 250, MetricKind::kLatency},
      {"p95 < 2m", 120'000'000, MetricKind::kLatency},
      {"p95 < 1h", 3'600'000'000, MetricKind::kLatency},
      {"p95 < 1m30s", 90'000'000, MetricKind::kLatency},
      {"p95 < 1s500ms", 1'500'000, MetricKind::kLatency},
      {"p95 < 300 ms", 300'000, MetricKind::kLatency},
      {"p95 < .5ms", 500, MetricKind::kLatency},
      {"p95 < 199.9us", 199.9, MetricKind::kLatency},
      {"p95 < 1h1m1s1ms1us", 3'661'001'001, MetricKind::kLatency},
      {"p95 > 0", 0, MetricKind::kLatency},  // the one number that needs no unit
      {"error_rate < 1%", 0.01, MetricKind::kRate},
      {"error_rate < 0.5%", 0.005, MetricKind::kRate},
      {"error_rate < 0.01", 0.01, MetricKind::kRate},
      {"error_rate < 0.7%", 7.0 / 1000, MetricKind::kRate},  // exact: the double nearest 7/1000
      {"error_rate < 100%", 1, MetricKind::kRate},
      {"dropped_rate <= 0.1 %", 0.001, MetricKind::kRate},
      {"errors < 10", 10, MetricKind::kCount},
      {"errors < 10.0", 10, MetricKind::kCount},
      {"rps > 200", 200, MetricKind::kRps},
      {"rps > 200/s", 200, MetricKind::kRps},
      {"rps > 99.5", 99.5, MetricKind::kRps},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto t = parse_threshold(c.text);
    EXPECT_EQ(t.value, c.value);
    EXPECT_EQ(t.kind, c.kind);
    EXPECT_EQ(t.text, c.text);
  }
}

TEST(ThresholdParse, OperatorsAndSpacing) {
  EXPECT_EQ(parse_threshold("p95 < 1s").op, Op::kLt);
  EXPECT_EQ(parse_threshold("p95 <= 1s").op, Op::kLe);
  EXPECT_EQ(parse_threshold("p95 > 1s").op, Op::kGt);
  EXPECT_EQ(parse_threshold("p95 >= 1s").op, Op::kGe);
  EXPECT_EQ(parse_threshold("p95 == 1s").op, Op::kEq);
  EXPECT_EQ(parse_threshold("p95 != 1s").op, Op::kNe);
  const auto t = parse_threshold("  p95<=300ms \t");
  EXPECT_EQ(t.text, "p95<=300ms");
  EXPECT_EQ(t.metric, "p95");
  EXPECT_EQ(t.op, Op::kLe);
  EXPECT_EQ(t.value, 300'000);
}

TEST(ThresholdParse, CanonicalMetricNames) {
  const std::pair<const char*, const char*> cases[] = {
      {"p50 < 1s", "p50"},
      {"p99.9 < 1s", "p99.9"},
      {"p99.90 < 1s", "p99.9"},
      {"p100 < 1s", "p100"},
      {"p12.345 < 1s", "p12.345"},
      {"latency.p95 < 1s", "p95"},
      {"latency.mean < 1s", "avg"},
      {"mean < 1s", "avg"},
      {"service.p99.9 < 1s", "service.p99.9"},
      {"service.mean < 1s", "service.avg"},
      {"errors.5xx < 1", "errors.5xx"},
      {"error_rate.timeout < 1%", "error_rate.timeout"},
      {"status.503 < 1", "status.503"},
      {"failed < 1", "failed"},
  };
  for (const auto& [text, metric] : cases) EXPECT_EQ(parse_threshold(text).metric, metric) << text;
}

TEST(ThresholdEvaluate, EveryMetricMeasuresTheSummary) {
  const auto s = summary();
  EXPECT_EQ(measured("p50", s), static_cast<double>(s.latency.percentile(50)));
  EXPECT_EQ(measured("p90", s), static_cast<double>(s.latency.percentile(90)));
  EXPECT_EQ(measured("p95", s), static_cast<double>(s.latency.percentile(95)));
  EXPECT_EQ(measured("p99", s), static_cast<double>(s.latency.percentile(99)));
  EXPECT_EQ(measured("p99.9", s), static_cast<double>(s.latency.percentile(99.9)));
  EXPECT_EQ(measured("p12.5", s), static_cast<double>(s.latency.percentile(12.5)));
  EXPECT_EQ(measured("p100", s), 1'000'000);
  EXPECT_EQ(measured("latency.p95", s), measured("p95", s));
  EXPECT_NEAR(measured("p95", s), 950'000, 950'000 * 0.01);
  EXPECT_EQ(measured("service.p95", s), static_cast<double>(s.service.percentile(95)));
  EXPECT_NEAR(measured("service.p95", s), 94'100, 941);
  EXPECT_EQ(measured("avg", s), 500'500);
  EXPECT_EQ(measured("mean", s), 500'500);
  EXPECT_EQ(measured("latency.avg", s), 500'500);
  EXPECT_EQ(measured("min", s), 1000);
  EXPECT_EQ(measured("max", s), 1'000'000);
  EXPECT_EQ(measured("service.avg", s), 49'550);
  EXPECT_EQ(measured("service.min", s), 100);
  EXPECT_EQ(measured("service.max", s), 99'000);
  EXPECT_EQ(measured("error_rate", s), 15.0 / 1000);
  EXPECT_EQ(measured("error_rate.timeout", s), 10.0 / 1000);
  EXPECT_EQ(measured("error_rate.connect", s), 0);
  EXPECT_EQ(measured("errors", s), 15);
  EXPECT_EQ(measured("failed", s), 15);
  EXPECT_EQ(measured("errors.timeout", s), 10);
  EXPECT_EQ(measured("errors.5xx", s), 5);
  EXPECT_EQ(measured("errors.connect", s), 0);
  EXPECT_EQ(measured("rps", s), 99);
  EXPECT_EQ(measured("requests", s), 1000);
  EXPECT_EQ(measured("completed", s), 990);
  EXPECT_EQ(measured("dropped", s), 10);
  EXPECT_EQ(measured("dropped_rate", s), 10.0 / 1010);
  EXPECT_EQ(measured("status.200", s), 985);
  EXPECT_EQ(measured("status.503", s), 5);
  EXPECT_EQ(measured("status.404", s), 0);
}

TEST(ThresholdEvaluate, EveryOperator) {
  const auto s = summary();  // errors = 15, error_rate = 1.5%, max = 1 s
  struct Case {
    const char* text;
    bool passed;
  };
  const Case cases[] = {
      {"errors < 16", true},        {"errors < 15", false},
      {"errors <= 15", true},       {"errors <= 14", false},
      {"errors > 14", true},        {"errors > 15", false},
      {"errors >= 15", true},       {"errors >= 16", false},
      {"errors == 15", true},       {"errors == 14", false},
      {"errors != 14", true},       {"errors != 15", false},
      {"error_rate < 2%", true},    {"error_rate < 1.5%", false},
      {"error_rate <= 1.5%", true}, {"error_rate == 0.015", true},
      {"error_rate > 0.01", true},  {"max == 1s", true},
      {"max < 1s", false},          {"max <= 1000ms", true},
      {"max != 1s", false},         {"max >= 1s", true},
      {"max > 999999us", true},     {"rps >= 99", true},
      {"rps > 99", false},          {"status.503 == 5", true},
      {"dropped_rate < 1%", true},  {"errors.timeout <= 9", false},
  };
  for (const auto& c : cases) {
    const auto r = eval(c.text, s);
    EXPECT_EQ(r.passed, c.passed) << c.text << ": " << r.message;
  }
}

TEST(ThresholdEvaluate, RatesCompareExactlyWithTheirPercentSpelling) {
  LoadSummary s = summary();
  s.requests = 1000;
  s.failed = 7;
  EXPECT_TRUE(eval("error_rate == 0.7%", s).passed);
  EXPECT_TRUE(eval("error_rate <= 0.7%", s).passed);
  EXPECT_FALSE(eval("error_rate < 0.7%", s).passed);
  s.failed = 1;
  EXPECT_TRUE(eval("error_rate == 0.1%", s).passed);
}

TEST(ThresholdEvaluate, MessagesAndTexts) {
  LoadSummary s;
  s.duration_s = 2;
  s.requests = s.completed = 1025;
  s.failed = 8;
  s.latency.record(312'400, 1000);
  s.latency.record(1000, 25);
  s.service.record(212'000, 1025);
  auto r = eval("p95 < 300ms", s);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.measured, 312'400);
  EXPECT_EQ(r.measured_text, "312.4ms");
  EXPECT_EQ(r.limit_text, "300ms");
  EXPECT_EQ(r.message, "p95 312.4ms is not < 300ms");
  ASSERT_NE(r.threshold, nullptr);
  EXPECT_EQ(r.threshold->text, "p95 < 300ms");

  r = eval("service.p95 < 300ms", s);
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.message, "service.p95 212ms < 300ms");

  r = eval("error_rate < 0.5%", s);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.measured_text, "0.78%");
  EXPECT_EQ(r.message, "error_rate 0.78% is not < 0.5%");

  r = eval("error_rate < 0.01", s);
  EXPECT_EQ(r.message, "error_rate 0.78% < 1%");

  r = eval("rps > 600", s);
  EXPECT_EQ(r.measured_text, "512.5");
  EXPECT_EQ(r.message, "rps 512.5 is not > 600");

  r = eval("errors <= 8", s);
  EXPECT_EQ(r.message, "errors 8 <= 8");

  r = eval("min < 1ms", s);
  EXPECT_EQ(r.message, "min 1ms is not < 1ms");

  r = eval("max < 1.5s", s);
  EXPECT_EQ(r.message, "max 312.4ms < 1.5s");
}

TEST(ThresholdEvaluate, ExtraDecimalsWhenAFailureWouldPrintLikeItsLimit) {
  LoadSummary s;
  s.duration_s = 1;
  s.requests = s.completed = 1;
  s.latency.record(200);  // exact region: p95 is 200us
  s.service.record(300'040);
  auto r = eval("service.max < 300ms", s);
  EXPECT_EQ(r.message, "service.max 300.04ms is not < 300ms");
  r = eval("p95 <= 199.9us", s);
  EXPECT_EQ(r.message, "p95 200us is not <= 199.9us");
}

TEST(ThresholdEvaluate, EmptyRunNeverPasses) {
  const LoadSummary empty;
  for (const char* text :
       {"p95 < 300ms", "service.p99 < 1s", "avg < 1s", "max < 1h", "error_rate < 1%",
        "error_rate <= 100%", "errors == 0", "errors.5xx < 1", "rps >= 0", "requests >= 0",
        "completed >= 0", "dropped == 0", "dropped_rate < 1%", "status.200 >= 0"}) {
    const auto r = eval(text, empty);
    EXPECT_FALSE(r.passed) << text;
    EXPECT_NE(r.message.find("no requests were made"), std::string::npos) << r.message;
  }
  auto r = eval("error_rate < 1%", empty);
  EXPECT_EQ(r.measured, 0);
  EXPECT_EQ(r.measured_text, "0%");
  EXPECT_EQ(r.message, "error_rate cannot pass: no requests were made");
  r = eval("p95 < 300ms", empty);
  EXPECT_EQ(r.measured_text, "n/a");

  LoadSummary all_dropped;
  all_dropped.dropped = 50;
  r = eval("dropped < 100", all_dropped);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.message, "dropped cannot pass: no requests were made (50 iterations dropped)");
}

TEST(ThresholdEvaluate, NothingCompletedFailsLatencyAndRps) {
  LoadSummary s;
  s.duration_s = 5;
  s.requests = s.failed = 10;
  s.errors = {{"connect", 10}};
  s.latency.record(3'000'000, 10);  // the engine records failed requests' corrected latency too
  for (const char* text : {"p95 < 1h", "p95 > 0ms", "service.p95 < 1s", "max < 1h", "rps >= 0"}) {
    const auto r = eval(text, s);
    EXPECT_FALSE(r.passed) << text;
    EXPECT_NE(r.message.find("no request completed"), std::string::npos) << r.message;
  }
  // counts and rates still measure what happened
  EXPECT_TRUE(eval("errors.connect == 10", s).passed);
  EXPECT_FALSE(eval("error_rate < 1%", s).passed);
  EXPECT_EQ(eval("error_rate < 1%", s).message, "error_rate 100% is not < 1%");
}

TEST(ThresholdEvaluate, EmptyServiceHistogramFails) {
  LoadSummary s = summary();
  s.service.reset();
  const auto r = eval("service.p99 < 1s", s);
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.message.find("no request completed"), std::string::npos);
  EXPECT_TRUE(eval("p99 < 2s", s).passed);
}

TEST(ThresholdEvaluate, ZeroDurationFailsRps) {
  LoadSummary s = summary();
  s.duration_s = 0;
  const auto r = eval("rps > 1", s);
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.message.find("no duration"), std::string::npos);
}

TEST(ThresholdEvaluate, HandBuiltNonsenseThrows) {
  Threshold t;
  t.metric = "bogus";
  EXPECT_THROW(evaluate(t, summary()), ThresholdError);
}

// --- errors: message fragments and offsets ---

struct Bad {
  const char* text;
  std::size_t offset;
  std::vector<std::string> says;
};

TEST(ThresholdParse, ErrorsCarryOffsetsAndSuggestions) {
  const Bad cases[] = {
      {"p95x < 300ms", 0, {"unknown metric 'p95x'", "did you mean 'p95'?", "known: p50, p90"}},
      {"p97x < 300ms", 0, {"did you mean 'p97'?"}},
      {"P95 < 300ms", 0, {"unknown metric 'P95'", "did you mean 'p95'?"}},
      {"eror_rate < 1%", 0, {"did you mean 'error_rate'?"}},
      {"rsp > 10", 0, {"did you mean 'rps'?"}},
      {"error-rate < 1%", 0, {"did you mean 'error_rate'?"}},
      {"servce.p95 < 1s", 0, {"did you mean 'service.p95'?"}},
      {"service.p95x < 1s", 0, {"did you mean 'service.p95'?"}},
      {"staus.503 < 1", 0, {"did you mean 'status.503'?"}},
      {"throughput > 10", 0, {"unknown metric 'throughput'", "known:"}},
      {"  latency < 1s", 2, {"'latency' needs a statistic", "latency.p95"}},
      {"service < 1s", 0, {"needs a statistic"}},
      {"errors.5xxx < 1",
       7,
       {"unknown error class '5xxx'", "did you mean 'errors.5xx'?",
        "classes: connect, timeout, tls, 4xx, 5xx, closed, other"}},
      {"error_rate.timout < 1%", 11, {"did you mean 'error_rate.timeout'?"}},
      {"status.abc < 1", 7, {"HTTP status code 100..599"}},
      {"status.99 < 1", 7, {"100..599"}},
      {"status < 1", 6, {"status.503"}},
      {"p0 < 1s", 1, {"percentile '0' is out of range", "(0, 100]"}},
      {"p101 < 1s", 1, {"out of range"}},
      {"p100.5 < 1s", 1, {"out of range"}},
      {"service.p0 < 1s", 9, {"out of range"}},
      {"p99.12345678 < 1s", 1, {"more than 6 decimals"}},
      {"p95 300ms", 4, {"expected an operator", "after 'p95'", "got '300ms'"}},
      {"p95", 3, {"missing operator after 'p95'"}},
      {"p95 <", 5, {"missing value after '<'", "300ms"}},
      {"p95 <   ", 8, {"missing value"}},
      {"error_rate >", 12, {"missing value", "1%"}},
      {"p95 = 300ms", 4, {"unknown operator '='", "did you mean '=='?"}},
      {"p95 => 300ms", 4, {"did you mean '>='?"}},
      {"p95 =< 300ms", 4, {"did you mean '<='?"}},
      {"p95 <> 300ms", 4, {"did you mean '!='?"}},
      {"p95 <<= 300ms", 4, {"unknown operator '<<='"}},
      {"p95 < 300", 6, {"'p95' is a latency", "needs a unit", "300ms"}},
      {"avg < 1.5", 6, {"needs a unit"}},
      {"p95 < 1%", 7, {"'p95' is a latency", "unknown unit '%'", "h, m, s, ms or us"}},
      {"p95 < 300ns", 9, {"unknown unit 'ns'"}},
      {"p95 < 300 msec", 10, {"unknown unit 'msec'"}},
      {"p95 < 1m30", 8, {"'30' needs a unit"}},
      {"p95 < 30s1m", 10, {"'m' after 's'", "from the largest to the smallest"}},
      {"p95 < 1s1s", 9, {"each once"}},
      {"p95 < 1234567890123456ms", 6, {"too many digits"}},
      {"p95 < -1ms", 6, {"must not be negative"}},
      {"p95 < abc", 6, {"expected a number and a unit", "got 'abc'"}},
      {"p95 < 300ms foo", 12, {"unexpected 'foo' after the value"}},
      {"p95 < 300ms)", 11, {"unexpected ')'"}},
      {"p95 < 300ms 5", 12, {"unexpected '5'"}},
      {"p95 < 1m 30s", 9, {"unexpected '30s'"}},
      {"error_rate < 5ms", 14, {"wrong unit 'ms' for rate 'error_rate'", "1%"}},
      {"error_rate < 5", 13, {"fraction in [0, 1]", "write 5%"}},
      {"error_rate < 101%", 13, {"cannot exceed 100%"}},
      {"errors < 1.5", 9, {"whole number"}},
      {"errors < 5ms", 10, {"'errors' is a count", "'ms'"}},
      {"errors < 5%", 10, {"is a count"}},
      {"rps > 5ms", 7, {"requests per second"}},
      {"requests > 12345678901234567", 11, {"too many digits"}},
      {"", 0, {"empty threshold", "p95 < 300ms"}},
      {"   ", 0, {"empty threshold"}},
      {"< 300ms", 0, {"expected a metric"}},
      {"  >= 1", 2, {"expected a metric"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      parse_threshold(c.text);
      ADD_FAILURE() << "no error";
    } catch (const ThresholdError& e) {
      EXPECT_EQ(e.offset, c.offset) << e.what();
      for (const auto& frag : c.says)
        EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
            << "'" << frag << "' not in: " << e.what();
      EXPECT_LE(e.offset, std::string(c.text).size());
    }
  }
}

TEST(ThresholdParse, ErrorIsAnInvalidArgument) {
  EXPECT_THROW(parse_threshold("nope"), std::invalid_argument);
}

TEST(ThresholdParse, NoSuggestionForSomethingFarOff) {
  try {
    parse_threshold("zzzzzzzz < 1");
    FAIL();
  } catch (const ThresholdError& e) {
    EXPECT_EQ(std::string(e.what()).find("did you mean"), std::string::npos) << e.what();
  }
}

}  // namespace
