#include "validation.hpp"

#include <charconv>

#include "message.hpp"

namespace todo {

using nlohmann::json;

void ValidationErrors::add(std::string type, json loc, std::string msg, json ctx) {
  json e = {{"type", std::move(type)}, {"loc", std::move(loc)}, {"msg", std::move(msg)}};
  if (!ctx.is_null()) e["ctx"] = std::move(ctx);
  detail.push_back(std::move(e));
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

Validated<json> parse_json_body(std::string_view body) {
  ValidationErrors errors;
  if (trim(body).empty()) {
    errors.add("missing", json::array({"body"}), "Field required");
    return errors;
  }
  // allow_exceptions=false: a parse failure yields a discarded value instead of throwing.
  json value = json::parse(body, nullptr, false);
  if (value.is_discarded()) {
    errors.malformed_json = true;
    errors.add("json_invalid", json::array({"body", 0}), "JSON decode error",
               {{"error", "Expecting value"}});
    return errors;
  }
  return value;
}

namespace {

bool require_object(const json& body, ValidationErrors& errors) {
  if (body.is_object()) return true;
  errors.add("model_attributes_type", json::array({"body"}),
             "Input should be a valid dictionary or object to extract fields from");
  return false;
}

void check_length(const std::string& value, const char* field, std::size_t min, std::size_t max,
                  ValidationErrors& errors) {
  auto n = utf8_length(value);
  if (n < min) {
    errors.add(
        "string_too_short", json::array({"body", field}),
        "String should have at least " + std::to_string(min) + " character" + (min == 1 ? "" : "s"),
        {{"min_length", min}});
  } else if (n > max) {
    errors.add("string_too_long", json::array({"body", field}),
               "String should have at most " + std::to_string(max) + " characters",
               {{"max_length", max}});
  }
}

std::optional<std::string> string_field(const json& body, const char* field, bool required,
                                        std::size_t min, std::size_t max, bool enforce,
                                        ValidationErrors& errors) {
  auto it = body.find(field);
  if (it == body.end()) {
    if (required) errors.add("missing", json::array({"body", field}), "Field required");
    return std::nullopt;
  }
  if (!it->is_string()) {
    errors.add("string_type", json::array({"body", field}), "Input should be a valid string");
    return std::nullopt;
  }
  auto value = it->get<std::string>();
  if (enforce) check_length(value, field, min, max, errors);
  return value;
}

// description: absent -> nullopt, null -> optional(nullopt), string -> optional(string).
std::optional<std::optional<std::string>> description_field(const json& body, bool enforce,
                                                            ValidationErrors& errors) {
  auto it = body.find("description");
  if (it == body.end()) return std::nullopt;
  if (it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    errors.add("string_type", json::array({"body", "description"}),
               "Input should be a valid string");
    return std::nullopt;
  }
  auto value = it->get<std::string>();
  if (enforce) check_length(value, "description", 0, kDescriptionMax, errors);
  return std::optional<std::string>(value);
}

std::optional<bool> bool_field(const json& body, const char* field, ValidationErrors& errors) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) {
    errors.add("bool_type", json::array({"body", field}), "Input should be a valid boolean");
    return std::nullopt;
  }
  return it->get<bool>();
}

}  // namespace

Validated<NewTask> validate_new_task(const json& body, bool enforce_lengths) {
  ValidationErrors errors;
  if (!require_object(body, errors)) return errors;
  NewTask task;
  auto title = string_field(body, "title", true, 1, kTitleMax, enforce_lengths, errors);
  auto description = description_field(body, enforce_lengths, errors);
  auto completed = bool_field(body, "completed", errors);
  if (!errors.empty()) return errors;
  task.title = *title;
  if (description) task.description = *description;
  task.completed = completed.value_or(false);
  return task;
}

Validated<TaskChanges> validate_task_changes(const json& body, bool enforce_lengths) {
  ValidationErrors errors;
  if (!require_object(body, errors)) return errors;
  TaskChanges changes;
  // A null title means "unchanged" (the usual Optional[str] = None update model).
  if (auto it = body.find("title"); it != body.end() && !it->is_null()) {
    changes.title = string_field(body, "title", false, 1, kTitleMax, enforce_lengths, errors);
  }
  changes.description = description_field(body, enforce_lengths, errors);
  changes.completed = bool_field(body, "completed", errors);
  if (!errors.empty()) return errors;
  return changes;
}

Validated<ChatInput> validate_chat(const json& body) {
  ValidationErrors errors;
  if (!require_object(body, errors)) return errors;
  ChatInput input;
  if (auto it = body.find("conversation_id"); it != body.end() && !it->is_null()) {
    if (it->is_number_integer()) {
      input.conversation_id = it->get<std::int64_t>();
    } else {
      errors.add("int_type", json::array({"body", "conversation_id"}),
                 "Input should be a valid integer");
    }
  }
  auto message = string_field(body, "message", true, 1, 10000, true, errors);
  if (!errors.empty()) return errors;
  input.message = *message;
  return input;
}

Validated<std::optional<std::int64_t>> parse_path_id(std::string_view text, std::string_view name) {
  std::string_view digits = text;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  bool numeric =
      !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (!numeric) {
    ValidationErrors errors;
    errors.add("int_parsing", json::array({"path", name}),
               "Input should be a valid integer, unable to parse string as an integer");
    return errors;
  }
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data() + (text.front() == '+' ? 1 : 0),
                                   text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return std::optional<std::int64_t>();
  }
  return std::optional<std::int64_t>(value);
}

}  // namespace todo
