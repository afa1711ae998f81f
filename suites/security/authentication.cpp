// Security, authentication (OWASP API2:2023): every endpoint refuses a request whose token is
// missing, malformed, forged, expired or in the wrong place, and returns nothing of the victim's.
#include "kgate/identity.hpp"
#include "kgate/jwt.hpp"
#include "kgate/url.hpp"
#include "probe.hpp"

namespace kgate {
namespace {

using nlohmann::json;
using security::Endpoint;

class SecurityAuth : public security::SecurityCheck {
 public:
  static constexpr GroupInfo group{"security", "Auth"};
  using security::SecurityCheck::SecurityCheck;

 protected:
  // A way of presenting (or not) credentials on a request.
  using Present = std::function<void(http::Request&)>;

  // Sends every endpoint of alice's API with `present` applied and fails naming each endpoint
  // that did not refuse; then makes sure alice's task survived the sweep.
  void expect_refused_everywhere(const Identity& alice, const std::string& how,
                                 const Present& present) {
    security::VictimTask victim(c(), alice);
    if (!victim.ok()) KGATE_SETUP_ERROR() << "could not set up the victim task: " << victim.error();
    auto a = api(alice);
    std::vector<std::string> accepted;
    for (const auto& e : security::contract_endpoints(a, victim.id(), victim.marker(), chat())) {
      auto request = security::request_for(e);
      present(request);
      auto r = c().send(request);
      if (e.method == "POST" && e.url == a.tasks_url() && r.status / 100 == 2) {
        // A forged create went through: remove it with alice's real token.
        if (auto doc = parse_json(r.body))
          if (auto id = task_id_of(*doc, config().profile)) a.delete_after_check(*id);
      }
      if (!security::refused(r, {401, 403}, victim.marker()))
        accepted.push_back(e.label() + " → " + std::to_string(r.status));
    }
    const auto total = security::contract_endpoints(a, "1", "", chat()).size();
    measure("endpoints", static_cast<double>(total), "");
    std::string damage = victim.changes_since_created();
    KGATE_EXPECT(accepted.empty())
        << accepted.size() << " of " << total << " endpoints accepted " << how
        << " (expected 401 or 403): the API does not authenticate these calls: "
        << security::joined(accepted, 4);
    KGATE_EXPECT(damage.empty()) << how << ": " << damage;
  }

  // A token as it should be sent, but `token` instead of the real one.
  static Present bearer(std::string token) {
    return [token = std::move(token)](http::Request& r) {
      r.headers.emplace_back("Authorization", "Bearer " + token);
    };
  }

  bool chat() const { return config().security.chat; }

  // alice's token must be a JWT for the forgeries; fixed opaque tokens cannot be forged.
  static bool is_jwt(const std::string& token) {
    try {
      jwt::decode(token);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
};

KGATE_CHECK(SecurityAuth, NoTokenIsRefused,
            {.title = "Every endpoint answers 401 without a token and returns no data",
             .severity = Severity::Critical,
             .reference = "OWASP API2:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  expect_refused_everywhere(alice, "a request without a token", [](http::Request&) {});
}

KGATE_CHECK(SecurityAuth, MalformedTokenIsRefused,
            {.title = "Every endpoint refuses a malformed bearer token",
             .severity = Severity::High,
             .reference = "OWASP API2:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  for (std::string bad : {"kgate-not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "null"}) {
    expect_refused_everywhere(alice, "the malformed token '" + bad + "'", bearer(bad));
    if (has_failure()) return;  // one malformed token is enough to make the point
  }
}

KGATE_CHECK(SecurityAuth, WrongSignatureIsRefused,
            {.title = "A token whose signature was altered is refused",
             .severity = Severity::Critical,
             .reference = "OWASP API2:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  if (!is_jwt(alice.token)) KGATE_SKIP() << "the identity's token is not a JWT";
  expect_refused_everywhere(alice, "alice's token with a corrupted signature",
                            bearer(security::with_flipped_signature(alice.token)));
}

KGATE_CHECK(SecurityAuth, AlgNoneIsRefused,
            {.title = "An unsigned token (alg: none) is refused",
             .severity = Severity::Critical,
             .reference = "OWASP API2:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  if (!is_jwt(alice.token)) KGATE_SKIP() << "the identity's token is not a JWT";
  expect_refused_everywhere(alice, "a token with alice's claims, alg 'none' and no signature",
                            bearer(security::with_alg_none(alice.token)));
}

KGATE_CHECK(SecurityAuth, ForeignSecretIsRefused,
            {.title = "A token signed with another secret is refused",
             .severity = Severity::Critical,
             .reference = "OWASP API2:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  if (!is_jwt(alice.token)) KGATE_SKIP() << "the identity's token is not a JWT";
  std::string foreign = "kgate-foreign-secret-" + random_hex(16);
  expect_refused_everywhere(
      alice, "a token with alice's claims signed (HS256) with a secret the app does not have",
      bearer(security::resigned(
          alice.token, foreign,
          {{"iat", security::epoch_seconds()}, {"exp", security::epoch_seconds() + 600}})));
}

KGATE_CHECK(SecurityAuth, ExpiredTokenIsRefused,
            {.title = "An expired token is refused",
             .severity = Severity::High,
             .reference = "OWASP API2:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  const auto& secret = c().signing_secret();
  if (secret.empty() || !is_jwt(alice.token))
    KGATE_SKIP() << "signing an expired token needs the app's HS256 secret in $"
                 << config().auth.mint.secret_env;
  long long now = security::epoch_seconds();
  expect_refused_everywhere(
      alice, "alice's token that expired an hour ago",
      bearer(security::resigned(alice.token, secret, {{"iat", now - 7200}, {"exp", now - 3600}})));
}

KGATE_CHECK(SecurityAuth, NotYetValidTokenIsRefused,
            {.title = "A token that is not valid yet (nbf in the future) is refused",
             .severity = Severity::Medium,
             .reference = "OWASP API2:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  const auto& secret = c().signing_secret();
  if (secret.empty() || !is_jwt(alice.token))
    KGATE_SKIP() << "signing a not-yet-valid token needs the app's HS256 secret in $"
                 << config().auth.mint.secret_env;
  long long now = security::epoch_seconds();
  expect_refused_everywhere(
      alice, "alice's token valid only from an hour from now",
      bearer(security::resigned(alice.token, secret,
                                {{"iat", now}, {"nbf", now + 3600}, {"exp", now + 7200}})));
}

// Tokens in query strings end up in access logs and browser history; other schemes and headers
// mean the app parses credentials more loosely than the contract says.
KGATE_CHECK(SecurityAuth, TokenOnlyInBearerHeader,
            {.title = "A valid token is only honoured as 'Authorization: Bearer'",
             .severity = Severity::Medium,
             .reference = "OWASP API2:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  const std::string token = alice.token;
  struct Place {
    const char* how;
    Present present;
  };
  std::vector<Place> places{
      {"alice's valid token in the query string (?access_token=)",
       [token](http::Request& r) {
         r.url += (r.url.find('?') == std::string::npos ? "?" : "&") +
                  std::string("access_token=") + url_encode_segment(token);
       }},
      {"alice's valid token in an X-Access-Token header",
       [token](http::Request& r) { r.headers.emplace_back("X-Access-Token", token); }},
      {"alice's valid token with the scheme 'Token'",
       [token](http::Request& r) { r.headers.emplace_back("Authorization", "Token " + token); }},
      {"alice's valid token without a scheme",
       [token](http::Request& r) { r.headers.emplace_back("Authorization", token); }},
  };
  for (const auto& p : places) {
    expect_refused_everywhere(alice, p.how, p.present);
    if (has_failure()) return;
  }
}

}  // namespace
}  // namespace kgate
