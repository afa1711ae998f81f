// SQLite storage: one connection behind a mutex (SQLite serialises writers anyway), prepared
// statements cached for the connection's lifetime.
#include <sqlite3.h>

#include <map>
#include <mutex>

#include "storage.hpp"

namespace todo {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT,
  completed INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_tasks_user ON tasks(user_id, id);
CREATE TABLE IF NOT EXISTS conversations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_conversations_user ON conversations(user_id, id);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_messages_conversation ON messages(conversation_id, id);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  created_at TEXT NOT NULL
);
)sql";

constexpr const char* kTaskColumns =
    "id, user_id, title, description, completed, created_at, updated_at";

// A bound value: text, integer, or NULL.
struct Value {
  enum class Kind { Null, Text, Int } kind = Kind::Null;
  std::string text;
  std::int64_t integer = 0;
  static Value null() { return {}; }
  static Value of(std::string s) { return {Kind::Text, std::move(s), 0}; }
  static Value of(std::int64_t i) { return {Kind::Int, {}, i}; }
  static Value of(const std::optional<std::string>& s) { return s ? of(*s) : null(); }
};

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(const std::string& path) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError("cannot open SQLite database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 5000);  // another process may hold the file briefly
    exec_script("PRAGMA foreign_keys = ON;");
    if (path != ":memory:") {
      // WAL lets readers proceed during writes and survives crashes without a journal replay.
      exec_script("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    }
    exec_script(kSchema);
  }

  void enable_sql_injection_fault() override { sql_injection_ = true; }

  ~SqliteStorage() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  const char* kind() const override { return "sqlite"; }

  bool ping() override {
    std::lock_guard lock(mu_);
    try {
      run("SELECT 1", {}, [](sqlite3_stmt*) {});
      return true;
    } catch (const StorageError&) {
      return false;
    }
  }

  std::vector<Task> list_tasks(const std::string& user, StatusFilter status,
                               SortOrder sort) override {
    std::string sql = std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE user_id = ?1";
    if (status == StatusFilter::Pending) sql += " AND completed = 0";
    if (status == StatusFilter::Completed) sql += " AND completed = 1";
    sql += sort == SortOrder::Title ? " ORDER BY lower(title), id" : " ORDER BY created_at, id";
    std::vector<Task> out;
    std::lock_guard lock(mu_);
    run(sql, {Value::of(user)}, [&](sqlite3_stmt* s) { out.push_back(read_task(s)); });
    return out;
  }

  Task create_task(const std::string& user, const NewTask& task) override {
    auto now = now_iso8601();
    std::optional<Task> out;
    std::lock_guard lock(mu_);
    if (sql_injection_) {
      // Deliberately wrong: the title becomes SQL text, so a quote breaks (or rewrites) it.
      run(std::string("INSERT INTO tasks (user_id, title, description, completed, created_at, "
                      "updated_at) VALUES (?1, '") +
              task.title + "', ?2, ?3, ?4, ?4) RETURNING " + kTaskColumns,
          {Value::of(user), Value::of(task.description),
           Value::of(std::int64_t{task.completed ? 1 : 0}), Value::of(now)},
          [&](sqlite3_stmt* s) { out = read_task(s); });
      if (!out) throw StorageError("INSERT returned no row");
      return *out;
    }
    run(std::string("INSERT INTO tasks (user_id, title, description, completed, created_at, "
                    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING ") +
            kTaskColumns,
        {Value::of(user), Value::of(task.title), Value::of(task.description),
         Value::of(std::int64_t{task.completed ? 1 : 0}), Value::of(now)},
        [&](sqlite3_stmt* s) { out = read_task(s); });
    if (!out) throw StorageError("INSERT returned no row");
    return *out;
  }

  std::optional<Task> get_task(std::int64_t id, const Owner& owner) override {
    std::optional<Task> out;
    std::lock_guard lock(mu_);
    run(std::string("SELECT ") + kTaskColumns +
            " FROM tasks WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)",
        {Value::of(id), Value::of(owner)}, [&](sqlite3_stmt* s) { out = read_task(s); });
    return out;
  }

  std::optional<Task> update_task(std::int64_t id, const Owner& owner,
                                  const TaskChanges& c) override {
    std::optional<Task> out;
    auto flag = [](bool b) { return Value::of(std::int64_t{b ? 1 : 0}); };
    std::lock_guard lock(mu_);
    run(std::string("UPDATE tasks SET "
                    "title = CASE WHEN ?3 THEN ?4 ELSE title END, "
                    "description = CASE WHEN ?5 THEN ?6 ELSE description END, "
                    "completed = CASE WHEN ?7 THEN ?8 ELSE completed END, "
                    "updated_at = ?9 "
                    "WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2) RETURNING ") +
            kTaskColumns,
        {Value::of(id), Value::of(owner), flag(c.title.has_value()),
         c.title ? Value::of(*c.title) : Value::null(), flag(c.description.has_value()),
         c.description ? Value::of(*c.description) : Value::null(), flag(c.completed.has_value()),
         flag(c.completed.value_or(false)), Value::of(now_iso8601())},
        [&](sqlite3_stmt* s) { out = read_task(s); });
    return out;
  }

  std::optional<Task> toggle_task(std::int64_t id, const Owner& owner) override {
    std::optional<Task> out;
    std::lock_guard lock(mu_);
    run(std::string("UPDATE tasks SET completed = 1 - completed, updated_at = ?3 "
                    "WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2) RETURNING ") +
            kTaskColumns,
        {Value::of(id), Value::of(owner), Value::of(now_iso8601())},
        [&](sqlite3_stmt* s) { out = read_task(s); });
    return out;
  }

  bool delete_task(std::int64_t id, const Owner& owner) override {
    bool found = false;
    std::lock_guard lock(mu_);
    run("DELETE FROM tasks WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2) RETURNING id",
        {Value::of(id), Value::of(owner)}, [&](sqlite3_stmt*) { found = true; });
    return found;
  }

  Conversation create_conversation(const std::string& user) override {
    std::optional<Conversation> out;
    std::lock_guard lock(mu_);
    run("INSERT INTO conversations (user_id, created_at, updated_at) VALUES (?1, ?2, ?2) "
        "RETURNING id, user_id, created_at, updated_at",
        {Value::of(user), Value::of(now_iso8601())},
        [&](sqlite3_stmt* s) { out = read_conversation(s); });
    if (!out) throw StorageError("INSERT returned no row");
    return *out;
  }

  std::optional<Conversation> get_conversation(std::int64_t id, const std::string& user) override {
    std::optional<Conversation> out;
    std::lock_guard lock(mu_);
    run("SELECT id, user_id, created_at, updated_at FROM conversations "
        "WHERE id = ?1 AND user_id = ?2",
        {Value::of(id), Value::of(user)}, [&](sqlite3_stmt* s) { out = read_conversation(s); });
    return out;
  }

  Message add_message(std::int64_t conversation_id, const std::string& user,
                      const std::string& role, const std::string& content) override {
    auto now = now_iso8601();
    std::optional<Message> out;
    std::lock_guard lock(mu_);
    run("INSERT INTO messages (conversation_id, user_id, role, content, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) "
        "RETURNING id, conversation_id, user_id, role, content, created_at",
        {Value::of(conversation_id), Value::of(user), Value::of(role), Value::of(content),
         Value::of(now)},
        [&](sqlite3_stmt* s) { out = read_message(s); });
    run("UPDATE conversations SET updated_at = ?2 WHERE id = ?1",
        {Value::of(conversation_id), Value::of(now)}, [](sqlite3_stmt*) {});
    if (!out) throw StorageError("INSERT returned no row");
    return *out;
  }

  std::vector<Message> list_messages(std::int64_t conversation_id) override {
    std::vector<Message> out;
    std::lock_guard lock(mu_);
    run("SELECT id, conversation_id, user_id, role, content, created_at FROM messages "
        "WHERE conversation_id = ?1 ORDER BY id",
        {Value::of(conversation_id)}, [&](sqlite3_stmt* s) { out.push_back(read_message(s)); });
    return out;
  }

  void add_user(const std::string& id, const std::string& email) override {
    std::lock_guard lock(mu_);
    run("INSERT INTO users (id, email, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
        {Value::of(id), Value::of(email), Value::of(now_iso8601())}, [](sqlite3_stmt*) {});
  }

  bool user_exists(const std::string& id) override {
    bool found = false;
    std::lock_guard lock(mu_);
    run("SELECT 1 FROM users WHERE id = ?1", {Value::of(id)}, [&](sqlite3_stmt*) { found = true; });
    return found;
  }

 private:
  static std::string text(sqlite3_stmt* s, int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col))) : "";
  }

  static Task read_task(sqlite3_stmt* s) {
    Task t;
    t.id = sqlite3_column_int64(s, 0);
    t.user_id = text(s, 1);
    t.title = text(s, 2);
    if (sqlite3_column_type(s, 3) != SQLITE_NULL) t.description = text(s, 3);
    t.completed = sqlite3_column_int64(s, 4) != 0;
    t.created_at = text(s, 5);
    t.updated_at = text(s, 6);
    return t;
  }

  static Conversation read_conversation(sqlite3_stmt* s) {
    return {sqlite3_column_int64(s, 0), text(s, 1), text(s, 2), text(s, 3)};
  }

  static Message read_message(sqlite3_stmt* s) {
    return {sqlite3_column_int64(s, 0),
            sqlite3_column_int64(s, 1),
            text(s, 2),
            text(s, 3),
            text(s, 4),
            text(s, 5)};
  }

  void exec_script(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw StorageError("SQLite: " + msg);
    }
  }

  sqlite3_stmt* prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      throw StorageError(std::string("SQLite prepare: ") + sqlite3_errmsg(db_));
    }
    statements_.emplace(sql, stmt);
    return stmt;
  }

  // Runs one statement with bound values, calling on_row for each result row. mu_ must be held.
  template <typename OnRow>
  void run(const std::string& sql, const std::vector<Value>& values, OnRow&& on_row) {
    sqlite3_stmt* stmt = prepare(sql);
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    for (std::size_t i = 0; i < values.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const auto& v = values[i];
      int rc = SQLITE_OK;
      switch (v.kind) {
        case Value::Kind::Null:
          rc = sqlite3_bind_null(stmt, idx);
          break;
        case Value::Kind::Int:
          rc = sqlite3_bind_int64(stmt, idx, v.integer);
          break;
        case Value::Kind::Text:
          rc = sqlite3_bind_text(stmt, idx, v.text.data(), static_cast<int>(v.text.size()),
                                 SQLITE_TRANSIENT);
          break;
      }
      if (rc != SQLITE_OK) throw StorageError(std::string("SQLite bind: ") + sqlite3_errmsg(db_));
    }
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        on_row(stmt);
      } else if (rc == SQLITE_DONE) {
        return;
      } else {
        throw StorageError(std::string("SQLite step: ") + sqlite3_errmsg(db_));
      }
    }
  }

  std::mutex mu_;
  sqlite3* db_ = nullptr;
  bool sql_injection_ = false;
  std::map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace

std::unique_ptr<Storage> open_sqlite(const std::string& path) {
  return std::make_unique<SqliteStorage>(path);
}

}  // namespace todo
