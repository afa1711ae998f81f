#pragma once
// The embedded default: with no target, kgate runs against the reference todo app, which it
// starts on loopback (API and web roles, a temporary SQLite file, a random secret) and stops.
#include <memory>
#include <string>

#include "kgate/process.hpp"

namespace kgate {

class EmbeddedApp {
 public:
  // Throws std::runtime_error saying what could not be started (exit 3).
  EmbeddedApp();
  ~EmbeddedApp();
  const std::string& backend_url() const { return backend_url_; }
  const std::string& frontend_url() const { return frontend_url_; }
  const std::string& secret() const { return secret_; }
  void stop();

 private:
  std::string dir_;
  std::string secret_;
  std::string backend_url_, frontend_url_;
  std::unique_ptr<ChildProcess> api_, web_;
};

// Where the todo-app binary is: $KGATE_TODO_APP, next to kgate, the build tree, or PATH.
std::string find_todo_app();

}  // namespace kgate
