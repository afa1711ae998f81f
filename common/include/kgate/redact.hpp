#pragma once
// Secrets never reach logs or reports: everything that leaves the process goes through redact().
#include <string>
#include <string_view>

namespace kgate {

// Registers a secret (JWT secret, token, password, cookie, credential). Strings shorter than
// 4 characters are ignored, to not blank out ordinary text. Thread-safe.
void register_secret(std::string_view secret);
// Replaces every registered secret, and anything that looks like a bearer token or JWT,
// with "[REDACTED]".
std::string redact(std::string_view text);
// Forgets all registered secrets (tests).
void clear_secrets();

}  // namespace kgate
