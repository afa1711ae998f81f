#include "web_router.hpp"

#include <array>
#include <memory>

#include <spdlog/spdlog.h>
#include <kgate/http.hpp>

namespace todo {

namespace {

constexpr const char* kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Todo</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;
         padding: 0 1rem; color: #222; }
  h1 { font-size: 2rem; margin-bottom: .25rem; }
  p { color: #555; }
  code { background: #f3f3f3; padding: .1rem .3rem; border-radius: 3px; }
</style>
</head>
<body>
<main>
<h1>Todo</h1>
<p>Your tasks, and a chat assistant that manages them.</p>
<p>Sign in through <code>/api/auth/sign-in/email</code>; the tasks API lives under
<code>/api/{user_id}/tasks</code>.</p>
</main>
</body>
</html>
)html";

// Hop-by-hop headers (RFC 9110 7.6.1) and those the transport recomputes.
bool hop_by_hop(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kNames = {"connection",
                                                              "keep-alive",
                                                              "proxy-authenticate",
                                                              "proxy-authorization",
                                                              "te",
                                                              "trailer",
                                                              "transfer-encoding",
                                                              "upgrade",
                                                              "content-length",
                                                              "host"};
  for (auto n : kNames) {
    if (iequals(n, name)) return true;
  }
  return iequals(name, "expect");
}

kgate::http::Client& thread_client() {
  // One client per worker thread: the client is blocking and keeps its connection alive.
  thread_local std::unique_ptr<kgate::http::Client> client;
  if (!client) {
    kgate::http::ClientOptions options;
    options.connect_timeout = std::chrono::milliseconds(3000);
    options.request_timeout = std::chrono::milliseconds(60000);
    options.user_agent = "todo-app-web";
    client = std::make_unique<kgate::http::Client>(options);
  }
  return *client;
}

}  // namespace

WebRouter::WebRouter(const Policy& policy, BetterAuth& auth, std::string backend_url,
                     int body_limit_status)
    : policy_(policy),
      auth_(auth),
      backend_(std::move(backend_url)),
      body_limit_status_(body_limit_status) {
  while (!backend_.empty() && backend_.back() == '/') backend_.pop_back();
}

bool WebRouter::blocking(const Request& request) const {
  return request.path.rfind("/api/", 0) == 0 && request.path != "/api/health" &&
         request.path != "/api/auth/jwks";
}

Response WebRouter::handle(const Request& request) {
  if (auto preflight = policy_.preflight(request)) return *preflight;
  Response response;
  ResponseKind kind = ResponseKind::Api;
  if (request.body_too_large) {
    response = detail_response(body_limit_status_, "Request body too large");
  } else if (policy_.inject_error(request)) {
    response = detail_response(500, "Internal Server Error");
  } else {
    try {
      response = route(request, kind);
    } catch (const std::exception& e) {
      spdlog::error("unhandled error on {} {}: {}", request.method, request.path, e.what());
      response = detail_response(500, "Internal Server Error");
      kind = ResponseKind::Api;
    }
  }
  response.delay = policy_.delay_for(request);
  policy_.finish(request, response, kind);
  return response;
}

Response WebRouter::route(const Request& request, ResponseKind& kind) {
  const auto& path = request.path;
  if (path == "/" || path == "/index.html") {
    if (!request.is("GET")) {
      auto r = detail_response(405, "Method Not Allowed");
      r.set_header("Allow", "GET");
      return r;
    }
    if (policy_.has(Fault::BrokenPage)) return detail_response(500, "Internal Server Error");
    kind = ResponseKind::Page;
    Response r;
    r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    r.body = kPage;
    return r;
  }
  if (path == "/api/health") {
    if (!request.is("GET")) {
      auto r = detail_response(405, "Method Not Allowed");
      r.set_header("Allow", "GET");
      return r;
    }
    return json_response(200,
                         {{"status", policy_.has(Fault::BadHealthBody) ? "starting" : "healthy"}});
  }
  if (path.rfind("/api/auth/", 0) == 0) return auth_route(request, path.substr(10));
  if (path.rfind("/api/", 0) == 0) {
    if (policy_.has(Fault::NoProxy)) return detail_response(404, "Not Found");
    return forward(request, kind);
  }
  return detail_response(404, "Not Found");
}

Response WebRouter::auth_route(const Request& request, std::string_view action) {
  auto wrong_method = [](const char* allow) {
    auto r = detail_response(405, "Method Not Allowed");
    r.set_header("Allow", allow);
    return r;
  };
  if (action == "sign-up/email") {
    if (request.method != "POST") return wrong_method("POST");
    if (policy_.has(Fault::BrokenRegister)) {
      spdlog::error("broken-register fault: sign-up failed");
      return json_response(
          500, {{"code", "INTERNAL_SERVER_ERROR"}, {"message", "Failed to create user"}});
    }
    return auth_.sign_up(request);
  }
  if (action == "sign-in/email") {
    return request.method == "POST" ? auth_.sign_in(request) : wrong_method("POST");
  }
  if (action == "sign-out") {
    return request.method == "POST" ? auth_.sign_out(request) : wrong_method("POST");
  }
  if (action == "get-session") {
    return request.is("GET") ? auth_.get_session(request) : wrong_method("GET");
  }
  if (action == "token") return request.is("GET") ? auth_.token(request) : wrong_method("GET");
  if (action == "jwks") return request.is("GET") ? auth_.jwks() : wrong_method("GET");
  return detail_response(404, "Not Found");
}

Response WebRouter::forward(const Request& request, ResponseKind& kind) {
  if (backend_.empty()) return detail_response(502, "Bad Gateway: no backend configured");
  kgate::http::Request out;
  out.method = request.method;
  out.url = backend_ + request.target;
  std::string forwarded_for;
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "X-Forwarded-For")) {
      forwarded_for = value;
    } else if (!hop_by_hop(name)) {
      out.headers.emplace_back(name, value);
    }
  }
  if (!request.remote.empty()) {
    forwarded_for += (forwarded_for.empty() ? "" : ", ") + request.remote;
  }
  if (!forwarded_for.empty()) out.headers.emplace_back("X-Forwarded-For", forwarded_for);
  out.body = request.body;

  kgate::http::Response in;
  try {
    in = thread_client().send(out);
  } catch (const kgate::http::TransportError& e) {
    spdlog::warn("backend request {} {} failed: {}", request.method, request.path, e.what());
    if (e.kind() == kgate::http::ErrorKind::Timeout) {
      return detail_response(504, "Gateway Timeout: the backend did not answer in time");
    }
    return detail_response(502, "Bad Gateway: backend unreachable");
  }
  Response r;
  r.status = in.status;
  for (auto& [name, value] : in.headers) {
    if (!hop_by_hop(name)) r.headers.emplace_back(std::move(name), std::move(value));
  }
  r.body = std::move(in.body);
  kind = ResponseKind::Proxied;  // the backend's own headers win
  return r;
}

}  // namespace todo
