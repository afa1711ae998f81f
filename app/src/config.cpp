#include "config.hpp"

#include <cstdlib>
#include <iostream>
#include <thread>
#include <tuple>

#include <CLI/CLI.hpp>
#include <kgate/duration.hpp>

#include "faults.hpp"
#include "message.hpp"
#include "policy.hpp"
#include "version.hpp"

namespace todo {

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  for (auto& item : parse_origin_list(text)) out.push_back(item);
  return out;
}

}  // namespace

std::variant<Config, Exit> parse_config(int argc, char** argv) {
  Config config;
  config.database = env_or("DATABASE_URL", "sqlite::memory:");
  config.jwks_url = env_or("JWKS_URL", "");
  config.backend_url = env_or("BACKEND_URL", "");
  config.log_level = to_lower(env_or("LOG_LEVEL", "info"));
  unsigned hw = std::thread::hardware_concurrency();
  config.threads = hw == 0 ? 2 : static_cast<int>(hw);
  std::string grace = "10s";
  std::string drain_quiet = "1s";
  std::vector<std::string> cli_faults;
  Drift& drift = config.drift;
  std::string user_id_format = "any";
  std::string email_policy = "any";
  std::string task_schema = "completed";
  std::string chat_reply = "full";
  std::string rate_limit;

  CLI::App app{"todo-app: the reference todo application that kgate tests", "todo-app"};
  app.set_version_flag("--version", std::string("todo-app ") + kVersion);
  app.add_option("--role", config.role, "api (the FastAPI backend) or web (the frontend)")
      ->check(CLI::IsMember({"api", "web"}))
      ->capture_default_str();
  app.add_option("--bind", config.bind, "Address to listen on")->capture_default_str();
  app.add_option("--port", config.port, "Port to listen on; 0 lets the OS pick")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--port-file", config.port_file, "Write the bound port to this file");
  app.add_option("--database", config.database,
                 "sqlite::memory:, sqlite:///abs/path.db, sqlite:relative.db or "
                 "postgresql://... (env DATABASE_URL)");
  app.add_option("--secret-env", config.secret_env, "Environment variable holding the HS256 secret")
      ->capture_default_str();
  app.add_option("--jwks-url", config.jwks_url,
                 "Also accept EdDSA tokens signed by keys from this JWKS (env JWKS_URL)");
  app.add_option("--backend-url", config.backend_url,
                 "web role: where /api/* is forwarded (env BACKEND_URL)");
  app.add_option("--fault", cli_faults,
                 "Deliberate defect to switch on (repeatable; env TODO_FAULTS)")
      ->allow_extra_args(false)
      ->delimiter(',');
  app.add_option("--threads", config.threads, "I/O threads (default: hardware threads)")
      ->check(CLI::Range(1, 256));
  app.add_option("--grace", grace,
                 "Longest drain after SIGTERM: /ready answers 503 at once, requests (new ones "
                 "too) are served with Connection: close, then the process exits")
      ->capture_default_str();
  app.add_option("--drain-quiet", drain_quiet,
                 "A drain ends before --grace once no connection has been open for this long")
      ->envname("TODO_DRAIN_QUIET")
      ->capture_default_str();
  app.add_option("--log-level", config.log_level, "trace, debug, info, warn, error or off");
  app.add_flag("--log-request-read", config.log_request_read,
               "For tests: log 'request read' when a request has arrived, before handling it")
      ->envname("TODO_LOG_REQUEST_READ");

  // Drift: how real backends differ from the contract while staying correct.
  const std::string drift_group = "Drift (the app stays correct, but differs from the contract)";
  app.add_option("--user-id-format", user_id_format,
                 "uuid: registered users get UUID ids and a path user id or token subject that "
                 "is not a UUID is answered 422")
      ->check(CLI::IsMember({"any", "uuid"}))
      ->envname("TODO_USER_ID_FORMAT")
      ->capture_default_str()
      ->group(drift_group);
  app.add_flag("--login-form", drift.login_form,
               "POST /api/auth/login takes an x-www-form-urlencoded username (the e-mail) and "
               "password (OAuth2 password flow); a JSON login is 422")
      ->envname("TODO_LOGIN_FORM")
      ->group(drift_group);
  app.add_option("--email-policy", email_policy,
                 "strict: register refuses special-use domains (.test, .example, .invalid, "
                 ".localhost, .local, .onion, .arpa) with 422, as email-validator does")
      ->check(CLI::IsMember({"any", "strict"}))
      ->envname("TODO_EMAIL_POLICY")
      ->capture_default_str()
      ->group(drift_group);
  app.add_flag("--require-registered-users", drift.require_registered_users,
               "Tasks and chat of a user id missing from the users table fail like a foreign "
               "key (500); register and the web role's sign-up add the row")
      ->envname("TODO_REQUIRE_REGISTERED_USERS")
      ->group(drift_group);
  app.add_option("--task-schema", task_schema,
                 "status: tasks carry status pending|completed instead of completed, and "
                 "PATCH .../complete sets it (idempotent) instead of toggling")
      ->check(CLI::IsMember({"completed", "status"}))
      ->envname("TODO_TASK_SCHEMA")
      ->capture_default_str()
      ->group(drift_group);
  app.add_option("--title-max", drift.title_max, "Longest task title, in characters")
      ->check(CLI::Range(1, 1000000))
      ->envname("TODO_TITLE_MAX")
      ->capture_default_str()
      ->group(drift_group);
  app.add_option("--description-max", drift.description_max,
                 "Longest task description, in characters")
      ->check(CLI::Range(0, 1000000))
      ->envname("TODO_DESCRIPTION_MAX")
      ->capture_default_str()
      ->group(drift_group);
  app.add_option("--chat-reply", chat_reply,
                 "text: the chat answer is only {\"response\": ...} (no conversation_id, no "
                 "tool_calls)")
      ->check(CLI::IsMember({"full", "text"}))
      ->envname("TODO_CHAT_REPLY")
      ->capture_default_str()
      ->group(drift_group);
  app.add_option("--rate-limit", rate_limit,
                 "N/WINDOW, e.g. 100/hour or 20/10s: a fixed-window limit per client (token "
                 "subject, else peer address) over /api/*; past it 429 with Retry-After")
      ->envname("TODO_RATE_LIMIT")
      ->group(drift_group);
  app.add_option("--body-limit-status", drift.body_limit_status,
                 "Status that refuses a body over the size limit")
      ->check(CLI::IsMember({"413", "422"}))
      ->envname("TODO_BODY_LIMIT_STATUS")
      ->capture_default_str()
      ->group(drift_group);
  app.add_flag("--lax-types", drift.lax_types,
               "pydantic lax mode: \"completed\": \"yes\"|\"true\"|\"1\"|1 is coerced to true "
               "on create and update (\"kgate\" or an object stay 422)")
      ->envname("TODO_LAX_TYPES")
      ->group(drift_group);
  std::string fault_list;
  for (auto name : fault_names()) {
    fault_list += (fault_list.empty() ? "" : ", ") + std::string(name);
  }
  app.footer(
      "Faults (--fault NAME, repeatable, or TODO_FAULTS=a,b) make the app wrong on "
      "purpose, one defect each (app/src/faults.hpp says what each does): " +
      fault_list + ".\nGET /openapi.json describes the api role's routes.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return Exit{code == 0 ? 0 : 2};
  }

  for (auto [name, text, target] :
       {std::tuple{"--grace", &grace, &config.grace},
        std::tuple{"--drain-quiet", &drain_quiet, &config.drain_quiet}}) {
    try {
      *target = std::chrono::duration_cast<std::chrono::milliseconds>(kgate::parse_duration(*text));
    } catch (const std::exception& e) {
      std::cerr << "todo-app: invalid " << name << ": " << e.what() << "\n";
      return Exit{2};
    }
  }
  drift.user_id_format = user_id_format == "uuid" ? UserIdFormat::Uuid : UserIdFormat::Any;
  drift.strict_email = email_policy == "strict";
  drift.task_schema = task_schema == "status" ? TaskSchema::Status : TaskSchema::Completed;
  drift.chat_reply = chat_reply == "text" ? ChatReplyShape::Text : ChatReplyShape::Full;
  if (!rate_limit.empty()) {
    try {
      drift.rate_limit = parse_rate_limit(rate_limit);
    } catch (const std::invalid_argument& e) {
      std::cerr << "todo-app: --rate-limit (env TODO_RATE_LIMIT): " << e.what() << "\n";
      return Exit{2};
    }
  }

  config.faults = cli_faults;
  for (auto& f : split_commas(env_or("TODO_FAULTS", ""))) config.faults.push_back(f);
  config.cors_origins = split_commas(env_or("CORS_ORIGINS", ""));
  config.secret = env_or(config.secret_env.c_str(), "");

  if (config.log_level == "warning") config.log_level = "warn";
  if (config.log_level == "critical" || config.log_level == "fatal") config.log_level = "error";
  static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(levels.begin(), levels.end(), config.log_level) == levels.end()) {
    std::cerr << "todo-app: invalid log level '" << config.log_level
              << "' (trace, debug, info, warn, error, off)\n";
    return Exit{2};
  }
  return config;
}

}  // namespace todo
