#include "storage.hpp"

#include <chrono>
#include <ctime>
#include <string_view>

#include <fmt/format.h>

namespace todo {

std::string now_iso8601() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
}

std::optional<std::string> sqlite_path(const std::string& url) {
  const std::string prefix = "sqlite:";
  if (url.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = url.substr(prefix.size());
  if (rest == ":memory:" || rest == "///:memory:") return std::string(":memory:");
  if (rest.rfind("///./", 0) == 0) return rest.substr(3);  // SQLAlchemy's relative spelling
  if (rest.rfind("///", 0) == 0) return rest.substr(2);    // sqlite:///abs/path -> /abs/path
  if (rest.rfind("//", 0) == 0) return std::nullopt;       // a host part makes no sense for SQLite
  if (rest.empty()) return std::nullopt;
  return rest;
}

std::optional<std::string> postgres_url(const std::string& url) {
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return url;
  // SQLAlchemy-style URLs from the FastAPI deployments name a driver: libpq needs none.
  for (const std::string scheme : {"postgresql+", "postgres+"}) {
    auto sep = url.find("://");
    if (url.rfind(scheme, 0) == 0 && sep != std::string::npos) {
      return "postgresql" + url.substr(sep);
    }
  }
  return std::nullopt;
}

std::unique_ptr<Storage> open_storage(const std::string& url, int pool_size) {
  if (auto path = sqlite_path(url)) return open_sqlite(*path);
  if (auto pg = postgres_url(url)) return open_postgres(*pg, pool_size);
  throw std::invalid_argument(
      "unsupported database URL (use sqlite::memory:, sqlite:///abs/path.db, sqlite:relative.db "
      "or postgresql://...)");
}

namespace {

class FailingStorage final : public Storage {
 public:
  explicit FailingStorage(std::unique_ptr<Storage> inner) : inner_(std::move(inner)) {}
  const char* kind() const override { return inner_->kind(); }
  bool ping() override { return true; }  // the lie

  std::vector<Task> list_tasks(const std::string&, StatusFilter, SortOrder) override { fail(); }
  Task create_task(const std::string&, const NewTask&) override { fail(); }
  std::optional<Task> get_task(std::int64_t, const Owner&) override { fail(); }
  std::optional<Task> update_task(std::int64_t, const Owner&, const TaskChanges&) override {
    fail();
  }
  std::optional<Task> toggle_task(std::int64_t, const Owner&) override { fail(); }
  bool delete_task(std::int64_t, const Owner&) override { fail(); }
  Conversation create_conversation(const std::string&) override { fail(); }
  std::optional<Conversation> get_conversation(std::int64_t, const std::string&) override {
    fail();
  }
  Message add_message(std::int64_t, const std::string&, const std::string&,
                      const std::string&) override {
    fail();
  }
  std::vector<Message> list_messages(std::int64_t) override { fail(); }
  void add_user(const std::string&, const std::string&) override { fail(); }
  bool user_exists(const std::string&) override { fail(); }

 private:
  [[noreturn]] static void fail() {
    throw StorageError("database unavailable (lying-health fault)");
  }
  std::unique_ptr<Storage> inner_;
};

// Passes everything to `inner`; decorators override what they change.
class ForwardingStorage : public Storage {
 public:
  explicit ForwardingStorage(std::unique_ptr<Storage> inner) : inner_(std::move(inner)) {}
  const char* kind() const override { return inner_->kind(); }
  bool ping() override { return inner_->ping(); }
  std::vector<Task> list_tasks(const std::string& user, StatusFilter status,
                               SortOrder sort) override {
    return inner_->list_tasks(user, status, sort);
  }
  Task create_task(const std::string& user, const NewTask& task) override {
    return inner_->create_task(user, task);
  }
  std::optional<Task> get_task(std::int64_t id, const Owner& owner) override {
    return inner_->get_task(id, owner);
  }
  std::optional<Task> update_task(std::int64_t id, const Owner& owner,
                                  const TaskChanges& changes) override {
    return inner_->update_task(id, owner, changes);
  }
  std::optional<Task> toggle_task(std::int64_t id, const Owner& owner) override {
    return inner_->toggle_task(id, owner);
  }
  bool delete_task(std::int64_t id, const Owner& owner) override {
    return inner_->delete_task(id, owner);
  }
  Conversation create_conversation(const std::string& user) override {
    return inner_->create_conversation(user);
  }
  std::optional<Conversation> get_conversation(std::int64_t id, const std::string& user) override {
    return inner_->get_conversation(id, user);
  }
  Message add_message(std::int64_t conversation_id, const std::string& user,
                      const std::string& role, const std::string& content) override {
    return inner_->add_message(conversation_id, user, role, content);
  }
  std::vector<Message> list_messages(std::int64_t conversation_id) override {
    return inner_->list_messages(conversation_id);
  }
  void add_user(const std::string& id, const std::string& email) override {
    inner_->add_user(id, email);
  }
  bool user_exists(const std::string& id) override { return inner_->user_exists(id); }
  void enable_sql_injection_fault() override { inner_->enable_sql_injection_fault(); }

 protected:
  std::unique_ptr<Storage> inner_;
};

// The foreign key from tasks and conversations to users, checked before the insert. The
// message is what each database says about such a row.
class RegisteredUsersStorage final : public ForwardingStorage {
 public:
  using ForwardingStorage::ForwardingStorage;
  Task create_task(const std::string& user, const NewTask& task) override {
    require(user, "tasks");
    return inner_->create_task(user, task);
  }
  Conversation create_conversation(const std::string& user) override {
    require(user, "conversations");
    return inner_->create_conversation(user);
  }

 private:
  void require(const std::string& user, const std::string& table) {
    if (inner_->user_exists(user)) return;
    if (std::string_view(inner_->kind()) == "postgresql") {
      throw IntegrityError("psycopg2.errors.ForeignKeyViolation",
                           "insert or update on table \"" + table +
                               "\" violates foreign key constraint \"" + table +
                               "_user_id_fkey\"\nDETAIL:  Key (user_id)=(" + user +
                               ") is not present in table \"users\".");
    }
    throw IntegrityError("sqlite3.IntegrityError", "FOREIGN KEY constraint failed");
  }
};

}  // namespace

std::unique_ptr<Storage> make_failing_storage(std::unique_ptr<Storage> inner) {
  return std::make_unique<FailingStorage>(std::move(inner));
}

std::unique_ptr<Storage> require_registered_users(std::unique_ptr<Storage> inner) {
  return std::make_unique<RegisteredUsersStorage>(std::move(inner));
}

}  // namespace todo
