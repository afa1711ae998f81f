#pragma once
// Secrets never reach logs or reports: everything that leaves the process goes through redact().
#include <string>
#include <string_view>

namespace kgate {

// Registers a secret (JWT secret, token, password, cookie, credential). Strings shorter than
// 4 characters are ignored, to not blank out ordinary text. Thread-safe.
void register_secret(std::string_view secret);
// Replaces every registered secret, and anything that looks like a bearer token or JWT, the
// user info of a URL (scheme://user:password@host) and the value of a query parameter named like
// a credential (?token=, &api_key=, &password=, &sig=, ...) with "[REDACTED]".
std::string redact(std::string_view text);
// A URL someone gave us, for output: the user info, every query value and the fragment are
// replaced (their names stay), then redact() as for any text. "GET https://h/p?token=t&x=1"
// becomes "GET https://h/p?token=[REDACTED]&x=[REDACTED]". Text before the URL is kept.
std::string redact_url(std::string_view url);
// Forgets all registered secrets (tests).
void clear_secrets();

}  // namespace kgate
