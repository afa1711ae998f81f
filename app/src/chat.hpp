#pragma once
// The chat agent: a deterministic interpreter of the contract's phrasings ("Add a task to buy
// groceries", "What's pending?", "Mark task 3 as complete", ...) that calls the same tools an
// LLM agent would (add_task, list_tasks, complete_task, delete_task, update_task).
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "storage.hpp"

namespace todo {

struct Intent {
  enum class Kind { None, Add, List, Complete, Delete, Update } kind = Kind::None;
  std::string title;                        // Add, Update
  std::int64_t task_id = 0;                 // Complete, Delete, Update
  StatusFilter filter = StatusFilter::All;  // List
};

// Pure: no storage access, so it can be tested on its own.
Intent interpret(std::string_view message);

struct ChatReply {
  std::string response;
  nlohmann::json tool_calls = nlohmann::json::array();
};

struct ChatOptions {
  bool owner_check = true;      // false: the no-owner-check fault
  bool tools_enabled = true;    // false: the chat-no-tool fault
  bool enforce_lengths = true;  // false: the no-validation fault
  std::size_t title_max = 200;  // --title-max
};

// Interprets the message and runs the tool for `user`. Throws StorageError on database failure.
ChatReply run_chat(Storage& storage, const std::string& user, std::string_view message,
                   const ChatOptions& options);

}  // namespace todo
