// Smoke: the services say they are healthy, and mean it.
#include "kgate/check.hpp"
#include "kgate/url.hpp"

namespace kgate {
namespace {

class SmokeHealth : public Check {
 public:
  static constexpr GroupInfo group{"smoke", "Health"};
  using Check::Check;

 protected:
  // GET url must answer 200 with a JSON object whose status field is one of the ok values.
  void expect_healthy(const std::string& url) {
    auto r = c().send("GET", url, "");
    measure("status", r.status, "");
    measure("latency", static_cast<double>(r.elapsed.count()) / 1000.0, "ms");
    KGATE_REQUIRE(r.status == 200)
        << "GET " << url << " answered " << r.status << ", expected 200: " << excerpt(r.body);
    auto doc = parse_json(r.body);
    KGATE_REQUIRE(doc && doc->is_object())
        << "GET " << url << " did not answer a JSON object: " << excerpt(r.body);
    const auto& p = config().profile;
    auto it = doc->find(p.health_status_field);
    KGATE_REQUIRE(it != doc->end() && it->is_string())
        << "GET " << url << " answered no string field '" << p.health_status_field
        << "': " << excerpt(r.body);
    std::string status = it->get<std::string>();
    bool ok = std::find(p.health_ok_values.begin(), p.health_ok_values.end(), status) !=
              p.health_ok_values.end();
    KGATE_REQUIRE(ok) << "GET " << url << " says " << p.health_status_field << "='" << status
                      << "', not one of the healthy values (profile.health_ok_values)";
  }
};

KGATE_CHECK(SmokeHealth, BackendHealth,
            {.title = "The backend's health endpoint answers 200 and a healthy status",
             .figures = {{"latency", "ms"}}}) {
  expect_healthy(join_url(config().target.backend, config().profile.health_path));
}

KGATE_CHECK(SmokeHealth, FrontendHealth,
            {.title = "The frontend's health endpoint answers 200 and a healthy status",
             .needs = kNeedsFrontend,
             .figures = {{"latency", "ms"}}}) {
  expect_healthy(join_url(config().target.frontend, config().profile.frontend_health_path));
}

KGATE_CHECK(SmokeHealth, FrontendPage,
            {.title = "The frontend serves its HTML page", .needs = kNeedsFrontend}) {
  std::string url = join_url(config().target.frontend, config().profile.frontend_page_path);
  auto r = c().send({"GET", url, {{"Accept", "text/html"}}, {}});
  KGATE_REQUIRE(r.status == 200) << "GET " << url << " answered " << r.status << ", expected 200";
  auto type = r.header("Content-Type").value_or("");
  KGATE_EXPECT(type.find("text/html") != std::string::npos)
      << "GET " << url << " answered Content-Type '" << type << "', expected text/html";
  std::string lower = r.body;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  KGATE_EXPECT(lower.find("<html") != std::string::npos)
      << "GET " << url << " answered no HTML document: " << excerpt(r.body);
}

// A health endpoint that says "healthy" while the API cannot serve is worse than none: the
// orchestrator keeps sending traffic to a broken pod.
KGATE_CHECK(SmokeHealth, HealthReflectsService,
            {.title = "When the backend says it is healthy, an authenticated API call succeeds",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  std::string url = join_url(config().target.backend, config().profile.health_path);
  auto h = c().send("GET", url, "");
  if (h.status != 200)
    KGATE_SKIP() << "backend health is not 200 (" << h.status << "); BackendHealth reports it";
  auto r = api(alice).list();
  KGATE_REQUIRE(r.status < 500) << "health says healthy, but GET " << api(alice).tasks_url()
                                << " answered " << r.status
                                << ": the health endpoint does not reflect the service ("
                                << excerpt(r.body) << ")";
  KGATE_REQUIRE(r.status == 200) << "GET " << api(alice).tasks_url() << " answered " << r.status
                                 << " for a valid identity: " << excerpt(r.body);
}

}  // namespace
}  // namespace kgate
