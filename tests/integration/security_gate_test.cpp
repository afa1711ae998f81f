// The security suite end to end: the hardened reference app passes every check; each fault
// switch makes exactly the checks that exist to catch it fail, with a message a developer can
// act on; severities decide what fails the gate.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "framework/certs.hpp"
#include "framework/todo_app.hpp"
#include "integration/kgate_cli.hpp"
#include "kgate/http.hpp"
#include "kgate/jwt.hpp"

namespace kgate::test {
namespace {

using testfw::TodoApp;
using testfw::TodoAppOptions;

constexpr const char* kSecret = "kgate-security-it-secret-0b6f2a91c4d8";

class SecurityGate : public ::testing::Test {
 protected:
  void start_app(std::vector<std::string> api_faults = {},
                 std::vector<std::string> web_faults = {}) {
    TodoAppOptions a;
    a.role = "api";
    a.secret = kSecret;
    a.faults = std::move(api_faults);
    api_ = std::make_unique<TodoApp>(a);
    TodoAppOptions w;
    w.role = "web";
    w.backend_url = api_->url();
    w.faults = std::move(web_faults);
    web_ = std::make_unique<TodoApp>(w);
  }

  // Every finding fails unless the test says otherwise.
  KgateRun kgate(
      const std::string& yaml = "suites:\n  security:\n    fail_on: info\n    max_rps: 0\n",
      std::vector<std::string> extra = {}) {
    KgateOptions o;
    o.args = {"run",       "--config",  write_temp_file("kgate.yaml", yaml),
              "--target",  api_->url(), "--frontend",
              web_->url(), "--suites",  "security"};
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    o.env = {{"BETTER_AUTH_SECRET", kSecret}};
    return run_kgate(o);
  }

  std::unique_ptr<TodoApp> api_, web_;
};

std::set<std::string> as_set(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

TEST_F(SecurityGate, HardenedAppPassesEveryCheck) {
  start_app();
  auto run = kgate();
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(run.failed().empty()) << run.output;
  // Exactly: every security check kgate lists passes, except those that need https.
  const std::set<std::string> need_https{
      "security.Headers.StrictTransportSecurity", "security.Tls.OnlyTls12OrNewer",
      "security.Tls.CertificateChainValidates", "security.Tls.CertificateIsCurrent",
      "security.Tls.CertificateMatchesHost"};
  auto listed = run_kgate({"list", "--json", "--suites", "security"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  std::set<std::string> expected_passed, passed, skipped;
  const auto listing = nlohmann::json::parse(listed.output);
  for (const auto& c : listing["checks"])
    if (!need_https.count(c["id"])) expected_passed.insert(c["id"]);
  for (const auto& c : run.results["checks"]) {
    if (c["status"] == "passed") passed.insert(c["id"]);
    if (c["status"] == "skipped") {
      skipped.insert(c["id"]);
      EXPECT_NE(c.value("message", "").find("https"), std::string::npos) << c.dump();
    }
    if (c["suite"] == "security") {
      EXPECT_EQ(c.value("reference", "").rfind("OWASP API", 0), 0u)
          << c["id"] << " has no OWASP id";
      EXPECT_FALSE(c.value("severity", "").empty()) << c["id"] << " has no severity";
    }
  }
  EXPECT_EQ(passed, expected_passed);
  EXPECT_EQ(skipped, need_https);
  EXPECT_NE(run.junit.find("name=\"reference\" value=\"OWASP API1:2023\""), std::string::npos);
  EXPECT_NE(run.junit.find("name=\"severity\" value=\"critical\""), std::string::npos);
  EXPECT_NE(run.html.find("OWASP API1:2023"), std::string::npos);
}

struct FaultCase {
  const char* fault;
  const char* role;
  std::vector<std::string> checks;  // exactly these fail
  const char* message_part;         // the first check's message says this
};

class SecurityFaults : public SecurityGate, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(SecurityFaults, ExactlyTheMatchingChecksFail) {
  const auto& f = GetParam();
  std::vector<std::string> fault{f.fault};
  start_app(std::string(f.role) != "web" ? fault : std::vector<std::string>{},
            std::string(f.role) != "api" ? fault : std::vector<std::string>{});
  auto run = kgate();
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(as_set(run.failed()), as_set(f.checks)) << run.output;
  const std::string first = f.checks.front();
  EXPECT_NE(run.message_of(first).find(f.message_part), std::string::npos)
      << "message was: " << run.message_of(first);
  EXPECT_NE(run.output.find("verdict: FAIL"), std::string::npos);
}

const std::string kAuth = "security.Auth.";
const std::string kIso = "security.Isolation.";
const std::string kVal = "security.Validation.";

INSTANTIATE_TEST_SUITE_P(
    EachSecurityFault, SecurityFaults,
    ::testing::Values(
        FaultCase{"no-auth",
                  "api",
                  {kAuth + "NoTokenIsRefused", kAuth + "MalformedTokenIsRefused",
                   kAuth + "WrongSignatureIsRefused", kAuth + "AlgNoneIsRefused",
                   kAuth + "ForeignSecretIsRefused", kAuth + "ExpiredTokenIsRefused",
                   kAuth + "NotYetValidTokenIsRefused", kAuth + "TokenOnlyInBearerHeader"},
                  "does not authenticate"},
        FaultCase{"alg-none", "api", {kAuth + "AlgNoneIsRefused"}, "alg 'none'"},
        // Like PyJWT's verify_signature=False: no signature, and no time claims either.
        FaultCase{"no-signature-check",
                  "api",
                  {kAuth + "WrongSignatureIsRefused", kAuth + "AlgNoneIsRefused",
                   kAuth + "ForeignSecretIsRefused", kAuth + "ExpiredTokenIsRefused",
                   kAuth + "NotYetValidTokenIsRefused"},
                  "corrupted signature"},
        FaultCase{"no-expiry-check",
                  "api",
                  {kAuth + "ExpiredTokenIsRefused", kAuth + "NotYetValidTokenIsRefused"},
                  "expired an hour ago"},
        FaultCase{"lax-token-source", "api", {kAuth + "TokenOnlyInBearerHeader"}, "query string"},
        FaultCase{"no-owner-check",
                  "api",
                  {kIso + "OthersTaskByIdIsRefused", kIso + "OthersUrlIsRefused"},
                  "without checking their owner"},
        FaultCase{
            "mass-assignment", "api", {kIso + "OwnerComesFromTokenNotBody"}, "mass assignment"},
        FaultCase{
            "no-validation", "api", {kVal + "InvalidTasksAreRejected"}, "201-character title"},
        FaultCase{"crash-on-bad-json",
                  "api",
                  {kVal + "MalformedBodiesAreRejected"},
                  "truncated JSON → 500"},
        FaultCase{"no-body-limit", "api", {kVal + "OversizedBodyIsRejected"}, "expected 413"},
        FaultCase{"sql-injection", "api", {kVal + "HostileStringsAreStoredLiterally"}, "→ 500"},
        FaultCase{
            "leaky-errors",
            "both",
            {"security.Leaks.ErrorsRevealNoInternals", "security.Leaks.HeadersNameNoVersions"},
            "a Python traceback"},
        FaultCase{"no-security-headers",
                  "web",
                  {"security.Headers.NoSniff", "security.Headers.FramingIsRestricted",
                   "security.Headers.ContentSecurityPolicy", "security.Headers.ReferrerPolicy"},
                  "expected nosniff"},
        FaultCase{"permissive-cors",
                  "api",
                  {"security.Cors.ForeignOriginGetsNoCredentialedAccess"},
                  "any web site can call the API"}),
    [](const auto& param_info) {
      std::string n = std::string(param_info.param.role) + "_" + param_info.param.fault;
      std::replace(n.begin(), n.end(), '-', '_');
      return n;
    });

// The gate's severity floor: findings below suites.security.fail_on are reported as warnings
// and do not fail the gate; at or above it they do.
TEST_F(SecurityGate, SeverityFloorDecidesWhatFailsTheGate) {
  start_app({"leaky-errors"}, {"leaky-errors"});
  auto run =
      kgate("suites:\n  security:\n    fail_on: medium\n    max_rps: 0\n", {"--tags", "leaks"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.status_of("security.Leaks.ErrorsRevealNoInternals"), "failed");  // medium
  EXPECT_EQ(run.status_of("security.Leaks.HeadersNameNoVersions"), "warning");   // low
  EXPECT_NE(run.junit.find("WARNING"), std::string::npos);

  auto lenient =
      kgate("suites:\n  security:\n    fail_on: high\n    max_rps: 0\n", {"--tags", "leaks"});
  EXPECT_EQ(lenient.exit_code, 0) << lenient.output;
  EXPECT_EQ(lenient.status_of("security.Leaks.ErrorsRevealNoInternals"), "warning");
  EXPECT_EQ(lenient.results["summary"].value("warnings", -1), 2);
  EXPECT_NE(lenient.html.find("Warnings"), std::string::npos);
}

// The suite is gentle on a live target: requests are paced to suites.security.max_rps.
TEST_F(SecurityGate, RequestsArePacedToMaxRps) {
  start_app();
  auto run = kgate("suites:\n  security:\n    max_rps: 50\n", {"--tags", "auth"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::size_t requests = 0;
  for (const auto& c : run.results["checks"]) requests += c["evidence"].size();
  ASSERT_GT(requests, 40u);
  // A lower bound only: pacing can make a run slower, never faster than this.
  EXPECT_GE(run.took.count(), static_cast<long>((requests - 1) * 1000 / 50) * 9 / 10)
      << requests << " requests";
}

// Without the secret or tokens, isolation cannot be checked: skipped with the reason, not passed.
TEST_F(SecurityGate, WithoutIdentitiesIsolationIsSkippedNotPassed) {
  start_app();
  KgateOptions o;
  o.args = {"run", "--target", api_->url(), "--suites", "security", "--tags", "isolation"};
  auto run = run_kgate(o);
  for (const char* check :
       {"security.Isolation.OthersTaskByIdIsRefused", "security.Isolation.OthersUrlIsRefused"}) {
    EXPECT_EQ(run.status_of(check), "skipped") << run.output;
    EXPECT_NE(run.message_of(check).find("BETTER_AUTH_SECRET"), std::string::npos)
        << run.message_of(check);
  }
}

// Everything the suite created is gone afterwards, also when checks failed midway.
TEST_F(SecurityGate, LeavesNoTaskBehind) {
  start_app({"no-owner-check"});
  auto run = kgate();
  EXPECT_EQ(run.exit_code, 1);
  // Every task the suite made carries "kgate" in its title; the database must hold none. The
  // app's tasks are only reachable per user, so ask the app for each identity kgate used.
  std::set<std::string> users;
  for (const auto& c : run.results["checks"])
    for (const auto& e : c.value("evidence", nlohmann::json::array())) {
      std::string url = e.value("url", "");
      auto p = url.find("/api/kgate-");
      if (p == std::string::npos) continue;
      auto end = url.find('/', p + 5);
      users.insert(url.substr(p + 5, end - p - 5));
    }
  ASSERT_FALSE(users.empty());
  http::Client client;
  for (const auto& u : users) {
    std::string token = jwt::sign_hs256({{"sub", u}, {"exp", 4102444800}}, kSecret);
    auto r = client.send(
        {"GET", api_->url() + "/api/" + u + "/tasks", {{"Authorization", "Bearer " + token}}, {}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "[]") << u << " still has tasks";
  }
}

// TLS checks against a real HTTPS server (tests/framework/tls_server.py) with certificates made
// in the test: valid, expired, for another host, self-signed, and a server that still speaks
// TLS 1.0/1.1.
class SecurityTlsGate : public ::testing::Test {
 protected:
  SecurityTlsGate() : certs_(testfw::make_test_certs(dir_.path())) {}

  struct Server {
    testfw::CertFiles cert;
    std::string min_tls;
    bool hsts = true;
  };
  // kgate's TLS and HSTS checks against a server; `trust_ca` puts the test CA in target.ca_file.
  KgateRun kgate_against(const Server& s, bool trust_ca = true, bool insecure = false) {
    testfw::TlsServerOptions o;
    o.cert = s.cert.cert;
    o.key = s.cert.key;
    o.min_tls = s.min_tls;
    o.hsts = s.hsts;
    testfw::TlsServer server(o);
    std::string url = "https://localhost:" + std::to_string(server.port());
    std::string yaml = "suites:\n  security:\n    fail_on: info\n    max_rps: 0\n";
    if (trust_ca) yaml += "target:\n  ca_file: " + certs_.ca.cert + "\n";
    KgateOptions k;
    k.args = {"run",
              "--config",
              write_temp_file("kgate.yaml", yaml),
              "--target",
              url,
              "--frontend",
              url,
              "--suites",
              "security",
              "--filter",
              "security.Tls.*,security.Headers.StrictTransportSecurity"};
    // A broken certificate fails the preflight (exit 3) unless verification is off for it.
    if (insecure) k.args.push_back("--insecure");
    return run_kgate(k);
  }

  testfw::TempDir dir_{"kgate-tls-it"};
  testfw::TestCerts certs_;
};

TEST_F(SecurityTlsGate, ValidCertificateModernTlsAndHstsPass) {
  auto run = kgate_against({certs_.valid, "", true});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const char* check :
       {"security.Tls.OnlyTls12OrNewer", "security.Tls.CertificateChainValidates",
        "security.Tls.CertificateIsCurrent", "security.Tls.CertificateMatchesHost",
        "security.Headers.StrictTransportSecurity"})
    EXPECT_EQ(run.status_of(check), "passed") << check << ": " << run.message_of(check);
}

TEST_F(SecurityTlsGate, EachBrokenCertificateFailsItsCheck) {
  struct Case {
    testfw::CertFiles cert;
    std::set<std::string> failed;
    const char* message_part;
  };
  std::vector<Case> cases{
      // Expiry also breaks the chain's verification: both say so.
      {certs_.expired,
       {"security.Tls.CertificateIsCurrent", "security.Tls.CertificateChainValidates"},
       "expired on"},
      {certs_.wrong_host, {"security.Tls.CertificateMatchesHost"}, "other.example, not localhost"},
      {certs_.self_signed, {"security.Tls.CertificateChainValidates"}, "self-signed"},
  };
  for (const auto& c : cases) {
    auto run = kgate_against({c.cert, "", true}, true, /*insecure=*/true);
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_EQ(as_set(run.failed()), c.failed) << run.output;
    EXPECT_NE(run.output.find(c.message_part), std::string::npos) << run.output;
  }
}

TEST_F(SecurityTlsGate, UntrustedCaFailsTheChainCheck) {
  auto run = kgate_against({certs_.valid, "", true}, /*trust_ca=*/false, /*insecure=*/true);
  EXPECT_EQ(as_set(run.failed()), std::set<std::string>{"security.Tls.CertificateChainValidates"})
      << run.output;
  EXPECT_NE(run.message_of("security.Tls.CertificateChainValidates").find("system trust store"),
            std::string::npos);
}

TEST_F(SecurityTlsGate, LegacyProtocolsAndMissingHstsFail) {
  auto run = kgate_against({certs_.valid, "1.0", false});
  EXPECT_EQ(as_set(run.failed()),
            (std::set<std::string>{"security.Tls.OnlyTls12OrNewer",
                                   "security.Headers.StrictTransportSecurity"}))
      << run.output;
  EXPECT_NE(run.message_of("security.Tls.OnlyTls12OrNewer").find("accepts TLS 1.0"),
            std::string::npos)
      << run.message_of("security.Tls.OnlyTls12OrNewer");
}

}  // namespace
}  // namespace kgate::test
