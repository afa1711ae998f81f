#pragma once
// Persistence for tasks and chat history. Two implementations share one schema: SQLite (tests,
// single pod) and PostgreSQL (the deployed app). User ids are plain strings from tokens.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace todo {

struct Task {
  std::int64_t id = 0;
  std::string user_id;
  std::string title;
  std::optional<std::string> description;
  bool completed = false;
  std::string created_at;  // ISO 8601 UTC, "...Z"
  std::string updated_at;
};

struct NewTask {
  std::string title;
  std::optional<std::string> description;
  bool completed = false;
};

// Fields a PUT changes; absent ones keep their value. description may be set to null.
struct TaskChanges {
  std::optional<std::string> title;
  std::optional<std::optional<std::string>> description;
  std::optional<bool> completed;
};

enum class StatusFilter { All, Pending, Completed };
enum class SortOrder { Created, Title };

struct Conversation {
  std::int64_t id = 0;
  std::string user_id;
  std::string created_at;
  std::string updated_at;
};

struct Message {
  std::int64_t id = 0;
  std::int64_t conversation_id = 0;
  std::string user_id;
  std::string role;  // "user" or "assistant"
  std::string content;
  std::string created_at;
};

// A database failure. what() is for logs only: it may contain SQL or driver text and must never
// reach a client.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A constraint the database refused: what() in the database's words, driver() the exception a
// Python app would have seen (for the leaky-errors fault's body).
class IntegrityError : public StorageError {
 public:
  IntegrityError(std::string driver, const std::string& message)
      : StorageError(message), driver_(std::move(driver)) {}
  const std::string& driver() const { return driver_; }

 private:
  std::string driver_;
};

// `owner` filters by-id operations; std::nullopt means any owner (only the no-owner-check fault
// passes that).
using Owner = std::optional<std::string>;

class Storage {
 public:
  virtual ~Storage() = default;
  virtual const char* kind() const = 0;
  // True when the database answers (readiness).
  virtual bool ping() = 0;

  virtual std::vector<Task> list_tasks(const std::string& user, StatusFilter status,
                                       SortOrder sort) = 0;
  virtual Task create_task(const std::string& user, const NewTask& task) = 0;
  virtual std::optional<Task> get_task(std::int64_t id, const Owner& owner) = 0;
  virtual std::optional<Task> update_task(std::int64_t id, const Owner& owner,
                                          const TaskChanges& changes) = 0;
  virtual std::optional<Task> toggle_task(std::int64_t id, const Owner& owner) = 0;
  virtual bool delete_task(std::int64_t id, const Owner& owner) = 0;

  virtual Conversation create_conversation(const std::string& user) = 0;
  virtual std::optional<Conversation> get_conversation(std::int64_t id,
                                                       const std::string& user) = 0;
  // Appends a message and touches the conversation's updated_at.
  virtual Message add_message(std::int64_t conversation_id, const std::string& user,
                              const std::string& role, const std::string& content) = 0;
  virtual std::vector<Message> list_messages(std::int64_t conversation_id) = 0;

  // The users table (registration writes it; --require-registered-users reads it). Adding a
  // user that exists changes nothing.
  virtual void add_user(const std::string& id, const std::string& email) = 0;
  virtual bool user_exists(const std::string& id) = 0;

  // The sql-injection fault: SQLite pastes task titles into its INSERT (PostgreSQL ignores it).
  virtual void enable_sql_injection_fault() {}
};

// Opens the database named by url (sqlite::memory:, sqlite:///abs.db, sqlite:rel.db,
// postgresql://..., postgres://...). Throws std::invalid_argument for a URL it does not
// understand and StorageError when an SQLite file cannot be opened. A PostgreSQL server that is
// down is not an error here: the app starts, reports not ready and reconnects later.
std::unique_ptr<Storage> open_storage(const std::string& url, int pool_size);

// SQLite path from a sqlite: URL (":memory:" for the in-memory form); nullopt for other URLs.
std::optional<std::string> sqlite_path(const std::string& url);
// libpq URL from a postgresql://, postgres:// or postgresql+driver:// URL; nullopt otherwise.
std::optional<std::string> postgres_url(const std::string& url);

std::unique_ptr<Storage> open_sqlite(const std::string& path);
std::unique_ptr<Storage> open_postgres(const std::string& url, int pool_size);

// The lying-health fault: every operation throws, ping() still says healthy.
std::unique_ptr<Storage> make_failing_storage(std::unique_ptr<Storage> inner);

// --require-registered-users: creating a task or a conversation for a user id that is not in the
// users table throws IntegrityError worded as the database's foreign key violation.
std::unique_ptr<Storage> require_registered_users(std::unique_ptr<Storage> inner);

// The state-in-memory fault: tasks, conversations and messages live in this process's memory
// (lost on restart, not shared between replicas); users and ping() still go to `inner`.
std::unique_ptr<Storage> make_memory_storage(std::unique_ptr<Storage> inner);

// Current time as ISO 8601 UTC with microseconds and "Z".
std::string now_iso8601();

}  // namespace todo
