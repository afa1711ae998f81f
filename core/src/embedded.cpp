#include "kgate/embedded.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>

#include "kgate/http.hpp"
#include "kgate/identity.hpp"
#include "kgate/redact.hpp"
#include "kgate/wait.hpp"

namespace kgate {
namespace fs = std::filesystem;

std::string find_todo_app() {
  if (const char* env = std::getenv("KGATE_TODO_APP"); env && *env) return env;
  std::string here = self_exe_dir();
  for (const auto& candidate :
       {here + "/todo-app", here + "/../app/todo-app", here + "/../bin/todo-app"})
    if (::access(candidate.c_str(), X_OK) == 0) return fs::weakly_canonical(candidate).string();
  return "todo-app";  // PATH
}

namespace {

// Starts one role and waits for its port file and health answer.
std::unique_ptr<ChildProcess> start_role(const std::string& dir, const std::string& role,
                                         const std::string& secret, const std::string& backend,
                                         std::string& url_out) {
  std::string port_file = dir + "/" + role + ".port";
  ProcessSpec spec;
  spec.program = find_todo_app();
  spec.args = {"--role",      role,      "--bind",    "127.0.0.1", "--port",      "0",
               "--port-file", port_file, "--threads", "2",         "--log-level", "warn"};
  if (role == "api")
    spec.args.insert(spec.args.end(), {"--database", "sqlite://" + dir + "/todo.db"});
  if (role == "web") spec.args.insert(spec.args.end(), {"--backend-url", backend});
  spec.env_set["BETTER_AUTH_SECRET"] = secret;
  spec.env_unset = {"DATABASE_URL", "TODO_FAULTS", "BACKEND_URL", "JWKS_URL"};
  spec.log_path = dir + "/" + role + ".log";
  auto child = std::make_unique<ChildProcess>(spec);

  std::string health = role == "api" ? "/health" : "/api/health";
  http::ClientOptions o;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.request_timeout = std::chrono::milliseconds(1000);
  http::Client client(o);
  auto w = wait_until(
      [&](std::string* why) {
        if (!child->running()) {
          *why = "todo-app " + role + " exited: " + child->log_tail(600);
          throw std::runtime_error(*why);
        }
        std::ifstream in(port_file);
        std::string port;
        if (!(in >> port) || port.empty()) {
          *why = "no port file yet";
          return false;
        }
        url_out = "http://127.0.0.1:" + port;
        return client.send({"GET", url_out + health, {}, {}}).status == 200;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(50));
  if (!w.ok)
    throw std::runtime_error("could not start the embedded todo-app (" + spec.program + ", role " +
                             role + "): " + w.last_error + "\n" + child->log_tail(1000));
  return child;
}

}  // namespace

EmbeddedApp::EmbeddedApp() {
  char tmpl[] = "/tmp/kgate-embedded-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("cannot create a temporary directory in /tmp");
  dir_ = tmpl;
  secret_ = random_hex(32);
  register_secret(secret_);
  try {
    api_ = start_role(dir_, "api", secret_, "", backend_url_);
    web_ = start_role(dir_, "web", secret_, backend_url_, frontend_url_);
  } catch (...) {
    stop();
    throw;
  }
  spdlog::info("embedded todo-app: api {} web {}", backend_url_, frontend_url_);
}

void EmbeddedApp::stop() {
  if (web_) web_->stop(SIGTERM, std::chrono::seconds(5));
  if (api_) api_->stop(SIGTERM, std::chrono::seconds(5));
  web_.reset();
  api_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

EmbeddedApp::~EmbeddedApp() {
  stop();
}

}  // namespace kgate
