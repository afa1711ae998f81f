#include "validation.hpp"

#include <cctype>
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
                                                            std::size_t max,
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
  if (enforce) check_length(value, "description", 0, max, errors);
  return std::optional<std::string>(value);
}

// pydantic's lax bool: true/false, 0/1, and the strings it knows; anything else is refused.
std::optional<bool> lax_bool(const json& value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer() || value.is_number_float()) {
    double d = value.get<double>();
    if (d == 0.0) return false;
    if (d == 1.0) return true;
    return std::nullopt;
  }
  if (!value.is_string()) return std::nullopt;
  auto text = to_lower(value.get<std::string>());
  for (const char* yes : {"1", "on", "t", "true", "y", "yes"}) {
    if (text == yes) return true;
  }
  for (const char* no : {"0", "off", "f", "false", "n", "no"}) {
    if (text == no) return false;
  }
  return std::nullopt;
}

std::optional<bool> bool_field(const json& body, const char* field, bool lax,
                               ValidationErrors& errors) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (it->is_boolean()) return it->get<bool>();
  if (lax) {
    if (auto coerced = lax_bool(*it)) return coerced;
    if (it->is_string()) {
      errors.add("bool_parsing", json::array({"body", field}),
                 "Input should be a valid boolean, unable to interpret input");
      return std::nullopt;
    }
  }
  errors.add("bool_type", json::array({"body", field}), "Input should be a valid boolean");
  return std::nullopt;
}

// The status schema's `status` as a completed flag.
std::optional<bool> status_field(const json& body, ValidationErrors& errors) {
  auto it = body.find("status");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (it->is_string() && *it == "pending") return false;
  if (it->is_string() && *it == "completed") return true;
  errors.add("enum", json::array({"body", "status"}), "Input should be 'pending' or 'completed'",
             {{"expected", "'pending' or 'completed'"}});
  return std::nullopt;
}

std::optional<bool> completion(const json& body, const TaskRules& rules, ValidationErrors& errors) {
  // Under the status schema `completed` is an unknown field, ignored like any other.
  return rules.status_field ? status_field(body, errors)
                            : bool_field(body, "completed", rules.lax_types, errors);
}

}  // namespace

Validated<NewTask> validate_new_task(const json& body, const TaskRules& rules) {
  ValidationErrors errors;
  if (!require_object(body, errors)) return errors;
  NewTask task;
  auto title = string_field(body, "title", true, 1, rules.title_max, rules.enforce_lengths, errors);
  auto description = description_field(body, rules.enforce_lengths, rules.description_max, errors);
  auto completed = completion(body, rules, errors);
  if (!errors.empty()) return errors;
  task.title = *title;
  if (description) task.description = *description;
  task.completed = completed.value_or(false);
  return task;
}

Validated<TaskChanges> validate_task_changes(const json& body, const TaskRules& rules) {
  ValidationErrors errors;
  if (!require_object(body, errors)) return errors;
  TaskChanges changes;
  // A null title means "unchanged" (the usual Optional[str] = None update model).
  if (auto it = body.find("title"); it != body.end() && !it->is_null()) {
    changes.title =
        string_field(body, "title", false, 1, rules.title_max, rules.enforce_lengths, errors);
  }
  changes.description =
      description_field(body, rules.enforce_lengths, rules.description_max, errors);
  changes.completed = completion(body, rules, errors);
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

namespace todo {

std::optional<std::string> canonical_uuid(std::string_view text) {
  if (text.size() > 9 && to_lower(text.substr(0, 9)) == "urn:uuid:") text.remove_prefix(9);
  if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, text.size() - 2);
  }
  std::string hex;
  if (text.size() == 36) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      bool hyphen_place = i == 8 || i == 13 || i == 18 || i == 23;
      if (hyphen_place != (text[i] == '-')) return std::nullopt;
      if (!hyphen_place) hex.push_back(text[i]);
    }
  } else if (text.size() == 32) {
    hex = std::string(text);
  } else {
    return std::nullopt;
  }
  for (char& c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

ValidationErrors uuid_error(json loc, std::string_view input) {
  ValidationErrors errors;
  std::string reason = input.size() == 36 || input.size() == 32
                           ? "invalid character: expected an optional prefix of `urn:uuid:` "
                             "followed by [0-9a-fA-F-]"
                           : "invalid length: expected length 32 for simple format";
  errors.add("uuid_parsing", std::move(loc), "Input should be a valid UUID, " + reason,
             {{"error", reason}});
  errors.detail.back()["input"] = std::string(input);
  return errors;
}

std::optional<std::string> email_refusal(std::string_view email, bool strict) {
  auto at = email.rfind('@');
  if (at == std::string_view::npos) {
    return "An email address must have an @-sign.";
  }
  if (at == 0) return "There must be something before the @-sign.";
  auto domain = to_lower(email.substr(at + 1));
  if (domain.empty()) return "There must be something after the @-sign.";
  if (domain.find('.') == std::string::npos) {
    return "The part after the @-sign is not valid. It should have a period.";
  }
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string::npos) {
    return "An email address cannot have a period immediately after the @-sign.";
  }
  if (!strict) return std::nullopt;
  // RFC 6761 special-use names and the ones email-validator refuses as reserved.
  static const char* const kSpecialUse[] = {"test",  "example", "invalid", "localhost",
                                            "local", "onion",   "arpa"};
  for (const char* name : kSpecialUse) {
    std::string suffix = std::string(".") + name;
    if (domain == name || (domain.size() > suffix.size() && domain.ends_with(suffix))) {
      return "The part after the @-sign is a special-use or reserved name that cannot be used "
             "with email.";
    }
  }
  return std::nullopt;
}

}  // namespace todo
