// The security suite over HTTP: authentication, per-user isolation, input validation, leaks,
// headers, CORS and TLS, each finding with its OWASP API Security Top 10 (2023) reference.
#include "kgate/registry.hpp"

namespace kgate {

KGATE_SUITE(security, {.name = "security",
                       .title = "Security",
                       .description = "Authentication and JWT tampering, per-user isolation, input "
                                      "validation, leaks, headers, CORS and TLS",
                       .order = 20,
                       // Findings below suites.security.fail_on are warnings, not gate failures.
                       .fail_on = [](const Config& c) { return c.security.fail_on; }});

}  // namespace kgate
