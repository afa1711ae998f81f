#include "kgate/load/threshold.hpp"

#include "kgate/duration.hpp"
#include "kgate/suggest.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

namespace kgate::load {

namespace {

constexpr std::array<std::string_view, 7> kClasses = {"connect", "timeout", "tls",  "4xx",
                                                      "5xx",     "closed",  "other"};
constexpr std::string_view kKnown =
    "known: p50, p90, p95, p99, p99.9 (any pNN with 0 < NN <= 100), latency.pNN, avg, mean, min, "
    "max, service.pNN, service.avg, service.min, service.max, error_rate, error_rate.<class>, "
    "errors, errors.<class>, failed, dropped_rate, rps, requests, completed, dropped, "
    "status.<code>; classes: connect, timeout, tls, 4xx, 5xx, closed, other";

// What a metric name resolves to.
struct Metric {
  enum class What {
    // statistics of a histogram (latency or service time)
    kPercentile,
    kAvg,
    kMin,
    kMax,
    // rates
    kErrorRate,
    kClassRate,
    kDroppedRate,
    // counts
    kRequests,
    kCompleted,
    kDropped,
    kFailed,
    kClassErrors,
    kStatus,
    // per second
    kRps,
  };
  What what = What::kRequests;
  MetricKind kind = MetricKind::kCount;
  bool service = false;  // service time instead of corrected latency
  double q = 0;          // kPercentile
  std::string cls;       // kClassRate, kClassErrors
  int status = 0;        // kStatus
  std::string canonical;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_op_char(char c) {
  return c == '<' || c == '>' || c == '=' || c == '!';
}
// Unit letters: ASCII letters, '%', '/', and any non-ASCII byte (µ is two bytes in UTF-8).
bool is_unit_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '%' || c == '/' ||
         static_cast<unsigned char>(c) >= 0x80;
}
std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}
std::string quote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// The closest candidate, if it is close enough to be what the user meant.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& cands) {
  std::string best = closest_match(word, cands);
  if (best.empty()) return std::nullopt;
  return best;
}

// A decimal number as written: digits, optionally a fraction. Kept as an integer mantissa and a
// count of decimals so that 0.7% becomes exactly the double nearest 7/1000 (what failed/requests
// computes for 7 of 1000), not 0.7/100, which differs in the last bit.
struct Decimal {
  std::uint64_t mantissa = 0;
  int decimals = 0;
  // mantissa * factor / 10^(decimals + extra): one correctly rounded division while the product
  // is exact (below 2^53), which it is for every value a person writes.
  double scaled(std::uint64_t factor, int extra = 0) const {
    const double num = mantissa <= (std::uint64_t{1} << 53) / factor
                           ? static_cast<double>(mantissa * factor)
                           : static_cast<double>(mantissa) * static_cast<double>(factor);
    return num / pow10(decimals + extra);
  }
  static double pow10(int n) {
    double p = 1;
    for (int k = 0; k < n; ++k) p *= 10;
    return p;
  }
  bool whole() const {
    std::uint64_t m = mantissa;
    for (int k = 0; k < decimals; ++k, m /= 10)
      if (m % 10) return false;
    return true;
  }
};

// Parses [0-9]+(.[0-9]+)? or .[0-9]+ at i. Returns nullopt (i unchanged) when there is no digit.
std::optional<Decimal> parse_decimal(std::string_view s, std::size_t& i, std::size_t& digits) {
  std::size_t j = i;
  Decimal d;
  digits = 0;
  bool any = false;
  auto take = [&](char c) {
    if (digits > 0 || c != '0') ++digits;  // significant digits only
    d.mantissa = d.mantissa * 10 + static_cast<std::uint64_t>(c - '0');
    any = true;
  };
  while (j < s.size() && is_digit(s[j])) take(s[j++]);
  if (j < s.size() && s[j] == '.' && j + 1 < s.size() && is_digit(s[j + 1])) {
    ++j;
    while (j < s.size() && is_digit(s[j])) {
      take(s[j++]);
      ++d.decimals;
    }
  }
  if (!any) return std::nullopt;
  i = j;
  return d;
}

// "99.9" -> 99.9 for a percentile; nullopt unless the whole string is a decimal number.
std::optional<double> percentile_number(std::string_view s, std::size_t base) {
  std::size_t i = 0, digits = 0;
  if (s.empty() || !is_digit(s[0])) return std::nullopt;
  auto d = parse_decimal(s, i, digits);
  if (!d || i != s.size()) return std::nullopt;
  if (d->decimals > 6)
    throw ThresholdError("percentile " + quote(s) + " has more than 6 decimals", base);
  if (digits > 9) throw ThresholdError("percentile " + quote(s) + " has too many digits", base);
  const double q = d->scaled(1);
  if (q <= 0 || q > 100)
    throw ThresholdError("percentile " + quote(s) + " is out of range: it must be in (0, 100]",
                         base);
  return q;
}

std::string format_fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string percentile_name(double q) {
  return "p" + format_fixed(q, 6);
}

// Resolves the part after "latency." / "service." (or a bare latency metric).
std::optional<Metric> latency_metric(std::string_view s, bool service, std::size_t base) {
  Metric m;
  m.kind = MetricKind::kLatency;
  m.service = service;
  const std::string prefix = service ? "service." : "";
  if (s == "avg" || s == "mean") {
    m.what = Metric::What::kAvg;
    m.canonical = prefix + "avg";
  } else if (s == "min" || s == "max") {
    m.what = s == "min" ? Metric::What::kMin : Metric::What::kMax;
    m.canonical = prefix + std::string(s);
  } else if (s.size() > 1 && s[0] == 'p') {
    auto q = percentile_number(s.substr(1), base + 1);
    if (!q) return std::nullopt;
    m.what = Metric::What::kPercentile;
    m.q = *q;
    m.canonical = prefix + percentile_name(*q);
  } else {
    return std::nullopt;
  }
  return m;
}

std::vector<std::string> class_names(std::string_view prefix) {
  std::vector<std::string> out;
  for (auto c : kClasses) out.push_back(std::string(prefix) + std::string(c));
  return out;
}

std::string join_classes() {
  std::string out;
  for (auto c : kClasses) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

// Resolves a metric name; throws ThresholdError (offsets relative to `base`). With `probe`, an
// unknown name returns nullopt instead of throwing (used to build suggestions).
std::optional<Metric> resolve(std::string_view name, std::size_t base, bool probe);

std::vector<std::string> suggestion_candidates(std::string_view name) {
  std::vector<std::string> c = {
      "p50",           "p75",           "p90",          "p95",          "p99",
      "p99.9",         "p99.99",        "p100",         "avg",          "mean",
      "min",           "max",           "latency.p50",  "latency.p90",  "latency.p95",
      "latency.p99",   "latency.p99.9", "latency.avg",  "latency.mean", "latency.min",
      "latency.max",   "service.p50",   "service.p90",  "service.p95",  "service.p99",
      "service.p99.9", "service.avg",   "service.mean", "service.min",  "service.max",
      "error_rate",    "errors",        "failed",       "dropped_rate", "rps",
      "requests",      "completed",     "dropped"};
  for (auto& s : class_names("errors.")) c.push_back(s);
  for (auto& s : class_names("error_rate.")) c.push_back(s);
  // Same tail under a correctly spelled head: "staus.503" -> "status.503".
  if (auto dot = name.find('.'); dot != std::string_view::npos && dot + 1 < name.size()) {
    const std::string tail(name.substr(dot + 1));
    for (std::string_view head : {"latency.", "service.", "errors.", "error_rate.", "status."}) {
      const std::string cand = std::string(head) + tail;
      try {
        if (resolve(cand, 0, true)) c.push_back(cand);
      } catch (const ThresholdError&) {
      }
    }
  }
  // A percentile with junk after it: "p97x" -> "p97".
  if (name.size() > 1 && name[0] == 'p' && is_digit(name[1])) {
    std::size_t i = 1, digits = 0;
    if (parse_decimal(name, i, digits)) c.push_back(std::string(name.substr(0, i)));
  }
  return c;
}

[[noreturn]] void unknown_metric(std::string_view name, std::size_t base) {
  std::string msg = "unknown metric " + quote(name);
  if (auto best = closest(name, suggestion_candidates(name)))
    msg += " (did you mean " + quote(*best) + "?)";
  throw ThresholdError(msg + "; " + std::string(kKnown), base);
}

std::optional<Metric> resolve(std::string_view name, std::size_t base, bool probe) {
  using W = Metric::What;
  auto simple = [&](W what, MetricKind kind) {
    Metric m;
    m.what = what;
    m.kind = kind;
    m.canonical = std::string(name);
    return m;
  };
  if (name == "error_rate") return simple(W::kErrorRate, MetricKind::kRate);
  if (name == "dropped_rate") return simple(W::kDroppedRate, MetricKind::kRate);
  if (name == "rps") return simple(W::kRps, MetricKind::kRps);
  if (name == "requests") return simple(W::kRequests, MetricKind::kCount);
  if (name == "completed") return simple(W::kCompleted, MetricKind::kCount);
  if (name == "dropped") return simple(W::kDropped, MetricKind::kCount);
  if (name == "errors" || name == "failed") return simple(W::kFailed, MetricKind::kCount);
  if (auto m = latency_metric(name, false, base)) return m;

  const auto dot = name.find('.');
  const std::string_view head = name.substr(0, dot);
  const std::string_view tail =
      dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  const std::size_t tail_at = base + head.size() + 1;
  if (head == "latency" || head == "service") {
    if (auto m = latency_metric(tail, head == "service", tail_at)) return m;
    if (probe) return std::nullopt;
    if (tail.empty())
      throw ThresholdError(quote(name) + " needs a statistic: " + std::string(head) + ".p95, " +
                               std::string(head) + ".avg, " + std::string(head) + ".min or " +
                               std::string(head) + ".max",
                           base);
    unknown_metric(name, base);
  }
  if ((head == "errors" || head == "error_rate") && dot != std::string_view::npos) {
    if (std::find(kClasses.begin(), kClasses.end(), tail) != kClasses.end()) {
      Metric m = head == "errors" ? simple(W::kClassErrors, MetricKind::kCount)
                                  : simple(W::kClassRate, MetricKind::kRate);
      m.cls = std::string(tail);
      return m;
    }
    if (probe) return std::nullopt;
    std::string msg = "unknown error class " + quote(tail) + " in " + quote(name);
    if (auto best = closest(tail, class_names("")))
      msg += " (did you mean " + quote(std::string(head) + "." + *best) + "?)";
    throw ThresholdError(msg + "; classes: " + join_classes(), tail_at);
  }
  if (head == "status") {
    std::size_t i = 0, digits = 0;
    auto d = tail.size() == 3 ? parse_decimal(tail, i, digits) : std::nullopt;
    if (d && i == tail.size() && d->decimals == 0 && d->mantissa >= 100 && d->mantissa <= 599) {
      Metric m = simple(W::kStatus, MetricKind::kCount);
      m.status = static_cast<int>(d->mantissa);
      return m;
    }
    if (probe) return std::nullopt;
    throw ThresholdError(quote(name) +
                             ": expected an HTTP status code 100..599 after 'status.', "
                             "e.g. status.503",
                         dot == std::string_view::npos ? base + name.size() : tail_at);
  }
  if (probe) return std::nullopt;
  unknown_metric(name, base);
}

std::string_view kind_hint(MetricKind k) {
  switch (k) {
    case MetricKind::kLatency:
      return "a duration such as 300ms (units: us, ms, s, m, h)";
    case MetricKind::kRate:
      return "a percentage such as 1% (or a fraction such as 0.01)";
    case MetricKind::kCount:
      return "a whole number";
    case MetricKind::kRps:
      return "a number of requests per second such as 200";
  }
  return "";
}

// Parses the value at i for a metric of kind m.kind; advances i past it.
double parse_value(std::string_view s, std::size_t& i, const Metric& m) {
  const std::string& name = m.canonical;
  const std::size_t start = i;
  if (s[i] == '-')
    throw ThresholdError("the value for " + quote(name) + " must not be negative", i);
  if (m.kind == MetricKind::kLatency) {
    // Durations are read by kgate's one duration grammar (common/duration), as in the config.
    try {
      const ScannedDuration d = scan_duration(s.substr(i));
      i += d.length;
      return d.micros;
    } catch (const DurationError& e) {
      std::string got;
      if (e.offset() == 0) {
        std::size_t end = i;
        while (end < s.size() && !is_space(s[end])) ++end;
        got = ", got " + quote(s.substr(i, end - i));
      }
      throw ThresholdError(quote(name) + " is a latency: " + e.what() + got, start + e.offset());
    }
  }
  auto number = [&]() {
    std::size_t digits = 0;
    auto d = parse_decimal(s, i, digits);
    if (!d) {
      std::size_t end = i;
      while (end < s.size() && !is_space(s[end])) ++end;
      throw ThresholdError("expected " + std::string(kind_hint(m.kind)) + " for " + quote(name) +
                               ", got " + quote(s.substr(i, end - i)),
                           i);
    }
    if (digits > 15)
      throw ThresholdError("the value for " + quote(name) + " has too many digits", start);
    return *d;
  };
  auto unit = [&](std::size_t& at) {
    std::size_t j = skip_space(s, i);
    // A unit may follow after spaces ("300 ms"); a digit there is trailing text, not a unit.
    if (j < s.size() && is_unit_char(s[j])) {
      at = j;
      while (j < s.size() && is_unit_char(s[j])) ++j;
      std::string_view u = s.substr(at, j - at);
      i = j;
      return u;
    }
    at = i;
    return std::string_view();
  };

  Decimal d = number();
  std::size_t unit_at = 0;
  std::string_view u = unit(unit_at);
  switch (m.kind) {
    case MetricKind::kLatency:
      break;  // read above
    case MetricKind::kRate: {
      if (u == "%") {
        if (d.scaled(1) > 100) throw ThresholdError("a rate cannot exceed 100%", start);
        return d.scaled(1, 2);
      }
      if (!u.empty())
        throw ThresholdError("wrong unit " + quote(u) + " for rate " + quote(name) +
                                 "; write a percentage (1%) or a fraction (0.01)",
                             unit_at);
      if (d.scaled(1) > 1)
        throw ThresholdError("a bare rate is a fraction in [0, 1]; for percent write " +
                                 std::string(s.substr(start, i - start)) + "%",
                             start);
      return d.scaled(1);
    }
    case MetricKind::kCount:
      if (!u.empty())
        throw ThresholdError(quote(name) + " is a count: write a plain number, without " + quote(u),
                             unit_at);
      if (!d.whole())
        throw ThresholdError(quote(name) + " is a count: write a whole number", start);
      return d.scaled(1);
    case MetricKind::kRps:
      if (!u.empty() && u != "/s")
        throw ThresholdError(quote(name) + " is requests per second: write a plain number (or " +
                                 "200/s), without " + quote(u),
                             unit_at);
      return d.scaled(1);
  }
  return 0;
}

Op parse_op(std::string_view op, std::size_t at) {
  if (op == "<") return Op::kLt;
  if (op == "<=") return Op::kLe;
  if (op == ">") return Op::kGt;
  if (op == ">=") return Op::kGe;
  if (op == "==") return Op::kEq;
  if (op == "!=") return Op::kNe;
  std::string fix;
  if (op == "=" || op == "===") fix = "==";
  if (op == "=<") fix = "<=";
  if (op == "=>") fix = ">=";
  if (op == "<>" || op == "=!") fix = "!=";
  throw ThresholdError("unknown operator " + quote(op) +
                           (fix.empty() ? "" : " (did you mean " + quote(fix) + "?)") +
                           "; use <, <=, >, >=, == or !=",
                       at);
}

bool compare(double a, Op op, double b) {
  switch (op) {
    case Op::kLt:
      return a < b;
    case Op::kLe:
      return a <= b;
    case Op::kGt:
      return a > b;
    case Op::kGe:
      return a >= b;
    case Op::kEq:
      return a == b;
    case Op::kNe:
      return a != b;
  }
  return false;
}

std::string format_value(MetricKind k, double v, int extra) {
  switch (k) {
    case MetricKind::kLatency:
      if (v < 1e3) return format_fixed(v, 1 + extra) + "us";
      if (v < 1e6) return format_fixed(v / 1e3, 1 + extra) + "ms";
      return format_fixed(v / 1e6, 2 + extra) + "s";
    case MetricKind::kRate:
      return format_fixed(v * 100, 2 + extra) + "%";
    case MetricKind::kCount:
      return format_fixed(v, extra);
    case MetricKind::kRps:
      return format_fixed(v, 1 + extra);
  }
  return format_fixed(v, 3);
}

std::uint64_t lookup(const std::map<std::string, std::uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

double ratio(std::uint64_t a, std::uint64_t b) {
  return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
}

// The measured value, or a reason why the metric could not be measured on this run.
double measure(const Metric& m, const LoadSummary& s, std::optional<std::string>& missing) {
  using W = Metric::What;
  if (m.kind == MetricKind::kLatency) {
    const Histogram& h = m.service ? s.service : s.latency;
    if (s.completed == 0 || h.count() == 0) {
      missing = "no request completed";
      return 0;
    }
    switch (m.what) {
      case W::kPercentile:
        return static_cast<double>(h.percentile(m.q));
      case W::kAvg:
        return h.mean();
      case W::kMin:
        return static_cast<double>(h.min());
      default:
        return static_cast<double>(h.max());
    }
  }
  switch (m.what) {
    case W::kErrorRate:
      return ratio(s.failed, s.requests);
    case W::kClassRate:
      return ratio(lookup(s.errors, m.cls), s.requests);
    case W::kDroppedRate:
      return ratio(s.dropped, s.requests + s.dropped);
    case W::kRequests:
      return static_cast<double>(s.requests);
    case W::kCompleted:
      return static_cast<double>(s.completed);
    case W::kDropped:
      return static_cast<double>(s.dropped);
    case W::kFailed:
      return static_cast<double>(s.failed);
    case W::kClassErrors:
      return static_cast<double>(lookup(s.errors, m.cls));
    case W::kStatus: {
      auto it = s.status_codes.find(m.status);
      return it == s.status_codes.end() ? 0.0 : static_cast<double>(it->second);
    }
    case W::kRps:
      if (s.completed == 0) {
        missing = "no request completed";
        return 0;
      }
      if (!(s.duration_s > 0)) {
        missing = "the run has no duration";
        return 0;
      }
      return static_cast<double>(s.completed) / s.duration_s;
    default:
      return 0;
  }
}

}  // namespace

std::string_view op_text(Op op) {
  switch (op) {
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kEq:
      return "==";
    case Op::kNe:
      return "!=";
  }
  return "?";
}

Threshold parse_threshold(std::string_view text) {
  const std::size_t n = text.size();
  std::size_t i = skip_space(text, 0);
  if (i == n)
    throw ThresholdError("empty threshold: expected '<metric> <op> <value>', e.g. 'p95 < 300ms'",
                         0);
  const std::size_t metric_at = i;
  while (i < n && !is_space(text[i]) && !is_op_char(text[i])) ++i;
  if (i == metric_at)
    throw ThresholdError("expected a metric before the operator, e.g. 'p95 < 300ms'", i);
  const std::string_view name = text.substr(metric_at, i - metric_at);
  const Metric m = *resolve(name, metric_at, false);

  i = skip_space(text, i);
  if (i == n)
    throw ThresholdError(
        "missing operator after " + quote(name) + ": expected <, <=, >, >=, == or !=", i);
  const std::size_t op_at = i;
  while (i < n && is_op_char(text[i])) ++i;
  if (i == op_at) {
    std::size_t end = i;
    while (end < n && !is_space(text[end])) ++end;
    throw ThresholdError("expected an operator (<, <=, >, >=, ==, !=) after " + quote(name) +
                             ", got " + quote(text.substr(i, end - i)),
                         op_at);
  }
  const Op op = parse_op(text.substr(op_at, i - op_at), op_at);

  i = skip_space(text, i);
  if (i == n)
    throw ThresholdError("missing value after " + quote(op_text(op)) + ": expected " +
                             std::string(kind_hint(m.kind)),
                         i);
  const double value = parse_value(text, i, m);
  i = skip_space(text, i);
  if (i != n) throw ThresholdError("unexpected " + quote(text.substr(i)) + " after the value", i);

  Threshold t;
  std::size_t end = n;
  while (end > metric_at && is_space(text[end - 1])) --end;
  t.text = std::string(text.substr(metric_at, end - metric_at));
  t.metric = m.canonical;
  t.op = op;
  t.value = value;
  t.kind = m.kind;
  return t;
}

ThresholdResult evaluate(const Threshold& t, const LoadSummary& s) {
  const Metric m = *resolve(t.metric, 0, false);
  ThresholdResult r;
  r.threshold = &t;
  std::optional<std::string> missing;
  r.measured = measure(m, s, missing);
  if (s.requests == 0) {
    missing = "no requests were made";
    if (s.dropped) *missing += " (" + std::to_string(s.dropped) + " iterations dropped)";
  }
  // Show enough decimals that a failing value does not print the same as its limit.
  int extra = 0;
  for (; extra < 4; ++extra) {
    if (r.measured == t.value ||
        format_value(m.kind, r.measured, extra) != format_value(m.kind, t.value, extra))
      break;
  }
  r.limit_text = format_value(m.kind, t.value, extra);
  if (missing) {
    r.passed = false;
    r.measured_text = m.kind == MetricKind::kLatency || m.kind == MetricKind::kRps
                          ? "n/a"
                          : format_value(m.kind, r.measured, extra);
    r.message = m.canonical + " cannot pass: " + *missing;
    return r;
  }
  r.passed = compare(r.measured, t.op, t.value);
  r.measured_text = format_value(m.kind, r.measured, extra);
  r.message = m.canonical + " " + r.measured_text + (r.passed ? " " : " is not ") +
              std::string(op_text(t.op)) + " " + r.limit_text;
  return r;
}

}  // namespace kgate::load
