#pragma once
// Drift options: ways real backends differ from the contract while staying correct (UUID user
// ids, form login, a status field, their own limits, ...). Unlike faults they make no defect;
// they let kgate's profile keys be tested against an app that drifts the same way.
#include <cstddef>
#include <optional>

#include "rate_limit.hpp"

namespace todo {

enum class UserIdFormat { Any, Uuid };
enum class TaskSchema { Completed, Status };  // `completed: bool` or `status: pending|completed`
enum class ChatReplyShape { Full, Text };  // {conversation_id, response, tool_calls} or {response}

struct Drift {
  UserIdFormat user_id_format = UserIdFormat::Any;
  bool login_form = false;                // /api/auth/login takes an OAuth2 password form
  bool strict_email = false;              // register refuses special-use domains (422)
  bool require_registered_users = false;  // tasks and chat need a row in the users table
  TaskSchema task_schema = TaskSchema::Completed;
  std::size_t title_max = 200;
  std::size_t description_max = 1000;
  ChatReplyShape chat_reply = ChatReplyShape::Full;
  std::optional<RateLimit> rate_limit;  // fixed window over /api/*, per client
  int body_limit_status = 413;          // or 422
  bool lax_types = false;               // pydantic lax mode: "yes"/"1"/1 -> true
};

}  // namespace todo
