#pragma once
// Command line and environment of todo-app. kgate and the Helm chart depend on these names.
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "drift.hpp"

namespace todo {

struct Config {
  std::string role = "api";
  std::string bind = "127.0.0.1";
  unsigned short port = 0;
  std::string port_file;
  std::string database;  // URL
  std::string secret_env = "BETTER_AUTH_SECRET";
  std::string secret;  // read from secret_env
  std::string jwks_url;
  std::string backend_url;
  std::vector<std::string> faults;  // --fault and TODO_FAULTS, unvalidated
  std::vector<std::string> cors_origins;
  int threads = 1;
  std::chrono::milliseconds grace{10000};
  // A drain ends early once no connection has been open for this long (see server.hpp).
  std::chrono::milliseconds drain_quiet{1000};
  std::string log_level = "info";
  // Tests: log "request read ..." once a request has arrived in full, before it is handled.
  bool log_request_read = false;
  Drift drift;
};

// The process should exit with this code right away (help, version, usage errors).
struct Exit {
  int code = 0;
};

// Parses argv and the environment. Prints help/version/usage errors itself.
std::variant<Config, Exit> parse_config(int argc, char** argv);

}  // namespace todo
