#pragma once
#include <chrono>
#include <string>
#include <string_view>

namespace kgate {
// Parses "250ms", "1.5s", "2m", "1h", "300us"; a bare number is seconds. Throws
// std::invalid_argument with the offending text.
std::chrono::microseconds parse_duration(std::string_view text);
std::string format_duration(std::chrono::microseconds d);  // "1.25s", "300ms", "42us"
}  // namespace kgate
