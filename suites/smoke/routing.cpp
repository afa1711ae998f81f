// Smoke: the frontend and the ingress route /api to the backend, as the Ingress and the Next.js
// rewrites do in the deployments this gate protects.
#include "kgate/check.hpp"
#include "kgate/url.hpp"

namespace kgate {
namespace {

class SmokeRouting : public Check {
 protected:
  void expect_api_routed(const std::string& base, const char* what) {
    KGATE_IDENTITY(alice, "alice");
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

TEST_F(SmokeRouting, FrontendRoutesApi) {
  title("The frontend forwards /api calls to the backend");
  if (config().target.frontend.empty())
    GTEST_SKIP() << "no frontend URL configured (target.frontend)";
  expect_api_routed(config().target.frontend, "frontend");
}

TEST_F(SmokeRouting, IngressRoutesApiAndPage) {
  title("The ingress routes /api to the backend and / to the frontend");
  if (config().target.ingress.empty()) GTEST_SKIP() << "no ingress URL configured (target.ingress)";
  expect_api_routed(config().target.ingress, "ingress");
  std::string url = join_url(config().target.ingress, config().profile.frontend_page_path);
  auto r = c().send({"GET", url, {{"Accept", "text/html"}}, {}});
  KGATE_REQUIRE(r.status == 200) << "GET " << url << " through the ingress answered " << r.status;
  KGATE_EXPECT(r.header("Content-Type").value_or("").find("text/html") != std::string::npos)
      << "GET " << url << " through the ingress did not answer the HTML page";
}

}  // namespace
}  // namespace kgate
