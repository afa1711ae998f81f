// PostgreSQL storage over libpq: a small pool of connections, parameterised queries only (user
// text never becomes SQL), and reconnection when the server went away.
#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>

#include <spdlog/spdlog.h>

#include "storage.hpp"

namespace todo {
namespace {

constexpr const char* kSchema = R"sql(
SELECT pg_advisory_xact_lock(7201001);
CREATE TABLE IF NOT EXISTS tasks (
  id BIGSERIAL PRIMARY KEY,
  user_id TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT,
  completed BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_tasks_user ON tasks(user_id, id);
CREATE TABLE IF NOT EXISTS conversations (
  id BIGSERIAL PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_conversations_user ON conversations(user_id, id);
CREATE TABLE IF NOT EXISTS messages (
  id BIGSERIAL PRIMARY KEY,
  conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_messages_conversation ON messages(conversation_id, id);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
)sql";

// Timestamps leave the database in the same text form SQLite stores.
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
constexpr const char* kTaskColumns =
    "id, user_id, title, description, completed, " TS("created_at") ", " TS("updated_at");
constexpr const char* kConversationColumns = "id, user_id, " TS("created_at") ", " TS("updated_at");
constexpr const char* kMessageColumns =
    "id, conversation_id, user_id, role, content, " TS("created_at");
#undef TS

using Param = std::optional<std::string>;

struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultFree>;

std::string pg_message(PGconn* conn) {
  std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

class Pool {
 public:
  Pool(std::string url, int size) : url_(std::move(url)), max_(size < 1 ? 1 : size) {}
  ~Pool() {
    for (auto* c : idle_) PQfinish(c);
  }

  struct Lease {
    Pool* pool = nullptr;
    PGconn* conn = nullptr;
    bool reused = false;
    Lease() = default;
    Lease(Pool* p, PGconn* c, bool r) : pool(p), conn(c), reused(r) {}
    Lease(Lease&& o) noexcept : pool(o.pool), conn(o.conn), reused(o.reused) { o.conn = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn) pool->release(conn);
    }
  };

  Lease acquire() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10),
                      [&] { return !idle_.empty() || total_ < max_; })) {
      throw StorageError("timed out waiting for a database connection");
    }
    if (!idle_.empty()) {
      PGconn* c = idle_.front();
      idle_.pop_front();
      return Lease(this, c, true);
    }
    ++total_;
    lock.unlock();
    std::string error;
    PGconn* c = connect(error);
    if (!c) {
      {
        std::lock_guard relock(mu_);
        --total_;
      }
      cv_.notify_one();
      throw StorageError("cannot connect to PostgreSQL: " + error);
    }
    return Lease(this, c, false);
  }

  // A broken connection is closed instead of pooled; its idle siblings most likely died with the
  // same server, so they go too.
  void release(PGconn* c) {
    std::deque<PGconn*> stale;
    {
      std::lock_guard lock(mu_);
      if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE) {
        idle_.push_back(c);
        c = nullptr;
      } else {
        --total_;
        total_ -= static_cast<int>(idle_.size());
        stale.swap(idle_);
      }
    }
    if (c) PQfinish(c);
    for (auto* s : stale) PQfinish(s);
    cv_.notify_all();
  }

 private:
  PGconn* connect(std::string& error) {
    // Defaults first: settings in the URL override them (expand_dbname).
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"5", "todo-app", url_.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keys, values, 1);
    if (PQstatus(c) != CONNECTION_OK) {
      error = pg_message(c);
      PQfinish(c);
      return nullptr;
    }
    return c;
  }

  std::string url_;
  int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PGconn*> idle_;
  int total_ = 0;
};

class PostgresStorage final : public Storage {
 public:
  PostgresStorage(const std::string& url, int pool_size) : pool_(url, pool_size) {
    try {
      ensure_schema();
    } catch (const StorageError& e) {
      // The database may start after the app (Kubernetes): readiness stays 503 until it answers.
      spdlog::warn("database not available yet: {}", e.what());
    }
  }

  const char* kind() const override { return "postgresql"; }

  bool ping() override {
    try {
      query("SELECT 1", {});
      return true;
    } catch (const StorageError& e) {
      spdlog::debug("database ping failed: {}", e.what());
      return false;
    }
  }

  std::vector<Task> list_tasks(const std::string& user, StatusFilter status,
                               SortOrder sort) override {
    std::string sql = std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE user_id = $1";
    if (status == StatusFilter::Pending) sql += " AND NOT completed";
    if (status == StatusFilter::Completed) sql += " AND completed";
    sql += sort == SortOrder::Title ? " ORDER BY lower(title), id" : " ORDER BY created_at, id";
    auto r = query(sql, {user});
    std::vector<Task> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(read_task(r.get(), i));
    return out;
  }

  Task create_task(const std::string& user, const NewTask& task) override {
    auto r = query(std::string("INSERT INTO tasks (user_id, title, description, completed, "
                               "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) "
                               "RETURNING ") +
                       kTaskColumns,
                   {user, task.title, task.description, bool_text(task.completed), now_iso8601()});
    if (PQntuples(r.get()) != 1) throw StorageError("INSERT returned no row");
    return read_task(r.get(), 0);
  }

  std::optional<Task> get_task(std::int64_t id, const Owner& owner) override {
    return one_task(query(std::string("SELECT ") + kTaskColumns +
                              " FROM tasks WHERE id = $1 AND ($2::text IS NULL OR user_id = $2)",
                          {std::to_string(id), owner}));
  }

  std::optional<Task> update_task(std::int64_t id, const Owner& owner,
                                  const TaskChanges& c) override {
    return one_task(
        query(std::string("UPDATE tasks SET "
                          "title = CASE WHEN $3::boolean THEN $4 ELSE title END, "
                          "description = CASE WHEN $5::boolean THEN $6 ELSE description END, "
                          "completed = CASE WHEN $7::boolean THEN $8::boolean ELSE completed END, "
                          "updated_at = $9 "
                          "WHERE id = $1 AND ($2::text IS NULL OR user_id = $2) RETURNING ") +
                  kTaskColumns,
              {std::to_string(id), owner, bool_text(c.title.has_value()), c.title,
               bool_text(c.description.has_value()), c.description ? *c.description : Param{},
               bool_text(c.completed.has_value()), bool_text(c.completed.value_or(false)),
               now_iso8601()}));
  }

  std::optional<Task> toggle_task(std::int64_t id, const Owner& owner) override {
    return one_task(query(std::string("UPDATE tasks SET completed = NOT completed, updated_at = $3 "
                                      "WHERE id = $1 AND ($2::text IS NULL OR user_id = $2) "
                                      "RETURNING ") +
                              kTaskColumns,
                          {std::to_string(id), owner, now_iso8601()}));
  }

  bool delete_task(std::int64_t id, const Owner& owner) override {
    auto r = query(
        "DELETE FROM tasks WHERE id = $1 AND ($2::text IS NULL OR user_id = $2) "
        "RETURNING id",
        {std::to_string(id), owner});
    return PQntuples(r.get()) > 0;
  }

  Conversation create_conversation(const std::string& user) override {
    auto r = query(std::string("INSERT INTO conversations (user_id, created_at, updated_at) "
                               "VALUES ($1, $2, $2) RETURNING ") +
                       kConversationColumns,
                   {user, now_iso8601()});
    if (PQntuples(r.get()) != 1) throw StorageError("INSERT returned no row");
    return read_conversation(r.get(), 0);
  }

  std::optional<Conversation> get_conversation(std::int64_t id, const std::string& user) override {
    auto r = query(std::string("SELECT ") + kConversationColumns +
                       " FROM conversations WHERE id = $1 AND user_id = $2",
                   {std::to_string(id), user});
    if (PQntuples(r.get()) == 0) return std::nullopt;
    return read_conversation(r.get(), 0);
  }

  Message add_message(std::int64_t conversation_id, const std::string& user,
                      const std::string& role, const std::string& content) override {
    // One statement, so the message and the conversation's timestamp change together.
    auto r = query(std::string("WITH touched AS (UPDATE conversations SET updated_at = $5 "
                               "WHERE id = $1) "
                               "INSERT INTO messages (conversation_id, user_id, role, content, "
                               "created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ") +
                       kMessageColumns,
                   {std::to_string(conversation_id), user, role, content, now_iso8601()});
    if (PQntuples(r.get()) != 1) throw StorageError("INSERT returned no row");
    return read_message(r.get(), 0);
  }

  std::vector<Message> list_messages(std::int64_t conversation_id) override {
    auto r = query(std::string("SELECT ") + kMessageColumns +
                       " FROM messages WHERE conversation_id = $1 ORDER BY id",
                   {std::to_string(conversation_id)});
    std::vector<Message> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(read_message(r.get(), i));
    return out;
  }

  void add_user(const std::string& id, const std::string& email) override {
    query("INSERT INTO users (id, email) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", {id, email});
  }

  bool user_exists(const std::string& id) override {
    return PQntuples(query("SELECT 1 FROM users WHERE id = $1", {id}).get()) > 0;
  }

 private:
  static Param bool_text(bool b) { return std::string(b ? "true" : "false"); }

  static std::string get(PGresult* r, int row, int col) {
    return std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
  }

  static std::int64_t get_int(PGresult* r, int row, int col) {
    return std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
  }

  static Task read_task(PGresult* r, int row) {
    Task t;
    t.id = get_int(r, row, 0);
    t.user_id = get(r, row, 1);
    t.title = get(r, row, 2);
    if (!PQgetisnull(r, row, 3)) t.description = get(r, row, 3);
    t.completed = get(r, row, 4) == "t";
    t.created_at = get(r, row, 5);
    t.updated_at = get(r, row, 6);
    return t;
  }

  static std::optional<Task> one_task(const ResultPtr& r) {
    if (PQntuples(r.get()) == 0) return std::nullopt;
    return read_task(r.get(), 0);
  }

  static Conversation read_conversation(PGresult* r, int row) {
    return {get_int(r, row, 0), get(r, row, 1), get(r, row, 2), get(r, row, 3)};
  }

  static Message read_message(PGresult* r, int row) {
    return {get_int(r, row, 0), get_int(r, row, 1), get(r, row, 2),
            get(r, row, 3),     get(r, row, 4),     get(r, row, 5)};
  }

  void ensure_schema() {
    if (schema_ready_.load(std::memory_order_acquire)) return;
    std::lock_guard lock(schema_mu_);
    if (schema_ready_.load()) return;
    auto lease = pool_.acquire();
    // A multi-statement string runs as one transaction, so the advisory lock keeps two starting
    // replicas from racing on CREATE TABLE IF NOT EXISTS.
    ResultPtr r(PQexec(lease.conn, kSchema));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK && PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      throw StorageError("creating the schema failed: " + pg_message(lease.conn));
    }
    schema_ready_.store(true, std::memory_order_release);
  }

  // Runs one parameterised statement. A pooled connection that turns out dead (server restarted)
  // is replaced and the statement retried once: it never reached the server.
  ResultPtr query(const std::string& sql, const std::vector<Param>& params) {
    ensure_schema();
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    for (int attempt = 0;; ++attempt) {
      auto lease = pool_.acquire();
      ResultPtr r(PQexecParams(lease.conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
      auto status = PQresultStatus(r.get());
      if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return r;
      if (PQstatus(lease.conn) == CONNECTION_BAD) {
        if (lease.reused && attempt == 0) continue;
        throw StorageError("database connection lost: " + pg_message(lease.conn));
      }
      throw StorageError("query failed: " + pg_message(lease.conn));
    }
  }

  Pool pool_;
  std::mutex schema_mu_;
  std::atomic<bool> schema_ready_{false};
};

}  // namespace

std::unique_ptr<Storage> open_postgres(const std::string& url, int pool_size) {
  return std::make_unique<PostgresStorage>(url, pool_size);
}

}  // namespace todo
