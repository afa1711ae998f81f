#include "policy.hpp"

#include <random>

namespace todo {

using nlohmann::json;

namespace {

constexpr const char* kServerName = "todo-app";
// leaky-errors: what a careless FastAPI deployment reveals.
constexpr const char* kLeakyServer = "uvicorn/0.27.0 Python/3.11.7";
constexpr const char* kLeakyPoweredBy = "FastAPI/0.109.0";
constexpr const char* kFakeTraceback =
    "Traceback (most recent call last):\n"
    "  File \"/app/main.py\", line 87, in get_tasks\n"
    "    tasks = session.exec(select(Task).where(Task.user_id == user_id)).all()\n"
    "  File \"/usr/local/lib/python3.11/site-packages/sqlalchemy/engine/base.py\", line 1969, "
    "in _exec_single_context\n"
    "    self.dialect.do_execute(cursor, str_statement, effective_parameters, context)\n"
    "sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedColumn) column task.due_date "
    "does not exist\n"
    "[SQL: SELECT * FROM task WHERE task.user_id = %(user_id_1)s]\n"
    "(Background on this error at: https://sqlalche.me/e/20/f405)";

constexpr const char* kApiCsp = "default-src 'none'; frame-ancestors 'none'";
constexpr const char* kPageCsp =
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

void put(Response& r, std::string_view name, std::string value, bool only_if_absent) {
  if (only_if_absent && r.header(name)) return;
  r.set_header(name, std::move(value));
}

}  // namespace

bool is_api_request(std::string_view path) {
  return path.rfind("/api/", 0) == 0 && path != "/api/health";
}

std::vector<std::string> parse_origin_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    auto item = trim(text.substr(pos, comma - pos));
    while (!item.empty() && item.back() == '/') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

Policy::Policy(Faults faults, std::vector<std::string> cors_origins)
    : faults_(std::move(faults)), cors_origins_(std::move(cors_origins)) {}

bool Policy::origin_allowed(std::string_view origin) const {
  if (origin.empty()) return false;
  if (has(Fault::PermissiveCors)) return true;
  for (const auto& allowed : cors_origins_) {
    if (allowed == "*" || allowed == origin) return true;
  }
  return false;
}

std::optional<Response> Policy::preflight(const Request& request) const {
  if (request.method != "OPTIONS") return std::nullopt;
  auto origin = request.header("Origin");
  auto method = request.header("Access-Control-Request-Method");
  if (!origin || !method) return std::nullopt;
  if (!origin_allowed(*origin)) {
    auto r = detail_response(400, "Disallowed CORS origin");
    finish(request, r, ResponseKind::Api);
    return r;
  }
  Response r;
  r.status = 204;
  r.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  auto requested = request.header("Access-Control-Request-Headers");
  r.set_header("Access-Control-Allow-Headers",
               requested ? std::string(*requested) : "Authorization, Content-Type");
  r.set_header("Access-Control-Max-Age", "600");
  finish(request, r, ResponseKind::Api);
  return r;
}

void Policy::finish(const Request& request, Response& r, ResponseKind kind) const {
  const bool proxied = kind == ResponseKind::Proxied;
  if (has(Fault::LeakyErrors)) {
    r.set_header("Server", kLeakyServer);
    r.set_header("X-Powered-By", kLeakyPoweredBy);
  } else {
    put(r, "Server", kServerName, proxied);
  }

  if (!has(Fault::NoSecurityHeaders)) {
    put(r, "X-Content-Type-Options", "nosniff", proxied);
    put(r, "X-Frame-Options", "DENY", proxied);
    put(r, "Referrer-Policy", "no-referrer", proxied);
    put(r, "Content-Security-Policy", kind == ResponseKind::Page ? kPageCsp : kApiCsp, proxied);
    put(r, "Cache-Control", kind == ResponseKind::Page ? "no-cache" : "no-store", proxied);
  }

  if (auto origin = request.header("Origin"); origin && origin_allowed(*origin)) {
    r.set_header("Access-Control-Allow-Origin", std::string(*origin));
    r.set_header("Access-Control-Allow-Credentials", "true");
    r.set_header("Vary", "Origin");
  }

  if (has(Fault::LeakyErrors) && r.status >= 400) {
    json body = json::parse(r.body, nullptr, false);
    if (body.is_object()) {
      body["traceback"] = kFakeTraceback;
      r.body = body.dump();
    } else {
      r.body = json{{"detail", r.body}, {"traceback", kFakeTraceback}}.dump();
      r.set_header("Content-Type", "application/json");
    }
  }
}

bool Policy::inject_error(const Request& request) const {
  if (!has(Fault::Errors5xx) || !is_api_request(request.path)) return false;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < faults_.error_rate;
}

std::optional<Response> Policy::rate_limit(const Request& request) const {
  // Chat is what real apps limit first (every call costs an LLM round trip).
  if (!has(Fault::RateLimit) || request.method != "POST" || !request.path.ends_with("/chat")) {
    return std::nullopt;
  }
  if (chat_calls_.fetch_add(1) % 2 == 1) return std::nullopt;
  auto r = detail_response(429, "Too Many Requests");
  r.set_header("Retry-After", "1");
  return r;
}

std::chrono::milliseconds Policy::delay_for(const Request& request) const {
  if (!has(Fault::Slow) || !is_api_request(request.path)) return std::chrono::milliseconds(0);
  return faults_.slow_delay;
}

}  // namespace todo
