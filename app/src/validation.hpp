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

// The contract's limits (--title-max and --description-max change them).
inline constexpr std::size_t kTitleMax = 200;
inline constexpr std::size_t kDescriptionMax = 1000;

// How task bodies are judged.
struct TaskRules {
  bool enforce_lengths = true;  // false: the no-validation fault
  std::size_t title_max = kTitleMax;
  std::size_t description_max = kDescriptionMax;
  bool lax_types = false;     // pydantic lax mode for `completed` (--lax-types)
  bool status_field = false;  // `status: pending|completed` instead of `completed`
};

Validated<nlohmann::json> parse_json_body(std::string_view body);
Validated<NewTask> validate_new_task(const nlohmann::json& body, const TaskRules& rules = {});
Validated<TaskChanges> validate_task_changes(const nlohmann::json& body,
                                             const TaskRules& rules = {});

struct ChatInput {
  std::optional<std::int64_t> conversation_id;
  std::string message;
};
Validated<ChatInput> validate_chat(const nlohmann::json& body);

// A path parameter that must be an integer ("abc" -> 422 int_parsing). nullopt with no errors
// means a well-formed integer that cannot exist (out of range): the caller answers 404.
Validated<std::optional<std::int64_t>> parse_path_id(std::string_view text, std::string_view name);

// A UUID in canonical form (lowercase, hyphenated) from the hyphenated or 32-hex-digit spelling,
// optionally in braces or with a urn:uuid: prefix, as Python's uuid.UUID reads it.
std::optional<std::string> canonical_uuid(std::string_view text);
// pydantic's 422 for a value that is not a UUID, at `loc`.
ValidationErrors uuid_error(nlohmann::json loc, std::string_view input);

// Why an e-mail address is refused, in email-validator's words, or nullopt when it is fine.
// `strict` adds the special-use/reserved domain rule (.test, .example, ...).
std::optional<std::string> email_refusal(std::string_view email, bool strict);

}  // namespace todo
