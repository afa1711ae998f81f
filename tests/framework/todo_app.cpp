#include "framework/todo_app.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <kgate/http.hpp>
#include <kgate/wait.hpp>

#include "framework/jwt_helpers.hpp"

namespace kgate::testfw {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::string make_temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + " failed");
  return tmpl;
}

void remove_temp_dir(const std::string& path) {
  if (path.empty() || std::getenv("KGATE_KEEP_TMP")) return;
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

std::string TodoApp::binary_path() {
  if (const char* explicit_path = std::getenv("KGATE_TODO_APP"); explicit_path && *explicit_path) {
    return explicit_path;
  }
  if (const char* build = std::getenv("KGATE_BUILD_DIR"); build && *build) {
    std::string candidate = std::string(build) + "/app/todo-app";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
#ifdef KGATE_TODO_APP_PATH
  return KGATE_TODO_APP_PATH;
#else
  throw std::runtime_error("todo-app binary unknown: set KGATE_BUILD_DIR or KGATE_TODO_APP");
#endif
}

TodoApp::TodoApp(TodoAppOptions options) : options_(std::move(options)) {
  dir_ = make_temp_dir("todo-app-");
  const std::string port_file = dir_ + "/port";

  kgate::ProcessSpec spec;
  spec.program = binary_path();
  spec.args = {"--role",      options_.role, "--bind",
               "127.0.0.1",   "--port",      std::to_string(options_.port),
               "--port-file", port_file};
  // A few I/O threads whatever the machine: tests run several apps side by side.
  auto has_arg = [&](const char* name) {
    return std::find(options_.extra_args.begin(), options_.extra_args.end(), name) !=
           options_.extra_args.end();
  };
  if (!has_arg("--threads")) spec.args.insert(spec.args.end(), {"--threads", "4"});
  // A short quiet time, so that stopping an app does not cost its 1 s default in every test;
  // the stories of the drain choose their own.
  if (!has_arg("--drain-quiet") && !options_.env.count("TODO_DRAIN_QUIET")) {
    spec.args.insert(spec.args.end(), {"--drain-quiet", "100ms"});
  }
  spec.args.push_back("--database");
  spec.args.push_back(options_.database.empty() ? "sqlite::memory:" : options_.database);
  for (const auto& f : options_.faults) {
    spec.args.push_back("--fault");
    spec.args.push_back(f);
  }
  if (!options_.backend_url.empty()) {
    spec.args.push_back("--backend-url");
    spec.args.push_back(options_.backend_url);
  }
  if (!options_.jwks_url.empty()) {
    spec.args.push_back("--jwks-url");
    spec.args.push_back(options_.jwks_url);
  }
  spec.args.insert(spec.args.end(), options_.extra_args.begin(), options_.extra_args.end());

  secret_ = options_.secret;
  if (secret_.empty() && options_.role == "api" && options_.jwks_url.empty()) secret_ = kTestSecret;
  // Hermetic: nothing from the developer's shell leaks into the app's configuration.
  for (const char* name : {"DATABASE_URL",
                           "BETTER_AUTH_SECRET",
                           "JWKS_URL",
                           "BACKEND_URL",
                           "TODO_FAULTS",
                           "CORS_ORIGINS",
                           "LOG_LEVEL",
                           "TODO_FAULT_SLOW_MS",
                           "TODO_FAULT_ERROR_RATE",
                           "TODO_FAULT_WARMUP_MS",
                           "TODO_DRAIN_QUIET",
                           "TODO_LOG_REQUEST_READ",
                           "TODO_USER_ID_FORMAT",
                           "TODO_LOGIN_FORM",
                           "TODO_EMAIL_POLICY",
                           "TODO_REQUIRE_REGISTERED_USERS",
                           "TODO_TASK_SCHEMA",
                           "TODO_TITLE_MAX",
                           "TODO_DESCRIPTION_MAX",
                           "TODO_CHAT_REPLY",
                           "TODO_RATE_LIMIT",
                           "TODO_BODY_LIMIT_STATUS",
                           "TODO_LAX_TYPES"}) {
    if (!options_.env.count(name)) spec.env_unset.push_back(name);
  }
  spec.env_set = options_.env;
  if (!secret_.empty() && !spec.env_set.count("BETTER_AUTH_SECRET")) {
    spec.env_set["BETTER_AUTH_SECRET"] = secret_;
    std::erase(spec.env_unset, std::string("BETTER_AUTH_SECRET"));
  }
  spec.log_path = dir_ + "/todo-app.log";
  spec.workdir = dir_;

  try {
    process_ = kgate::ChildProcess(spec);
  } catch (...) {
    remove_temp_dir(dir_);
    throw;
  }

  auto fail = [&](const std::string& why) {
    std::string tail = process_.log_tail(4096);
    process_.stop(SIGKILL, std::chrono::seconds(2));
    remove_temp_dir(dir_);
    throw std::runtime_error("todo-app (" + options_.role + ") did not start: " + why +
                             "\n--- log tail ---\n" + tail);
  };

  bool exited = false;
  auto port_ready = kgate::wait_until(
      [&](std::string* why) {
        if (!process_.running()) {
          exited = true;
          return true;
        }
        std::string text = read_file(port_file);
        if (text.empty()) {
          *why = "no port file yet";
          return false;
        }
        port_ = static_cast<unsigned short>(std::stoul(text));
        return port_ != 0;
      },
      options_.start_timeout, std::chrono::milliseconds(20));
  if (exited) {
    fail("exited with status " + std::to_string(process_.exit_status().value_or(-1)));
  }
  if (!port_ready.ok) fail("no port file after the timeout: " + port_ready.last_error);
  url_ = "http://127.0.0.1:" + std::to_string(port_);

  kgate::http::ClientOptions client_options;
  client_options.connect_timeout = std::chrono::milliseconds(1000);
  client_options.request_timeout = std::chrono::milliseconds(3000);
  kgate::http::Client client(client_options);
  const std::string health = options_.role == "web" ? "/api/health" : "/health";
  auto healthy = kgate::wait_until(
      [&](std::string* why) {
        if (!process_.running()) {
          exited = true;
          return true;
        }
        kgate::http::Request request;
        request.url = url_ + health;
        auto response = client.send(request);
        *why = "GET " + health + " answered " + std::to_string(response.status);
        return response.status == 200;
      },
      options_.start_timeout, std::chrono::milliseconds(50));
  if (exited) {
    fail("exited with status " + std::to_string(process_.exit_status().value_or(-1)));
  }
  if (!healthy.ok) fail("not healthy: " + healthy.last_error);
}

TodoApp::~TodoApp() {
  if (process_.pid() > 0) process_.stop(SIGTERM, std::chrono::seconds(15));
  remove_temp_dir(dir_);
}

int TodoApp::stop(int sig, std::chrono::milliseconds grace) {
  return process_.stop(sig, grace);
}

bool TodoApp::running() {
  return process_.running();
}

std::string TodoApp::log() const {
  return read_file(process_.log_path());
}

}  // namespace kgate::testfw
