#include "kgate/duration.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace kgate {
namespace {

constexpr std::string_view kUnits = "h, m, s, ms or us";
constexpr std::size_t kMaxDigits = 15;  // mantissas stay exact in a double (below 2^53)

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_space(char c) {
  return c == ' ' || c == '\t';
}
// What a unit is made of, so that a wrong one is read whole ("msec", "%", "/s", "µs").
bool is_unit_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '%' || c == '/' ||
         static_cast<unsigned char>(c) >= 0x80;
}

std::string quote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// Microseconds per unit, and its rank (units must come largest first); 0 when unknown.
struct Unit {
  std::uint64_t micros = 0;
  int rank = 0;
};
Unit unit_of(std::string_view u) {
  if (u == "h") return {3'600'000'000, 1};
  if (u == "m") return {60'000'000, 2};
  if (u == "s") return {1'000'000, 3};
  if (u == "ms") return {1'000, 4};
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return {1, 5};  // micro sign, mu
  return {};
}

double pow10(std::size_t n) {
  double p = 1;
  for (std::size_t k = 0; k < n && p < 1e308; ++k) p *= 10;
  return p;
}

// A decimal as written, kept as an integer mantissa and a count of decimals so that 0.7ms is
// the double nearest 700us, not 0.7 * 1000 with its rounding error.
struct Decimal {
  std::uint64_t mantissa = 0;
  std::size_t decimals = 0;
  // mantissa * factor / 10^decimals: one correctly rounded division while the product is exact.
  double times(std::uint64_t factor) const {
    const double num = mantissa <= (std::uint64_t{1} << 53) / factor
                           ? static_cast<double>(mantissa * factor)
                           : static_cast<double>(mantissa) * static_cast<double>(factor);
    return num / pow10(decimals);
  }
};

// digits [. digits] | . digits at i; advances i. False (i unchanged) when there is no digit.
bool scan_number(std::string_view s, std::size_t& i, Decimal& d) {
  std::size_t j = i, significant = 0;
  bool any = false;
  auto take = [&](char c) {
    if (significant > 0 || c != '0') ++significant;
    if (significant > kMaxDigits) {
      throw DurationError("too many digits in " + quote(s.substr(i)) + " (at most " +
                              std::to_string(kMaxDigits) + " significant)",
                          i);
    }
    d.mantissa = d.mantissa * 10 + static_cast<std::uint64_t>(c - '0');
    any = true;
  };
  while (j < s.size() && is_digit(s[j])) take(s[j++]);
  if (j + 1 < s.size() && s[j] == '.' && is_digit(s[j + 1])) {
    ++j;
    while (j < s.size() && is_digit(s[j])) {
      take(s[j++]);
      ++d.decimals;
    }
  }
  if (!any) return false;
  i = j;
  return true;
}

}  // namespace

ScannedDuration scan_duration(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    throw DurationError("a duration has no sign (write 5s, not " + quote(s) + ")", 0);
  }
  ScannedDuration out;
  std::size_t i = 0;
  int last_rank = 0;
  std::string_view last_unit;
  for (;;) {
    const std::size_t number_at = i;
    Decimal d;
    if (!scan_number(s, i, d)) {
      if (number_at == 0) {
        throw DurationError("expected a number and a unit, e.g. 250ms, 1.5s or 1m30s", 0);
      }
      break;  // the end of the duration
    }
    const std::string_view number = s.substr(number_at, i - number_at);
    std::size_t unit_at = i;
    while (unit_at < s.size() && is_space(s[unit_at])) ++unit_at;
    std::size_t unit_end = unit_at;
    while (unit_end < s.size() && is_unit_char(s[unit_end])) ++unit_end;
    const std::string_view unit = s.substr(unit_at, unit_end - unit_at);
    if (unit.empty()) {
      if (number_at == 0 && number == "0") return {0, i};  // the bare 0
      throw DurationError(quote(number) + " needs a unit: " + std::string(kUnits) + " (e.g. " +
                              std::string(number) + "s or " + std::string(number) +
                              "ms); only 0 may stand alone",
                          number_at);
    }
    const Unit u = unit_of(unit);
    if (u.micros == 0) {
      throw DurationError("unknown unit " + quote(unit) + " (expected " + std::string(kUnits) + ")",
                          unit_at);
    }
    if (u.rank <= last_rank) {
      throw DurationError(quote(unit) + " after " + quote(last_unit) +
                              ": write units from the largest to the smallest, each once, "
                              "e.g. 1h30m or 1m30s",
                          unit_at);
    }
    last_rank = u.rank;
    last_unit = unit;
    out.micros += d.times(u.micros);
    i = unit_end;
    out.length = i;
    // Parts follow each other without spaces: "1m30s", not "1m 30s".
    if (i >= s.size() || !(is_digit(s[i]) || s[i] == '.')) break;
  }
  return out;
}

std::chrono::microseconds parse_duration(std::string_view text) {
  std::size_t begin = 0, end = text.size();
  while (begin < end && (is_space(text[begin]) || text[begin] == '\n' || text[begin] == '\r'))
    ++begin;
  while (end > begin && (is_space(text[end - 1]) || text[end - 1] == '\n' || text[end - 1] == '\r'))
    --end;
  const std::string_view s = text.substr(begin, end - begin);
  auto fail = [&](const std::string& why, std::size_t at) -> DurationError {
    return DurationError("invalid duration " + quote(text) + ": " + why, begin + at);
  };
  if (s.empty()) throw fail("empty; expected a number and a unit, e.g. 250ms, 1.5s or 1m30s", 0);
  ScannedDuration d;
  try {
    d = scan_duration(s);
  } catch (const DurationError& e) {
    throw fail(e.what(), e.offset());
  }
  if (d.length != s.size()) {
    throw fail("unexpected " + quote(s.substr(d.length)) + " after the duration", d.length);
  }
  const double us = std::round(d.micros);
  // Below 2^63 microseconds (292,000 years): anything larger is a typo, and does not fit.
  if (!(us < 9.2e18)) throw fail("too large", 0);
  return std::chrono::microseconds(static_cast<long long>(us));
}

namespace {
// Prints v with up to `decimals` decimals, dropping trailing zeros.
std::string trimmed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s(buf);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}
}  // namespace

std::string format_duration(std::chrono::microseconds d) {
  const long long count = d.count();
  // The magnitude as unsigned: -count overflows for the most negative value.
  const unsigned long long us = count < 0 ? 0ULL - static_cast<unsigned long long>(count)
                                          : static_cast<unsigned long long>(count);
  const std::string sign = count < 0 ? "-" : "";
  if (us == 0) return "0s";
  if (us >= 1000000) return sign + trimmed(static_cast<double>(us) / 1e6, 3) + "s";
  if (us >= 1000) return sign + trimmed(static_cast<double>(us) / 1e3, 3) + "ms";
  return sign + std::to_string(us) + "us";
}

}  // namespace kgate
