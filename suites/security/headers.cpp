// Security, the web front's response headers and CORS (OWASP API8:2023): a browser gets the
// instructions that stop sniffing, framing, script injection and referrer leaks, and no other
// site can read the API with the user's cookies.
#include <algorithm>
#include <cctype>

#include "kgate/url.hpp"
#include "probe.hpp"

namespace kgate {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

class SecurityHeaders : public security::SecurityCheck {
 public:
  static constexpr GroupInfo group{"security", "Headers"};
  using security::SecurityCheck::SecurityCheck;

 protected:
  // The page users open: the frontend's, else the ingress's. Skips when there is neither.
  std::string page_url() {
    const auto& t = config().target;
    std::string base = !t.frontend.empty() ? t.frontend : t.ingress;
    if (base.empty()) return "";
    return join_url(base, config().profile.frontend_page_path);
  }

  http::Response page(const std::string& url) {
    return c().send({"GET", url, {{"Accept", "text/html"}}, {}});
  }
};

#define KGATE_PAGE_OR_SKIP(url)       \
  const std::string url = page_url(); \
  if (url.empty()) KGATE_SKIP() << "no web front configured (target.frontend or target.ingress)"

KGATE_CHECK(SecurityHeaders, NoSniff,
            {.title = "The page is served with X-Content-Type-Options: nosniff",
             .severity = Severity::Medium,
             .reference = "OWASP API8:2023"}) {
  KGATE_PAGE_OR_SKIP(url);
  auto v = page(url).header("X-Content-Type-Options");
  KGATE_EXPECT(v && lower(*v) == "nosniff")
      << "GET " << url << " answered X-Content-Type-Options: " << v.value_or("(none)")
      << ", expected nosniff: browsers may run uploaded or reflected content as script";
}

KGATE_CHECK(
    SecurityHeaders, FramingIsRestricted,
    {.title = "The page cannot be framed by other sites (CSP frame-ancestors or X-Frame-Options)",
     .severity = Severity::Medium,
     .reference = "OWASP API8:2023"}) {
  KGATE_PAGE_OR_SKIP(url);
  auto r = page(url);
  auto xfo = lower(r.header("X-Frame-Options").value_or(""));
  auto csp = lower(r.header("Content-Security-Policy").value_or(""));
  bool ok = xfo == "deny" || xfo == "sameorigin" ||
            (csp.find("frame-ancestors") != std::string::npos &&
             csp.find("frame-ancestors *") == std::string::npos);
  KGATE_EXPECT(ok) << "GET " << url << " sets neither X-Frame-Options (DENY/SAMEORIGIN) nor a "
                   << "restrictive CSP frame-ancestors: the app can be framed (clickjacking)";
}

KGATE_CHECK(SecurityHeaders, ContentSecurityPolicy,
            {.title = "The page has a Content-Security-Policy that restricts scripts",
             .severity = Severity::Medium,
             .reference = "OWASP API8:2023"}) {
  KGATE_PAGE_OR_SKIP(url);
  auto csp = lower(page(url).header("Content-Security-Policy").value_or(""));
  KGATE_REQUIRE(!csp.empty()) << "GET " << url << " has no Content-Security-Policy header";
  property("csp", csp);
  bool restricts =
      csp.find("default-src") != std::string::npos || csp.find("script-src") != std::string::npos;
  KGATE_EXPECT(restricts) << "the Content-Security-Policy of " << url
                          << " sets neither default-src nor script-src: '" << csp << "'";
  KGATE_EXPECT(csp.find("default-src *") == std::string::npos &&
               csp.find("script-src *") == std::string::npos)
      << "the Content-Security-Policy of " << url << " allows scripts from anywhere: '" << csp
      << "'";
}

KGATE_CHECK(SecurityHeaders, ReferrerPolicy,
            {.title = "The page sets a Referrer-Policy that does not leak full URLs to other sites",
             .severity = Severity::Low,
             .reference = "OWASP API8:2023"}) {
  KGATE_PAGE_OR_SKIP(url);
  auto v = lower(page(url).header("Referrer-Policy").value_or(""));
  KGATE_EXPECT(!v.empty() && v != "unsafe-url" && v != "no-referrer-when-downgrade")
      << "GET " << url << " answered Referrer-Policy: " << (v.empty() ? "(none)" : v)
      << ": URLs with user ids leak to every linked site";
}

KGATE_CHECK(SecurityHeaders, StrictTransportSecurity,
            {.title = "Over HTTPS, the page sets Strict-Transport-Security",
             .severity = Severity::Medium,
             .reference = "OWASP API8:2023"}) {
  KGATE_PAGE_OR_SKIP(url);
  if (url.rfind("https://", 0) != 0) KGATE_SKIP() << "the web front is not served over https";
  auto v = lower(page(url).header("Strict-Transport-Security").value_or(""));
  KGATE_EXPECT(v.find("max-age=") != std::string::npos && v.find("max-age=0") == std::string::npos)
      << "GET " << url << " answered Strict-Transport-Security: " << (v.empty() ? "(none)" : v)
      << ": browsers may be downgraded to plain HTTP";
}

// CORS: an arbitrary origin must not get credentialed access.
class SecurityCors : public security::SecurityCheck {
 public:
  static constexpr GroupInfo group{"security", "Cors"};
  using security::SecurityCheck::SecurityCheck;
};

KGATE_CHECK(
    SecurityCors, ForeignOriginGetsNoCredentialedAccess,
    {.title = "An arbitrary Origin is not reflected with Access-Control-Allow-Credentials: true",
     .severity = Severity::High,
     .reference = "OWASP API8:2023"}) {
  const auto& t = config().target;
  std::vector<std::string> bases{t.backend};
  if (!t.frontend.empty()) bases.push_back(t.frontend);
  if (!t.ingress.empty()) bases.push_back(t.ingress);
  const std::string evil = "https://kgate-evil-" + random_hex(3) + ".example";
  std::vector<std::string> open;
  for (const auto& base : bases) {
    // The app's own task-list path (with a user id no one has), as the profile spells it.
    std::string path = config().profile.tasks_path;
    if (auto at = path.find("{user_id}"); at != std::string::npos)
      path.replace(at, 9, "kgate-cors-probe");
    std::string url = join_url(base, path);
    for (const std::string& origin : {evil, std::string("null")}) {
      std::vector<http::Request> requests{
          {"GET", url, {{"Origin", origin}}, {}},
          {"OPTIONS",
           url,
           {{"Origin", origin},
            {"Access-Control-Request-Method", "DELETE"},
            {"Access-Control-Request-Headers", "authorization"}},
           {}},
      };
      for (const auto& request : requests) {
        auto r = c().send(request);
        auto allow = r.header("Access-Control-Allow-Origin").value_or("");
        bool creds = lower(r.header("Access-Control-Allow-Credentials").value_or("")) == "true";
        if (creds && (allow == origin || allow == "*"))
          open.push_back(request.method + " " + url + " with Origin: " + origin + " → " +
                         "Access-Control-Allow-Origin: " + allow);
      }
    }
  }
  KGATE_EXPECT(open.empty()) << security::joined(open, 3)
                             << ", with credentials allowed: any web site can call the API as "
                             << "the signed-in user";
}

}  // namespace
}  // namespace kgate
