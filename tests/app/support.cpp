#include "support.hpp"

#include <atomic>

#include <kgate/url.hpp>
#include <kgate/wait.hpp>

namespace apptest {

std::string tasks_path(const std::string& user) {
  return "/api/" + kgate::url_encode_segment(user) + "/tasks";
}

std::string task_path(const std::string& user, long long id) {
  return tasks_path(user) + "/" + std::to_string(id);
}

std::string chat_path(const std::string& user) {
  return "/api/" + kgate::url_encode_segment(user) + "/chat";
}

ApiClient client_for(const TodoApp& app, const std::string& user) {
  return client_for(app.url(), app.secret(), user);
}

ApiClient client_for(const std::string& base_url, const std::string& secret,
                     const std::string& user) {
  return ApiClient(base_url, kgate::testfw::sign_hs256(user, secret));
}

json create_task(ApiClient& client, const std::string& user, const json& body) {
  auto r = client.post(tasks_path(user), body);
  EXPECT_EQ(r.status, 201) << r.body;
  return kgate::testfw::json_body(r);
}

std::string header(const kgate::http::Response& response, const std::string& name) {
  return response.header(name).value_or("");
}

::testing::AssertionResult has_api_security_headers(const kgate::http::Response& r) {
  const std::pair<const char*, const char*> expected[] = {
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"}};
  for (const auto& [name, value] : expected) {
    auto got = r.header(name);
    if (!got) return ::testing::AssertionFailure() << name << " missing";
    if (*got != value) {
      return ::testing::AssertionFailure()
             << name << " is '" << *got << "', want '" << value << "'";
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult has_no_security_headers(const kgate::http::Response& r) {
  for (const char* name : {"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy",
                           "Referrer-Policy"}) {
    if (r.header(name)) return ::testing::AssertionFailure() << name << " present";
  }
  return ::testing::AssertionSuccess();
}

std::string fresh_user(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(++counter);
}

kgate::http::Response register_account(const std::string& base_url, const std::string& email,
                                       const std::string& password) {
  return ApiClient(base_url).post("/api/auth/register",
                                  {{"email", email}, {"password", password}, {"name", "Tester"}});
}

kgate::http::Response json_login(const std::string& base_url, const std::string& email,
                                 const std::string& password) {
  return ApiClient(base_url).post("/api/auth/login", {{"email", email}, {"password", password}});
}

kgate::http::Response form_login(const std::string& base_url, const std::string& form) {
  return ApiClient(base_url).send("POST", "/api/auth/login", form,
                                  {{"Content-Type", "application/x-www-form-urlencoded"}});
}

kgate::http::Response sign_up(const std::string& base_url, const std::string& email,
                              const std::string& password) {
  return ApiClient(base_url).post("/api/auth/sign-up/email",
                                  {{"email", email}, {"password", password}, {"name", "Tester"}});
}

::testing::AssertionResult log_shows(const TodoApp& app, const std::string& text,
                                     std::chrono::milliseconds timeout) {
  auto seen =
      kgate::wait_until([&](std::string*) { return app.log().find(text) != std::string::npos; },
                        timeout, std::chrono::milliseconds(10));
  if (seen.ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the log never showed '" << text << "':\n" << app.log();
}

}  // namespace apptest
