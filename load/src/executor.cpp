#include "kgate/load/executor.hpp"

#include <stdexcept>

#include "executors/executors.hpp"
#include "kgate/duration.hpp"

namespace kgate::load {

namespace detail {
void require(bool ok, const ExecutorSpec& spec, const std::string& what) {
  if (!ok) throw std::invalid_argument(spec.type + ": " + what);
}
}  // namespace detail

std::vector<Stage> parse_stages(std::string_view text) {
  std::vector<Stage> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    std::string_view part =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    auto colon = part.find(':');
    if (colon == std::string_view::npos)
      throw std::invalid_argument("stage '" + std::string(part) +
                                  "': expected duration:target, e.g. 30s:100");
    Stage s;
    try {
      s.duration = parse_duration(part.substr(0, colon));
    } catch (const std::exception& e) {
      throw std::invalid_argument("stage '" + std::string(part) + "': " + e.what());
    }
    std::string target(part.substr(colon + 1));
    char* end = nullptr;
    s.target = std::strtod(target.c_str(), &end);
    if (target.empty() || *end || s.target < 0)
      throw std::invalid_argument("stage '" + std::string(part) + "': target '" + target +
                                  "' is not a number ≥ 0");
    out.push_back(s);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::unique_ptr<Executor> make_executor(const ExecutorSpec& spec) {
  if (spec.type == "constant-arrival-rate") return detail::constant_arrival_rate(spec);
  if (spec.type == "ramping-arrival-rate") return detail::ramping_arrival_rate(spec);
  if (spec.type == "constant-vus") return detail::constant_vus(spec);
  if (spec.type == "ramping-vus") return detail::ramping_vus(spec);
  throw std::invalid_argument("unknown executor '" + spec.type +
                              "'; use constant-arrival-rate, ramping-arrival-rate, constant-vus "
                              "or ramping-vus");
}

std::string format_duration(Nanos d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  long long s = ms / 1000;
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s > 0 || out.empty()) out += std::to_string(s) + "s";
  return out;
}

}  // namespace kgate::load
