#include "kgate/duration.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace kgate {
namespace {

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  throw std::invalid_argument("invalid duration '" + std::string(text) + "': " + std::string(why));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

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

std::chrono::microseconds parse_duration(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) fail(text, "empty");
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  std::string_view number = s.substr(0, i);
  std::string_view unit = trim(s.substr(i));
  if (number.empty()) fail(text, "expected a number such as 250ms, 1.5s, 2m");
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) fail(text, "bad number");

  double us_per_unit = 0;
  if (unit.empty() || unit == "s") {
    us_per_unit = 1e6;
  } else if (unit == "ms") {
    us_per_unit = 1e3;
  } else if (unit == "us" || unit == "\xC2\xB5s") {
    us_per_unit = 1;
  } else if (unit == "ns") {
    us_per_unit = 1e-3;
  } else if (unit == "m") {
    us_per_unit = 60e6;
  } else if (unit == "h") {
    us_per_unit = 3600e6;
  } else {
    fail(text, "unknown unit (use us, ms, s, m or h)");
  }
  double us = std::round(value * us_per_unit);
  if (!std::isfinite(us) || us > 9.2e18) fail(text, "too large");
  return std::chrono::microseconds(static_cast<long long>(us));
}

std::string format_duration(std::chrono::microseconds d) {
  long long us = d.count();
  if (us < 0) return "-" + format_duration(std::chrono::microseconds(-us));
  if (us == 0) return "0s";
  if (us >= 1000000) return trimmed(static_cast<double>(us) / 1e6, 3) + "s";
  if (us >= 1000) return trimmed(static_cast<double>(us) / 1e3, 3) + "ms";
  return std::to_string(us) + "us";
}

}  // namespace kgate
