// Stories of the web role: the page, its health, forwarding to a real api instance, and the
// Better Auth login whose EdDSA tokens an api started with --jwks-url accepts.
#include <kgate/jwt.hpp>
#include <kgate/process.hpp>
#include <kgate/wait.hpp>

#include "support.hpp"

namespace apptest {
namespace {

using kgate::testfw::json_body;
namespace jwth = kgate::testfw;

TodoAppOptions web_options(const std::string& backend_url) {
  TodoAppOptions options;
  options.role = "web";
  options.backend_url = backend_url;
  return options;
}

// One api and one web in front of it for the forwarding stories.
class WebTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    api_ = new TodoApp();
    web_ = new TodoApp(web_options(api_->url()));
  }
  static void TearDownTestSuite() {
    delete web_;
    delete api_;
  }
  static TodoApp* api_;
  static TodoApp* web_;
};
TodoApp* WebTest::api_ = nullptr;
TodoApp* WebTest::web_ = nullptr;

TEST_F(WebTest, ServesTheTodoPage) {
  ApiClient browser(web_->url());
  auto page = browser.get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(header(page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<title>Todo</title>"), std::string::npos);
  // Self-contained: no scripts or resources from elsewhere.
  EXPECT_EQ(page.body.find("http://"), std::string::npos);
  EXPECT_EQ(page.body.find("https://"), std::string::npos);
  EXPECT_EQ(page.body.find("<script"), std::string::npos);
  auto csp = header(page, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(header(page, "X-Frame-Options"), "DENY");
  EXPECT_EQ(header(page, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(page, "Server"), "todo-app");

  EXPECT_EQ(browser.get("/nowhere").status, 404);
  EXPECT_EQ(browser.send("POST", "/").status, 405);
}

TEST_F(WebTest, HealthAnswersLikeTheNextJsFrontend) {
  auto r = ApiClient(web_->url()).get("/api/health");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json_body(r), json({{"status", "healthy"}}));
  EXPECT_TRUE(has_api_security_headers(r));
  EXPECT_NE(web_->log().find("todo-app web listening on http://127.0.0.1:" +
                             std::to_string(web_->port())),
            std::string::npos);
}

TEST_F(WebTest, ForwardsTheTasksApiToTheBackend) {
  const std::string user = fresh_user("proxied");
  auto via_web = client_for(web_->url(), api_->secret(), user);
  auto direct = client_for(*api_, user);

  auto created = via_web.post(tasks_path(user), {{"title", "Made through the frontend"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto task = json_body(created);
  EXPECT_EQ(task["user_id"], user);
  EXPECT_EQ(json_body(direct.get(task_path(user, task["id"]))), task);

  // Method, path, query, body and Authorization all arrive; status and body come back.
  ASSERT_EQ(via_web.patch(task_path(user, task["id"]) + "/complete").status, 200);
  EXPECT_EQ(json_body(via_web.get(tasks_path(user) + "?status=completed")).size(), 1u);
  EXPECT_EQ(json_body(via_web.get(tasks_path(user) + "?status=pending")).size(), 0u);
  auto invalid = via_web.post(tasks_path(user), {{"title", ""}});
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(json_body(invalid)["detail"][0]["loc"], json::array({"body", "title"}));
  EXPECT_EQ(ApiClient(web_->url()).get(tasks_path(user)).status, 401);
  EXPECT_EQ(via_web.get(task_path(user, 987654321)).status, 404);
  auto removed = via_web.del(task_path(user, task["id"]));
  EXPECT_EQ(removed.status, 204);
  EXPECT_TRUE(removed.body.empty());

  auto chat = via_web.post(chat_path(user), {{"message", "Add a task to call the plumber"}});
  ASSERT_EQ(chat.status, 200);
  EXPECT_EQ(json_body(chat)["tool_calls"][0]["result"]["title"], "Call the plumber");

  // The backend's headers come through, without duplicates.
  auto listed = via_web.get(tasks_path(user));
  EXPECT_TRUE(has_api_security_headers(listed));
  int csp_count = 0;
  for (const auto& [name, value] : listed.headers) {
    if (name == "Content-Security-Policy") ++csp_count;
  }
  EXPECT_EQ(csp_count, 1);
}

TEST(WebProxy, BackendUnreachableIs502) {
  TodoApp web(web_options("http://127.0.0.1:" + std::to_string(kgate::free_loopback_port())));
  auto r = client_for(web.url(), "whatever-secret-1234", "u").get(tasks_path("u"));
  EXPECT_EQ(r.status, 502);
  EXPECT_TRUE(json_body(r)["detail"].is_string());
  // The page and health do not depend on the backend.
  EXPECT_EQ(ApiClient(web.url()).get("/api/health").status, 200);
  EXPECT_EQ(ApiClient(web.url()).get("/").status, 200);
}

// --- Better Auth -------------------------------------------------------------------------------

struct Account {
  std::string email;
  std::string password;
  std::string name;
};

kgate::http::Response sign_up(ApiClient& client, const Account& a) {
  return client.post("/api/auth/sign-up/email",
                     {{"email", a.email}, {"password", a.password}, {"name", a.name}});
}

kgate::http::Response sign_in(ApiClient& client, const Account& a) {
  return client.post("/api/auth/sign-in/email", {{"email", a.email}, {"password", a.password}});
}

// "better-auth.session_token=VALUE" from Set-Cookie.
std::string session_cookie(const kgate::http::Response& r) {
  auto cookie = r.header("Set-Cookie").value_or("");
  return cookie.substr(0, cookie.find(';'));
}

TEST(BetterAuth, SignUpSignInTokenAndJwksFlowWorksWithTheApi) {
  TodoAppOptions issuer_options;
  issuer_options.role = "web";
  TodoApp issuer(issuer_options);
  ApiClient browser(issuer.url());
  const Account ada{"ada@example.com", "correct horse battery", "Ada"};

  auto up = sign_up(browser, ada);
  ASSERT_EQ(up.status, 200) << up.body;
  auto user = json_body(up)["user"];
  EXPECT_TRUE(json_body(up)["token"].is_null());
  EXPECT_EQ(user["email"], ada.email);
  EXPECT_EQ(user["name"], ada.name);
  const std::string user_id = user["id"];
  ASSERT_FALSE(user_id.empty());
  EXPECT_EQ(sign_up(browser, ada).status, 422);  // already exists
  EXPECT_EQ(sign_up(browser, {"b@example.com", "short", "B"}).status, 400);

  EXPECT_EQ(sign_in(browser, {ada.email, "wrong password!", ""}).status, 401);
  EXPECT_EQ(sign_in(browser, {"nobody@example.com", ada.password, ""}).status, 401);
  auto in = sign_in(browser, ada);
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(json_body(in)["redirect"], false);
  EXPECT_EQ(json_body(in)["user"]["id"], user_id);
  auto set_cookie = header(in, "Set-Cookie");
  EXPECT_EQ(set_cookie.rfind("better-auth.session_token=", 0), 0u) << set_cookie;
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("Path=/"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Lax"), std::string::npos);
  const std::string cookie = session_cookie(in);

  EXPECT_EQ(browser.get("/api/auth/token").status, 401);
  EXPECT_EQ(browser.get("/api/auth/token", {{"Cookie", "better-auth.session_token=forged"}}).status,
            401);
  auto token_response = browser.get("/api/auth/token", {{"Cookie", cookie}});
  ASSERT_EQ(token_response.status, 200) << token_response.body;
  const std::string token = json_body(token_response)["token"];
  auto decoded = kgate::jwt::decode(token);
  EXPECT_EQ(decoded.header["alg"], "EdDSA");
  EXPECT_EQ(decoded.payload["sub"], user_id);
  const long long lifetime =
      decoded.payload["exp"].get<long long>() - decoded.payload["iat"].get<long long>();
  EXPECT_EQ(lifetime, 15 * 60);

  auto jwks_response = browser.get("/api/auth/jwks");
  ASSERT_EQ(jwks_response.status, 200);
  auto jwks = json_body(jwks_response);
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["kty"], "OKP");
  EXPECT_EQ(jwks["keys"][0]["crv"], "Ed25519");
  EXPECT_EQ(jwks["keys"][0]["kid"], decoded.header["kid"]);
  EXPECT_FALSE(jwks["keys"][0].contains("d"));  // never the private key
  kgate::jwt::VerifyOptions verify;
  verify.jwks = jwks;
  EXPECT_TRUE(kgate::jwt::verify(token, verify).ok);

  // An api that trusts the issuer's JWKS (and has no HS256 secret at all) accepts the token.
  TodoAppOptions api_options;
  api_options.jwks_url = issuer.url() + "/api/auth/jwks";
  TodoApp api(api_options);
  ApiClient as_ada(api.url(), token);
  auto created = as_ada.post(tasks_path(user_id), {{"title", "Logged in for real"}});
  ASSERT_EQ(created.status, 201) << created.body << "\n" << api.log();
  EXPECT_EQ(json_body(created)["user_id"], user_id);
  EXPECT_EQ(as_ada.get(tasks_path("somebody-else")).status, 403);
  EXPECT_EQ(ApiClient(api.url(), jwth::tampered_token(token, "somebody-else"))
                .get(tasks_path("somebody-else"))
                .status,
            401);
  // A flipped signature byte (mid-signature: the last characters carry padding bits).
  std::string bad_signature = token;
  char& c = bad_signature[bad_signature.size() - 20];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(ApiClient(api.url(), bad_signature).get(tasks_path(user_id)).status, 401);
  // HS256 tokens mean nothing to it without a secret.
  EXPECT_EQ(ApiClient(api.url(), jwth::sign_hs256(user_id)).get(tasks_path(user_id)).status, 401);

  // The whole chain: a frontend in front of that api forwards the EdDSA token.
  TodoApp front(web_options(api.url()));
  auto through_front = ApiClient(front.url(), token).get(tasks_path(user_id));
  ASSERT_EQ(through_front.status, 200);
  EXPECT_EQ(json_body(through_front).size(), 1u);

  // Sessions end at sign-out.
  EXPECT_EQ(browser.send("POST", "/api/auth/sign-out", "{}", {{"Cookie", cookie}}).status, 200);
  EXPECT_EQ(browser.get("/api/auth/token", {{"Cookie", cookie}}).status, 401);
}

TEST(BetterAuth, ApiRefetchesTheJwksWhenTheIssuerRotatesItsKey) {
  auto issue_token = [](TodoApp& issuer) {
    ApiClient browser(issuer.url());
    const Account a{"kid@example.com", "a long enough password", "Kid"};
    EXPECT_EQ(sign_up(browser, a).status, 200);
    auto in = sign_in(browser, a);
    std::string token =
        json_body(browser.get("/api/auth/token", {{"Cookie", session_cookie(in)}}))["token"];
    std::string sub = kgate::jwt::decode(token).payload["sub"];
    return std::pair(token, sub);
  };
  TodoAppOptions issuer_options;
  issuer_options.role = "web";
  auto issuer = std::make_unique<TodoApp>(issuer_options);
  issuer_options.port = issuer->port();  // the restarted issuer keeps the address

  TodoAppOptions api_options;
  api_options.jwks_url = issuer->url() + "/api/auth/jwks";
  api_options.secret = "also-an-hs256-secret-0123456789";
  TodoApp api(api_options);
  auto [first_token, first_sub] = issue_token(*issuer);
  EXPECT_EQ(ApiClient(api.url(), first_token).get(tasks_path(first_sub)).status, 200);
  // HS256 keeps working alongside EdDSA.
  EXPECT_EQ(
      ApiClient(api.url(), jwth::sign_hs256("h", api_options.secret)).get(tasks_path("h")).status,
      200);

  // The issuer restarts with a new key on the same address: the api learns it on first sight
  // of the unknown kid (fetches are rate-limited, hence the wait).
  issuer.reset();
  issuer = std::make_unique<TodoApp>(issuer_options);
  auto [second_token, second_sub] = issue_token(*issuer);
  auto accepted = kgate::wait_until(
      [&](std::string* why) {
        auto status = ApiClient(api.url(), second_token).get(tasks_path(second_sub)).status;
        *why = "answered " + std::to_string(status);
        return status == 200;
      },
      std::chrono::seconds(8), std::chrono::milliseconds(250));
  EXPECT_TRUE(accepted.ok) << accepted.last_error << "\n" << api.log();
  // Knowing the key does not make a tampered token acceptable.
  EXPECT_EQ(ApiClient(api.url(), jwth::tampered_token(second_token, "intruder"))
                .get(tasks_path("intruder"))
                .status,
            401);
}

// --- web role faults: each breaks one thing, the rest keeps working --------------------------

void expect_web_contract(const TodoApp& web, const TodoApp& api, bool page, bool proxy) {
  ApiClient anonymous(web.url());
  auto health = anonymous.get("/api/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json_body(health), json({{"status", "healthy"}}));
  if (page) {
    auto r = anonymous.get("/");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("<title>Todo</title>"), std::string::npos);
  }
  if (proxy) {
    auto client = client_for(web.url(), api.secret(), "webby");
    auto created = client.post(tasks_path("webby"), {{"title", "through the proxy"}});
    EXPECT_EQ(created.status, 201) << created.body;
  }
}

TEST(WebFaults, NoProxyAnswers404InsteadOfForwarding) {
  TodoApp api;
  TodoAppOptions options;
  options.role = "web";
  options.backend_url = api.url();
  options.faults = {"no-proxy"};
  TodoApp web(options);
  auto r = client_for(web.url(), api.secret(), "webby").get(tasks_path("webby"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(client_for(api, "webby").get(tasks_path("webby")).status, 200);
  expect_web_contract(web, api, true, false);
}

TEST(WebFaults, BrokenPageAnswers500) {
  TodoApp api;
  TodoAppOptions options;
  options.role = "web";
  options.backend_url = api.url();
  options.faults = {"broken-page"};
  TodoApp web(options);
  EXPECT_EQ(ApiClient(web.url()).get("/").status, 500);
  expect_web_contract(web, api, false, true);
}

TEST(WebFaults, BrokenRegisterFailsTheSignUp) {
  TodoApp api;
  TodoAppOptions options;
  options.role = "web";
  options.backend_url = api.url();
  options.faults = {"broken-register"};
  TodoApp web(options);
  ApiClient browser(web.url());
  const Account eve{"eve@example.com", "a long enough password", "Eve"};
  auto up = sign_up(browser, eve);
  EXPECT_EQ(up.status, 500) << up.body;
  EXPECT_EQ(sign_in(browser, eve).status, 401);  // no account was made
  expect_web_contract(web, api, true, true);
}

TEST(WebFaults, BadHealthBodyAppliesToTheWebHealthToo) {
  TodoAppOptions options;
  options.role = "web";
  options.faults = {"bad-health-body"};
  TodoApp web(options);
  auto r = ApiClient(web.url()).get("/api/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json_body(r), json({{"status", "starting"}}));
}

}  // namespace
}  // namespace apptest
