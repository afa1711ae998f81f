#include "faults.hpp"

#include <cstdlib>
#include <stdexcept>

namespace todo {

const std::vector<std::string_view>& fault_names() {
  static const std::vector<std::string_view> names = {"no-auth",
                                                      "no-owner-check",
                                                      "alg-none",
                                                      "slow",
                                                      "errors-5xx",
                                                      "leaky-errors",
                                                      "no-security-headers",
                                                      "permissive-cors",
                                                      "lying-health",
                                                      "bad-health-body",
                                                      "broken-toggle",
                                                      "chat-no-tool",
                                                      "no-proxy",
                                                      "broken-page",
                                                      "no-validation",
                                                      "crash-on-bad-json",
                                                      "rate-limit",
                                                      "no-signature-check",
                                                      "no-expiry-check",
                                                      "lax-token-source",
                                                      "mass-assignment",
                                                      "no-body-limit",
                                                      "sql-injection",
                                                      "debug-routes",
                                                      "default-secret",
                                                      "bytes-error",
                                                      "int-overflow",
                                                      "broken-register",
                                                      "auth-500",
                                                      "create-fails",
                                                      "delete-fails",
                                                      "no-graceful-shutdown",
                                                      "lying-readiness",
                                                      "state-in-memory",
                                                      "unready-new-pods"};
  static_assert(static_cast<int>(Fault::Count_) == 35, "keep fault_names() in step with Fault");
  return names;
}

std::vector<std::string> Faults::names() const {
  std::vector<std::string> out;
  const auto& all = fault_names();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (set_.test(i)) out.emplace_back(all[i]);
  }
  return out;
}

namespace {

std::string valid_list() {
  std::string out;
  for (auto name : fault_names()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

Faults parse_faults(const std::vector<std::string>& names) {
  Faults faults;
  const auto& all = fault_names();
  for (const auto& raw : names) {
    if (raw.empty()) continue;
    bool found = false;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i] == raw) {
        faults.enable(static_cast<Fault>(i));
        found = true;
        break;
      }
    }
    if (!found) {
      throw std::invalid_argument("unknown fault '" + raw + "'; valid faults: " + valid_list());
    }
  }
  if (const char* ms = std::getenv("TODO_FAULT_SLOW_MS"); ms && *ms) {
    try {
      faults.slow_delay = std::chrono::milliseconds(std::stol(ms));
    } catch (const std::exception&) {
      throw std::invalid_argument(std::string("TODO_FAULT_SLOW_MS is not a number: ") + ms);
    }
  }
  if (const char* rate = std::getenv("TODO_FAULT_ERROR_RATE"); rate && *rate) {
    try {
      faults.error_rate = std::stod(rate);
    } catch (const std::exception&) {
      throw std::invalid_argument(std::string("TODO_FAULT_ERROR_RATE is not a number: ") + rate);
    }
  }
  if (const char* ms = std::getenv("TODO_FAULT_WARMUP_MS"); ms && *ms) {
    try {
      faults.warmup = std::chrono::milliseconds(std::stol(ms));
    } catch (const std::exception&) {
      throw std::invalid_argument(std::string("TODO_FAULT_WARMUP_MS is not a number: ") + ms);
    }
  }
  return faults;
}

}  // namespace todo
