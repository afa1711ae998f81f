// Security, TLS of every https target (OWASP API8:2023): only TLS 1.2 or newer, a certificate
// chain that validates against the configured CA (target.ca_file) or the system store, not
// expired, issued for the host the users type.
#include <openssl/ssl.h>

#include <set>

#include "kgate/tls_probe.hpp"
#include "kgate/url.hpp"
#include "probe.hpp"

namespace kgate {
namespace {

class SecurityTls : public security::SecurityCheck {
 public:
  static constexpr GroupInfo group{"security", "Tls"};
  using security::SecurityCheck::SecurityCheck;

 protected:
  struct Endpoint {
    std::string url;  // as configured
    tls::ProbeOptions options;
  };

  // The distinct https host:port pairs among backend, frontend and ingress.
  std::vector<Endpoint> https_targets() {
    const auto& t = config().target;
    std::vector<Endpoint> out;
    std::set<std::string> seen;
    for (const auto* base : {&t.backend, &t.frontend, &t.ingress}) {
      if (base->empty()) continue;
      Url u = Url::parse(*base);
      if (!u.tls() || !seen.insert(u.host + ":" + u.port).second) continue;
      Endpoint e;
      e.url = *base;
      e.options.host = u.host;
      e.options.port = static_cast<unsigned short>(std::stoi(u.port));
      e.options.ca_file = t.ca_file;
      e.options.timeout = t.connect_timeout + t.request_timeout;
      out.push_back(std::move(e));
    }
    return out;
  }

  // Probes each https target; `judge` returns "" or what is wrong with one.
  void for_each_target(
      const std::function<std::string(const Endpoint&, const tls::ProbeResult&)>& judge) {
    auto targets = https_targets();
    if (targets.empty()) KGATE_SKIP() << "no target is served over https";
    std::vector<std::string> wrong;
    for (const auto& e : targets) {
      auto r = tls::probe(e.options);
      property(e.options.host + ":" + std::to_string(e.options.port),
               r.connected ? r.protocol + ", " + r.cipher : "no TLS connection: " + r.error);
      if (!r.connected) {
        wrong.push_back(e.url + ": no TLS connection (" + r.error + ")");
        continue;
      }
      if (auto why = judge(e, r); !why.empty()) wrong.push_back(e.url + ": " + why);
    }
    KGATE_EXPECT(wrong.empty()) << security::joined(wrong, 3);
  }
};

KGATE_CHECK(SecurityTls, OnlyTls12OrNewer,
            {.title = "The https targets refuse TLS 1.0 and 1.1",
             .severity = Severity::High,
             .reference = "OWASP API8:2023",
             .needs = kNeedsHttps}) {
  auto targets = https_targets();
  if (targets.empty()) KGATE_SKIP() << "no target is served over https";
  std::vector<std::string> wrong;
  for (const auto& e : targets) {
    for (auto [version, name] : {std::pair{TLS1_VERSION, "TLS 1.0"}, {TLS1_1_VERSION, "TLS 1.1"}}) {
      std::string error;
      auto accepted = tls::accepts_version(e.options, version, &error);
      if (!accepted)
        wrong.push_back(e.url + ": could not test " + std::string(name) + " (" + error + ")");
      else if (*accepted)
        wrong.push_back(e.url + " accepts " + name);
    }
  }
  KGATE_EXPECT(wrong.empty()) << security::joined(wrong, 3)
                              << ": protocols with known attacks must be disabled";
}

KGATE_CHECK(
    SecurityTls, CertificateChainValidates,
    {.title = "The certificate chain validates against the configured CA or the system store",
     .severity = Severity::High,
     .reference = "OWASP API8:2023",
     .needs = kNeedsHttps}) {
  for_each_target([this](const Endpoint&, const tls::ProbeResult& r) -> std::string {
    if (r.chain_valid) return "";
    return "the certificate chain does not validate (" + r.verify_error + ") against " +
           (config().target.ca_file.empty() ? "the system trust store"
                                            : "target.ca_file " + config().target.ca_file) +
           "; issuer " + r.leaf.issuer;
  });
}

KGATE_CHECK(SecurityTls, CertificateIsCurrent,
            {.title = "The certificate is within its validity period",
             .severity = Severity::High,
             .reference = "OWASP API8:2023",
             .needs = kNeedsHttps}) {
  for_each_target([this](const Endpoint& e, const tls::ProbeResult& r) -> std::string {
    measure(e.options.host + " days left", static_cast<double>(r.leaf.days_left), "days");
    if (r.leaf.expired) return "the certificate expired on " + r.leaf.not_after;
    if (r.leaf.not_yet_valid) return "the certificate is not valid before " + r.leaf.not_before;
    return "";
  });
}

KGATE_CHECK(SecurityTls, CertificateMatchesHost,
            {.title = "The certificate is issued for the target's host name",
             .severity = Severity::High,
             .reference = "OWASP API8:2023",
             .needs = kNeedsHttps}) {
  for_each_target([](const Endpoint& e, const tls::ProbeResult& r) -> std::string {
    if (r.host_matches) return "";
    std::string names;
    for (const auto& n : r.leaf.dns_names) names += (names.empty() ? "" : ", ") + n;
    for (const auto& n : r.leaf.ip_addresses) names += (names.empty() ? "" : ", ") + n;
    return "the certificate names " + (names.empty() ? r.leaf.subject : names) + ", not " +
           e.options.host;
  });
}

}  // namespace
}  // namespace kgate
