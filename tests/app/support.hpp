#pragma once
// Shared steps of the app stories: clients with tokens, task paths, header checks.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "framework/http_helpers.hpp"
#include "framework/jwt_helpers.hpp"
#include "framework/todo_app.hpp"

namespace apptest {

using kgate::testfw::ApiClient;
using kgate::testfw::TodoApp;
using kgate::testfw::TodoAppOptions;
using nlohmann::json;

// "/api/<user>/tasks" with the user percent-encoded.
std::string tasks_path(const std::string& user);
std::string task_path(const std::string& user, long long id);
std::string chat_path(const std::string& user);

// A client that presents a valid HS256 token for `user` to the app (or any base URL).
ApiClient client_for(const TodoApp& app, const std::string& user);
ApiClient client_for(const std::string& base_url, const std::string& secret,
                     const std::string& user);

// POSTs a task and expects 201; returns the created task.
json create_task(ApiClient& client, const std::string& user, const json& body);

// The API security headers (nosniff, DENY, CSP, no-referrer, no-store).
::testing::AssertionResult has_api_security_headers(const kgate::http::Response& response);
// None of them.
::testing::AssertionResult has_no_security_headers(const kgate::http::Response& response);

// A single header's value or "" (for readable EXPECT_EQ).
std::string header(const kgate::http::Response& response, const std::string& name);

// A unique user id per call, so stories do not see each other's tasks.
std::string fresh_user(const std::string& prefix = "user");

// The api role's own accounts: POST /api/auth/register with {email, password, name}.
kgate::http::Response register_account(const std::string& base_url, const std::string& email,
                                       const std::string& password = "a long enough password");
// POST /api/auth/login with a JSON {email, password}.
kgate::http::Response json_login(const std::string& base_url, const std::string& email,
                                 const std::string& password = "a long enough password");
// POST /api/auth/login with an x-www-form-urlencoded body, as given.
kgate::http::Response form_login(const std::string& base_url, const std::string& form);
// The web role's Better Auth sign-up.
kgate::http::Response sign_up(const std::string& base_url, const std::string& email,
                              const std::string& password = "a long enough password");

// Waits until the app's log contains `text` (a test flag made the app write it).
::testing::AssertionResult log_shows(const TodoApp& app, const std::string& text,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace apptest
