#include "config.hpp"

#include <cstdlib>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <kgate/duration.hpp>

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
  std::vector<std::string> cli_faults;

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
  app.add_option("--grace", grace, "How long to drain on SIGTERM before exiting")
      ->capture_default_str();
  app.add_option("--log-level", config.log_level, "trace, debug, info, warn, error or off");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return Exit{code == 0 ? 0 : 2};
  }

  try {
    config.grace =
        std::chrono::duration_cast<std::chrono::milliseconds>(kgate::parse_duration(grace));
  } catch (const std::exception& e) {
    std::cerr << "todo-app: invalid --grace: " << e.what() << "\n";
    return Exit{2};
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
