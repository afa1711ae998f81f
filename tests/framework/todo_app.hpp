#pragma once
// Starts the built todo-app binary for a test: private temp dir, port 0 with --port-file, waits
// until the health endpoint answers. The destructor stops it and removes the temp dir.
//
//   kgate::testfw::TodoApp api;                       // api role, in-memory SQLite, test secret
//   kgate::testfw::TodoApp web({.role = "web", .backend_url = api.url()});
#include <chrono>
#include <csignal>
#include <map>
#include <string>
#include <vector>

#include <kgate/process.hpp>

namespace kgate::testfw {

// Every member has a default so designated initializers may name only what they change.
struct TodoAppOptions {
  std::string role = "api";
  std::string database{};  // empty: sqlite::memory:
  std::string secret{};    // empty: kTestSecret for the api role (unless jwks_url is set)
  std::vector<std::string> faults{};
  std::string backend_url{};
  std::string jwks_url{};
  // Extra environment (CORS_ORIGINS, TODO_FAULT_SLOW_MS, ...).
  std::map<std::string, std::string> env{};
  // More command line, e.g. {"--grace", "2s"}; "--threads N" here replaces the default 4, and
  // "--drain-quiet D" the default 100ms (the app's own default is 1s).
  std::vector<std::string> extra_args{};
  unsigned short port = 0;  // 0: the OS picks (prefer it)
  std::chrono::milliseconds start_timeout{10000};
};

class TodoApp {
 public:
  // Starts and waits until healthy. Throws std::runtime_error with the log tail on failure.
  explicit TodoApp(TodoAppOptions options = {});
  ~TodoApp();
  TodoApp(const TodoApp&) = delete;
  TodoApp& operator=(const TodoApp&) = delete;

  const std::string& url() const { return url_; }  // "http://127.0.0.1:PORT"
  unsigned short port() const { return port_; }
  const TodoAppOptions& options() const { return options_; }
  const std::string& secret() const { return secret_; }  // the HS256 secret it was given
  const std::string& dir() const { return dir_; }        // private temp dir (log, port file)

  // Sends sig and waits up to grace for the exit (then SIGKILL). Returns the exit status.
  int stop(int sig = SIGTERM, std::chrono::milliseconds grace = std::chrono::seconds(15));
  bool running();
  kgate::ChildProcess& process() { return process_; }
  std::string log() const;  // everything it wrote so far (stdout + stderr)

  // The todo-app binary: env KGATE_TODO_APP, else $KGATE_BUILD_DIR/app/todo-app, else the path
  // compiled into the framework.
  static std::string binary_path();

 private:
  TodoAppOptions options_;
  std::string secret_;
  std::string dir_;
  std::string url_;
  unsigned short port_ = 0;
  kgate::ChildProcess process_;
};

// Creates a private temp directory ("<TMPDIR>/<prefix>XXXXXX") and returns its path.
std::string make_temp_dir(const std::string& prefix);
// Removes it unless KGATE_KEEP_TMP is set (for debugging failed tests).
void remove_temp_dir(const std::string& path);

}  // namespace kgate::testfw
