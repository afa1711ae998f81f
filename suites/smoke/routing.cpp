// Smoke: the frontend and the ingress route /api to the backend, as the Ingress and the Next.js
// rewrites do in the deployments this gate protects.
#include "kgate/check.hpp"
#include "kgate/url.hpp"

namespace kgate {
namespace {

class SmokeRouting : public Check {
 public:
  static constexpr GroupInfo group{"smoke", "Routing"};
  using Check::Check;

 protected:
  void expect_api_routed(const std::string& base, const char* what) {
    const Identity& alice = c().identity("alice");
    auto a = api(alice, base);
    auto r = a.list();
    KGATE_REQUIRE(r.status == 200)
        << "GET " << a.tasks_url() << " through the " << what << " answered " << r.status
        << ": /api is not routed to the backend (" << excerpt(r.body) << ")";
    auto body = parse_json(r.body);
    KGATE_REQUIRE(body && task_list_of(*body, config().profile))
        << "GET " << a.tasks_url() << " through the " << what
        << " answered something else than the task list: " << excerpt(r.body);
  }
};

KGATE_CHECK(SmokeRouting, FrontendRoutesApi,
            {.title = "The frontend forwards /api calls to the backend",
             .needs = kNeedsFrontend | kNeedsIdentity}) {
  expect_api_routed(config().target.frontend, "frontend");
}

KGATE_CHECK(SmokeRouting, IngressRoutesApiAndPage,
            {.title = "The ingress routes /api to the backend and / to the frontend",
             .needs = kNeedsIngress | kNeedsIdentity}) {
  expect_api_routed(config().target.ingress, "ingress");
  std::string url = join_url(config().target.ingress, config().profile.frontend_page_path);
  auto r = c().send({"GET", url, {{"Accept", "text/html"}}, {}});
  KGATE_REQUIRE(r.status == 200) << "GET " << url << " through the ingress answered " << r.status;
  KGATE_EXPECT(r.header("Content-Type").value_or("").find("text/html") != std::string::npos)
      << "GET " << url << " through the ingress did not answer the HTML page";
}

}  // namespace
}  // namespace kgate
