#pragma once
// The one duration grammar of kgate: configuration files, the command line and thresholds.
//
//   duration := "0" | part { part }        e.g. 250ms  1.5s  1m30s  1h  300 ms  .5s  0
//   part     := number [spaces] unit
//   number   := digits [ "." digits ] | "." digits      (at most 15 significant digits)
//   unit     := "h" | "m" | "s" | "ms" | "us" | "µs"
//
// A unit is required after every number, except for a bare 0. Units go from the largest to the
// smallest, each at most once (1h30m, 1m30s, 1s500ms; not 30s1m). No sign. Errors say what was
// expected and echo the text; callers add where it came from (file:line:column, the flag).
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kgate {

class DurationError : public std::invalid_argument {
 public:
  DurationError(const std::string& message, std::size_t offset)
      : std::invalid_argument(message), offset_(offset) {}
  // Where the problem starts, in the text the scanner or parser was given.
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

// A duration read from the start of a longer text (a threshold's value): `micros` is exact to
// the double nearest the decimal written (199.9us stays 199.9), `length` how many characters it
// took. Stops before the first character that cannot continue it (a space before something that
// is not a unit, ')', ...). Throws DurationError for text that starts a duration badly.
struct ScannedDuration {
  double micros = 0;
  std::size_t length = 0;
};
ScannedDuration scan_duration(std::string_view text);

// The whole text, surrounding spaces ignored, rounded to microseconds. Throws DurationError:
// "invalid duration '5 parsecs': unknown unit 'parsecs' (expected h, m, s, ms or us)".
std::chrono::microseconds parse_duration(std::string_view text);

// "1.25s", "300ms", "42us" (parse_duration reads it back).
std::string format_duration(std::chrono::microseconds d);

}  // namespace kgate
