#pragma once
// A compact, marked block of data in a process's log, for results that travel through a pod's
// log to whoever reads it through the API (kgate in a `helm test` pod, distributed load
// workers). The payload is JSON, base64 in lines of 76 characters between two marker lines,
// with its length and a SHA-256 so a truncated or interleaved log is detected, never half-read:
//
//   ===KGATE-BLOCK kind=results v=1 bytes=1234 sha256=ab12...===
//   eyJ...
//   ===KGATE-BLOCK-END===
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kgate::log_block {

// The block for `payload`, with a trailing newline.
std::string encode(std::string_view kind, const nlohmann::json& payload);

struct Found {
  std::string kind;
  nlohmann::json payload;
};
// Every well-formed block of `kind` ("" for any) in `log`, in order; blocks whose length or
// digest do not match are skipped and reported in `problems` (when given).
std::vector<Found> decode_all(std::string_view log, std::string_view kind = "",
                              std::vector<std::string>* problems = nullptr);
// The last well-formed block of `kind`, if any.
std::optional<nlohmann::json> decode_last(std::string_view log, std::string_view kind,
                                          std::vector<std::string>* problems = nullptr);

}  // namespace kgate::log_block
