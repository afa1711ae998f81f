// The state-in-memory fault: an app that keeps its tasks in a dict. Everything answers as the
// database-backed app does, but nothing outlives the process or reaches another replica.
#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "storage.hpp"

namespace todo {
namespace {

std::string ascii_lower(const std::string& s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool owned_by(const std::string& user_id, const Owner& owner) {
  return !owner || *owner == user_id;
}

class MemoryStorage final : public Storage {
 public:
  explicit MemoryStorage(std::unique_ptr<Storage> inner) : inner_(std::move(inner)) {}

  const char* kind() const override { return inner_->kind(); }
  // Readiness still follows the database the app was given (and does not use for tasks).
  bool ping() override { return inner_->ping(); }

  std::vector<Task> list_tasks(const std::string& user, StatusFilter status,
                               SortOrder sort) override {
    std::vector<Task> out;
    {
      std::lock_guard lock(mu_);
      for (const auto& [id, t] : tasks_) {
        if (t.user_id != user) continue;
        if (status == StatusFilter::Pending && t.completed) continue;
        if (status == StatusFilter::Completed && !t.completed) continue;
        out.push_back(t);
      }
    }
    if (sort == SortOrder::Title) {
      std::stable_sort(out.begin(), out.end(), [](const Task& a, const Task& b) {
        return ascii_lower(a.title) < ascii_lower(b.title);
      });
    }
    return out;  // the map keeps ids in order, which is creation order
  }

  Task create_task(const std::string& user, const NewTask& task) override {
    Task t;
    t.user_id = user;
    t.title = task.title;
    t.description = task.description;
    t.completed = task.completed;
    t.created_at = t.updated_at = now_iso8601();
    std::lock_guard lock(mu_);
    t.id = ++last_task_id_;
    tasks_[t.id] = t;
    return t;
  }

  std::optional<Task> get_task(std::int64_t id, const Owner& owner) override {
    std::lock_guard lock(mu_);
    auto* t = find(id, owner);
    return t ? std::optional<Task>(*t) : std::nullopt;
  }

  std::optional<Task> update_task(std::int64_t id, const Owner& owner,
                                  const TaskChanges& changes) override {
    std::lock_guard lock(mu_);
    auto* t = find(id, owner);
    if (!t) return std::nullopt;
    if (changes.title) t->title = *changes.title;
    if (changes.description) t->description = *changes.description;
    if (changes.completed) t->completed = *changes.completed;
    t->updated_at = now_iso8601();
    return *t;
  }

  std::optional<Task> toggle_task(std::int64_t id, const Owner& owner) override {
    std::lock_guard lock(mu_);
    auto* t = find(id, owner);
    if (!t) return std::nullopt;
    t->completed = !t->completed;
    t->updated_at = now_iso8601();
    return *t;
  }

  bool delete_task(std::int64_t id, const Owner& owner) override {
    std::lock_guard lock(mu_);
    if (!find(id, owner)) return false;
    tasks_.erase(id);
    return true;
  }

  Conversation create_conversation(const std::string& user) override {
    Conversation c;
    c.user_id = user;
    c.created_at = c.updated_at = now_iso8601();
    std::lock_guard lock(mu_);
    c.id = ++last_conversation_id_;
    conversations_[c.id] = c;
    return c;
  }

  std::optional<Conversation> get_conversation(std::int64_t id, const std::string& user) override {
    std::lock_guard lock(mu_);
    auto it = conversations_.find(id);
    if (it == conversations_.end() || it->second.user_id != user) return std::nullopt;
    return it->second;
  }

  Message add_message(std::int64_t conversation_id, const std::string& user,
                      const std::string& role, const std::string& content) override {
    Message m{0, conversation_id, user, role, content, now_iso8601()};
    std::lock_guard lock(mu_);
    auto it = conversations_.find(conversation_id);
    if (it == conversations_.end()) throw StorageError("no such conversation");
    it->second.updated_at = m.created_at;
    m.id = ++last_message_id_;
    messages_.push_back(m);
    return m;
  }

  std::vector<Message> list_messages(std::int64_t conversation_id) override {
    std::vector<Message> out;
    std::lock_guard lock(mu_);
    for (const auto& m : messages_) {
      if (m.conversation_id == conversation_id) out.push_back(m);
    }
    return out;
  }

  void add_user(const std::string& id, const std::string& email) override {
    inner_->add_user(id, email);
  }
  bool user_exists(const std::string& id) override { return inner_->user_exists(id); }

 private:
  Task* find(std::int64_t id, const Owner& owner) {
    auto it = tasks_.find(id);
    return it != tasks_.end() && owned_by(it->second.user_id, owner) ? &it->second : nullptr;
  }

  std::unique_ptr<Storage> inner_;
  std::mutex mu_;
  std::map<std::int64_t, Task> tasks_;
  std::map<std::int64_t, Conversation> conversations_;
  std::vector<Message> messages_;
  std::int64_t last_task_id_ = 0;
  std::int64_t last_conversation_id_ = 0;
  std::int64_t last_message_id_ = 0;
};

}  // namespace

std::unique_ptr<Storage> make_memory_storage(std::unique_ptr<Storage> inner) {
  return std::make_unique<MemoryStorage>(std::move(inner));
}

}  // namespace todo
