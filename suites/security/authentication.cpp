// Security, authentication (OWASP API2:2023): every endpoint refuses a request whose token is
// missing, malformed, forged, expired or in the wrong place, and returns nothing of the victim's.
#include "kgate/identity.hpp"
#include "kgate/jwt.hpp"
#include "kgate/redact.hpp"
#include "kgate/url.hpp"
#include "probe.hpp"
#include "published_secrets.hpp"

#include <cmath>
#include <map>

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

  // Sends every endpoint of alice's API with `present` applied. Accepted (a 2xx, or alice's
  // data in the answer) is the finding; a 5xx is not acceptance (security.Auth.
  // BadCredentialsGetA4xxNotA5xx reports it); then makes sure alice's task survived the sweep.
  void expect_refused_everywhere(const Identity& alice, const std::string& how,
                                 const Present& present) {
    security::VictimTask victim(c(), alice);
    if (!victim.ok()) KGATE_SETUP_ERROR() << "could not set up the victim task: " << victim.error();
    auto a = api(alice);
    const auto total = security::contract_endpoints(a, "1", "", chat()).size();
    std::vector<std::string> accepted, crashed;
    auto report = [&] {
      KGATE_EXPECT(accepted.empty())
          << accepted.size() << " of " << total << " endpoints accepted " << how
          << " (expected 401 or 403): the API does not authenticate these calls: "
          << security::joined(accepted, 4);
    };
    try {
      for (const auto& e : security::contract_endpoints(a, victim.id(), victim.marker(), chat())) {
        auto request = security::request_for(e);
        present(request);
        auto r = c().send(request);
        if (e.method == "POST" && e.url == a.tasks_url() && r.status / 100 == 2) {
          // A forged create went through: remove it with alice's real token.
          if (auto doc = parse_json(r.body))
            if (auto id = task_id_of(*doc, config().profile)) a.delete_after_check(*id);
        }
        const std::string seen = e.label() + " → " + std::to_string(r.status);
        if (security::accepted(r, victim.marker()))
          accepted.push_back(seen);
        else if (r.status >= 500)
          crashed.push_back(seen);
      }
    } catch (const CheckStopped&) {
      report();  // a finding already seen stays one, whatever stopped the sweep
      throw;
    }
    measure("endpoints", static_cast<double>(total), "");
    if (!crashed.empty())
      property("server errors", security::joined(crashed, 4) +
                                    " (not acceptance: see "
                                    "security.Auth.BadCredentialsGetA4xxNotA5xx)");
    std::string damage = victim.changes_since_created();
    report();
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

namespace kgate {
namespace {

// An app that answers a bad token with a 500 has not accepted it, but something is broken: an
// unhandled exception in its auth code, and a signal a scanner can tell valid from invalid by.
KGATE_CHECK(SecurityAuth, BadCredentialsGetA4xxNotA5xx,
            {.title = "Missing, malformed and forged tokens get a 4xx, never a server error",
             .severity = Severity::Medium,
             .reference = "OWASP API8:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  auto a = api(alice);
  std::vector<std::pair<std::string, Present>> ways{
      {"no token", [](http::Request&) {}},
      {"a malformed token", bearer("kgate-not-a-jwt")},
  };
  if (is_jwt(alice.token))
    ways.push_back({"a forged signature", bearer(security::with_flipped_signature(alice.token))});
  std::vector<std::string> crashed;
  try {
    for (const auto& [how, present] : ways)
      for (const auto& e : security::contract_endpoints(a, "1", "kgate-no-marker", false)) {
        if (e.method != "GET") continue;  // reads are enough to see how bad tokens are handled
        auto request = security::request_for(e);
        present(request);
        auto r = c().send(request);
        if (r.status >= 500)
          crashed.push_back(how + ": " + e.label() + " → " + std::to_string(r.status));
      }
  } catch (const CheckStopped&) {
    KGATE_EXPECT(crashed.empty()) << "the API rejects bad tokens with a server error: "
                                  << security::joined(crashed, 4);
    throw;
  }
  KGATE_EXPECT(crashed.empty()) << "the API rejects bad tokens with a server error instead of "
                                << "401: " << security::joined(crashed, 4)
                                << " (an unhandled exception in its authentication)";
}

// Keys anyone can read: the defaults and placeholders apps ship with when their secret is unset.
// Offline, the app's own token (when it is HS256) must not verify with one; online, a token
// signed with one must be refused.
KGATE_CHECK(SecurityAuth, PublishedSigningKeysAreRefused,
            {.title = "Tokens signed with published default keys are refused",
             .severity = Severity::Critical,
             .reference = "OWASP API2:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  auto a = api(alice);
  nlohmann::json claims{{"sub", alice.user_id}};
  bool hs256 = false;
  if (is_jwt(alice.token)) {
    auto d = jwt::decode(alice.token);
    claims = d.payload;
    hs256 = d.header.value("alg", "") == "HS256";
  }
  const long long now = security::epoch_seconds();
  claims["iat"] = now;
  claims["exp"] = now + 600;
  claims.erase("nbf");
  std::vector<std::string> found;
  for (const auto& known : security::published_secrets()) {
    if (hs256) {
      jwt::VerifyOptions o;
      o.hs256_secret = std::string(known.value);
      o.leeway = std::chrono::hours(24 * 365);  // the key is the question, not the time
      if (known.value.empty()) {
        // The verifier refuses an empty key; compare the HMAC directly.
        if (security::hs256_matches(alice.token, ""))
          found.push_back("the app's own token verifies with " + std::string(known.where));
      } else if (jwt::verify(alice.token, o).ok) {
        found.push_back("the app's own token verifies with the published key of " +
                        std::string(known.where));
      }
    }
    const std::string forged = jwt::sign_hs256(claims, known.value);
    register_secret(forged);
    auto r = c().send("GET", a.tasks_url(), forged);
    if (r.status / 100 == 2)
      found.push_back("a token signed with the published key of " + std::string(known.where) +
                      " was accepted (GET " + a.tasks_url() + " → " + std::to_string(r.status) +
                      ")");
  }
  measure("keys tried", static_cast<double>(security::published_secrets().size()), "");
  KGATE_EXPECT(found.empty()) << security::joined(found, 3)
                              << ": anyone can forge tokens for any user; set a random secret of "
                              << "at least 32 bytes and refuse to start without it";
}

// When kgate holds the secret (mint mode), it can judge it: RFC 7518 §3.2 wants an HS256 key at
// least as long as the hash (256 bits), and a key must not be guessable.
KGATE_CHECK(SecurityAuth, SigningSecretIsStrong,
            {.title = "The app's HS256 secret is long, random and not a published default",
             .severity = Severity::High,
             .reference = "RFC 7518 §3.2",
             .needs = kNeedsSecret}) {
  const std::string& secret = c().signing_secret();
  std::vector<std::string> weak;
  if (secret.size() < 32)
    weak.push_back("it is " + std::to_string(secret.size()) +
                   " bytes long, shorter than the 32 bytes (256 bits) RFC 7518 §3.2 requires");
  // Shannon entropy over its characters, times its length: a rough upper bound of its bits.
  std::map<char, int> counts;
  for (char ch : secret) ++counts[ch];
  double bits = 0;
  for (const auto& [ch, n] : counts) {
    const double p = static_cast<double>(n) / static_cast<double>(secret.size());
    bits -= p * std::log2(p) * static_cast<double>(secret.size());
  }
  measure("estimated entropy", bits, "bits");
  if (bits < 128)
    weak.push_back("its characters carry about " + std::to_string(static_cast<int>(bits)) +
                   " bits of entropy, under 128");
  for (const auto& known : security::published_secrets())
    if (secret == known.value)
      weak.push_back("it is the published key of " + std::string(known.where));
  KGATE_EXPECT(weak.empty()) << "the signing secret ($" << config().auth.mint.secret_env
                             << ") is weak: " << security::joined(weak, 3);
}

}  // namespace
}  // namespace kgate
