#include "chat.hpp"

#include <regex>

#include <fmt/format.h>

#include "message.hpp"
#include "validation.hpp"

namespace todo {

using nlohmann::json;

namespace {

std::regex re(const char* pattern) {
  return std::regex(pattern, std::regex::ECMAScript | std::regex::icase | std::regex::optimize);
}

// Strips whitespace, wrapping quotes and trailing punctuation from a spoken title.
std::string clean_title(std::string s) {
  auto strip = [&] {
    auto t = trim(s);
    s = std::string(t);
  };
  strip();
  while (!s.empty() && (s.back() == '.' || s.back() == '!' || s.back() == '?')) {
    s.pop_back();
    strip();
  }
  static const std::vector<std::pair<std::string, std::string>> quotes = {
      {"'", "'"}, {"\"", "\""}, {"\xE2\x80\x9C", "\xE2\x80\x9D"}, {"\xE2\x80\x98", "\xE2\x80\x99"}};
  for (const auto& [open, close] : quotes) {
    if (s.size() >= open.size() + close.size() && s.rfind(open, 0) == 0 &&
        s.compare(s.size() - close.size(), close.size(), close) == 0) {
      s = s.substr(open.size(), s.size() - open.size() - close.size());
      strip();
      break;
    }
  }
  return s;
}

std::string capitalise(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::int64_t to_id(const std::string& digits) {
  try {
    return std::stoll(digits);
  } catch (const std::exception&) {
    return -1;  // no such task
  }
}

const char* status_name(StatusFilter f) {
  switch (f) {
    case StatusFilter::Pending:
      return "pending";
    case StatusFilter::Completed:
      return "completed";
    case StatusFilter::All:
      break;
  }
  return "all";
}

json tool_result(std::int64_t id, const char* status, const std::optional<std::string>& title) {
  return {{"task_id", id}, {"status", status}, {"title", title ? json(*title) : json(nullptr)}};
}

constexpr const char* kHelp =
    "I can help you manage your tasks. Try \"Add a task to buy groceries\", \"Show me all my "
    "tasks\", \"What's pending?\", \"Mark task 3 as complete\", \"Delete task 2\" or \"Change "
    "task 1 to 'Call mom tonight'\".";

}  // namespace

Intent interpret(std::string_view message_view) {
  std::string message(trim(message_view));
  // Compiled once; const std::regex is safe to share between threads.
  static const std::regex update =
      re(R"(^(?:please\s+)?(?:change|rename|update|edit)\s+task\s*(?:#|number\s+)?(\d+))"
         R"(\s+(?:to|into|as)\s+(.+)$)");
  static const std::regex remove =
      re(R"(\b(?:delete|remove|drop|erase)\s+(?:the\s+)?task\s*(?:#|number\s+)?(\d+)\b)");
  static const std::regex complete_mark = re(R"(\b(?:mark|set)\s+task\s*(?:#|number\s+)?(\d+)\s+)"
                                             R"((?:as\s+)?(?:complete|completed|done|finished)\b)");
  static const std::regex complete_verb =
      re(R"(\b(?:complete|finish|check\s+off)\s+(?:the\s+)?task\s*(?:#|number\s+)?(\d+)\b)");
  static const std::regex add_task =
      re(R"(^(?:please\s+)?(?:can\s+you\s+)?(?:add|create)\s+(?:a\s+)?(?:new\s+)?task\b\s*)"
         R"((?::|-)?\s*(?:to\s+|called\s+|named\s+|for\s+)?(.*)$)");
  static const std::regex remind = re(R"(^(?:please\s+)?remind\s+me\s+to\s+(.*)$)");
  static const std::regex add_to_list =
      re(R"(^(?:please\s+)?add\s+(.+?)\s+to\s+my\s+(?:task\s+|todo\s+|to-do\s+)?list\W*$)");
  static const std::regex pending =
      re(R"(\b(?:pending|incomplete|unfinished|outstanding|remaining|)"
         R"(not\s+(?:yet\s+)?(?:done|completed|finished))\b)");
  static const std::regex completed =
      re(R"(\b(?:what|which|show|list|display|see|view)\b.*\b(?:completed|finished|done)\b)");
  static const std::regex list_all =
      re(R"(\b(?:show|list|display|view|see|what\s+are|what's|give\s+me|get)\b)"
         R"(.*\b(?:tasks?|todos?|to-dos?)\b)");

  Intent intent;
  std::smatch m;
  if (std::regex_search(message, m, update)) {
    intent.kind = Intent::Kind::Update;
    intent.task_id = to_id(m[1]);
    intent.title = clean_title(m[2]);
  } else if (std::regex_search(message, m, remove)) {
    intent.kind = Intent::Kind::Delete;
    intent.task_id = to_id(m[1]);
  } else if (std::regex_search(message, m, complete_mark) ||
             std::regex_search(message, m, complete_verb)) {
    intent.kind = Intent::Kind::Complete;
    intent.task_id = to_id(m[1]);
  } else if (std::regex_search(message, m, add_task) || std::regex_search(message, m, remind) ||
             std::regex_search(message, m, add_to_list)) {
    intent.kind = Intent::Kind::Add;
    intent.title = capitalise(clean_title(m[1]));
  } else if (std::regex_search(message, pending)) {
    intent.kind = Intent::Kind::List;
    intent.filter = StatusFilter::Pending;
  } else if (std::regex_search(message, completed)) {
    intent.kind = Intent::Kind::List;
    intent.filter = StatusFilter::Completed;
  } else if (std::regex_search(message, list_all)) {
    intent.kind = Intent::Kind::List;
    intent.filter = StatusFilter::All;
  }
  return intent;
}

ChatReply run_chat(Storage& storage, const std::string& user, std::string_view message,
                   const ChatOptions& options) {
  ChatReply reply;
  Intent intent = interpret(message);
  if (!options.tools_enabled) {
    reply.response = "Thanks for your message! I'm happy to chat about your tasks.";
    return reply;
  }
  Owner owner = options.owner_check ? Owner(user) : Owner();
  auto call = [&](const char* tool, json arguments, json result) {
    reply.tool_calls.push_back(
        {{"tool", tool}, {"arguments", std::move(arguments)}, {"result", std::move(result)}});
  };

  switch (intent.kind) {
    case Intent::Kind::None:
      reply.response = kHelp;
      break;

    case Intent::Kind::Add: {
      auto length = utf8_length(intent.title);
      if (length == 0) {
        reply.response = "What should the task be called? Try \"Add a task to buy groceries\".";
        break;
      }
      if (options.enforce_lengths && length > options.title_max) {
        reply.response = fmt::format(
            "That title is too long: task titles can have at most {} "
            "characters.",
            options.title_max);
        break;
      }
      auto task = storage.create_task(user, NewTask{intent.title, std::nullopt, false});
      call("add_task", {{"user_id", user}, {"title", intent.title}},
           tool_result(task.id, "created", task.title));
      reply.response =
          fmt::format("I've added \"{}\" to your tasks (task {}).", task.title, task.id);
      break;
    }

    case Intent::Kind::List: {
      auto tasks = storage.list_tasks(user, intent.filter, SortOrder::Created);
      json items = json::array();
      std::string lines;
      for (const auto& t : tasks) {
        items.push_back({{"task_id", t.id},
                         {"status", t.completed ? "completed" : "pending"},
                         {"title", t.title},
                         {"completed", t.completed}});
        lines += fmt::format("\n- [{}] {} (task {})", t.completed ? "x" : " ", t.title, t.id);
      }
      call("list_tasks", {{"user_id", user}, {"status", status_name(intent.filter)}}, items);
      const char* which = intent.filter == StatusFilter::All ? "" : status_name(intent.filter);
      if (tasks.empty()) {
        reply.response = fmt::format("You have no {}{}tasks.", which, *which ? " " : "");
      } else {
        reply.response = fmt::format("You have {} {}{}task{}:{}", tasks.size(), which,
                                     *which ? " " : "", tasks.size() == 1 ? "" : "s", lines);
      }
      break;
    }

    case Intent::Kind::Complete: {
      auto task = storage.update_task(intent.task_id, owner, TaskChanges{{}, {}, true});
      call("complete_task", {{"user_id", user}, {"task_id", intent.task_id}},
           task ? tool_result(task->id, "completed", task->title)
                : tool_result(intent.task_id, "not_found", std::nullopt));
      reply.response = task ? fmt::format("Done! I've marked \"{}\" (task {}) as complete.",
                                          task->title, task->id)
                            : fmt::format("I couldn't find task {}.", intent.task_id);
      break;
    }

    case Intent::Kind::Delete: {
      auto task = storage.get_task(intent.task_id, owner);
      bool deleted = task && storage.delete_task(intent.task_id, owner);
      call("delete_task", {{"user_id", user}, {"task_id", intent.task_id}},
           deleted ? tool_result(task->id, "deleted", task->title)
                   : tool_result(intent.task_id, "not_found", std::nullopt));
      reply.response = deleted
                           ? fmt::format("I've deleted \"{}\" (task {}).", task->title, task->id)
                           : fmt::format("I couldn't find task {}.", intent.task_id);
      break;
    }

    case Intent::Kind::Update: {
      auto length = utf8_length(intent.title);
      if (length == 0 || (options.enforce_lengths && length > options.title_max)) {
        reply.response =
            fmt::format("A task title needs between 1 and {} characters; task {} is unchanged.",
                        options.title_max, intent.task_id);
        break;
      }
      auto task = storage.update_task(intent.task_id, owner, TaskChanges{intent.title, {}, {}});
      call("update_task", {{"user_id", user}, {"task_id", intent.task_id}, {"title", intent.title}},
           task ? tool_result(task->id, "updated", task->title)
                : tool_result(intent.task_id, "not_found", std::nullopt));
      reply.response = task ? fmt::format("I've renamed task {} to \"{}\".", task->id, task->title)
                            : fmt::format("I couldn't find task {}.", intent.task_id);
      break;
    }
  }
  return reply;
}

}  // namespace todo
