#pragma once
// Standard base64 (RFC 4648 with padding), as Kubernetes carries certificates, keys and Secret
// data. JWTs use the URL-safe variant in jwt.hpp.
#include <optional>
#include <string>
#include <string_view>

namespace kgate {

std::string base64_encode(std::string_view bytes);
// Line breaks and blanks (folded YAML) are skipped; anything outside the alphabet, or data after
// padding, gives nullopt.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kgate
