#pragma once
// Request body validation with FastAPI/pydantic's 422 shape:
// {"detail":[{"type":"string_too_long","loc":["body","title"],"msg":"...","ctx":{...}}]}.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "storage.hpp"

namespace todo {

struct ValidationErrors {
  nlohmann::json detail = nlohmann::json::array();
  bool malformed_json = false;  // the body was not JSON at all (vs. wrong fields)
  bool empty() const { return detail.empty(); }
  void add(std::string type, nlohmann::json loc, std::string msg, nlohmann::json ctx = nullptr);
};

template <typename T>
using Validated = std::variant<T, ValidationErrors>;

// Unicode code points in UTF-8 text (pydantic counts characters, not bytes).
std::size_t utf8_length(std::string_view s);

inline constexpr std::size_t kTitleMax = 200;
inline constexpr std::size_t kDescriptionMax = 1000;

Validated<nlohmann::json> parse_json_body(std::string_view body);
// enforce_lengths=false is the no-validation fault.
Validated<NewTask> validate_new_task(const nlohmann::json& body, bool enforce_lengths);
Validated<TaskChanges> validate_task_changes(const nlohmann::json& body, bool enforce_lengths);

struct ChatInput {
  std::optional<std::int64_t> conversation_id;
  std::string message;
};
Validated<ChatInput> validate_chat(const nlohmann::json& body);

// A path parameter that must be an integer ("abc" -> 422 int_parsing). nullopt with no errors
// means a well-formed integer that cannot exist (out of range): the caller answers 404.
Validated<std::optional<std::int64_t>> parse_path_id(std::string_view text, std::string_view name);

}  // namespace todo
