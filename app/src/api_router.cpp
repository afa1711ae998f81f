#include "api_router.hpp"

#include <spdlog/spdlog.h>
#include <kgate/url.hpp>

#include "chat.hpp"
#include "validation.hpp"
#include "version.hpp"

namespace todo {

using nlohmann::json;

namespace {

json task_json(const Task& t) {
  return {{"id", t.id},
          {"user_id", t.user_id},
          {"title", t.title},
          {"description", t.description ? json(*t.description) : json(nullptr)},
          {"completed", t.completed},
          {"created_at", t.created_at},
          {"updated_at", t.updated_at}};
}

Response validation_response(const ValidationErrors& errors, const Policy& policy) {
  if (errors.malformed_json && policy.has(Fault::CrashOnBadJson)) {
    return detail_response(500, "Internal Server Error");
  }
  return json_response(422, {{"detail", errors.detail}});
}

Response method_not_allowed(const char* allow) {
  auto r = detail_response(405, "Method Not Allowed");
  r.set_header("Allow", allow);
  return r;
}

Response not_found() {
  return detail_response(404, "Not Found");
}

// The lax-token-source fault: a token from wherever a client might have put it.
std::optional<std::string> token_from_anywhere(const Request& request) {
  if (auto t = bearer_token(request)) return t;
  for (const char* name : {"access_token", "token"}) {
    if (auto t = query_param(request.query, name); t && !t->empty()) return t;
  }
  if (auto h = request.header("X-Access-Token"); h && !h->empty()) return std::string(*h);
  if (auto h = request.header("Authorization")) {
    std::string_view v = *h;
    auto space = v.rfind(' ');
    if (space != std::string_view::npos) v = v.substr(space + 1);
    if (!v.empty()) return std::string(v);
  }
  return std::nullopt;
}

}  // namespace

ApiRouter::ApiRouter(Storage& storage, TokenVerifier& verifier, const Policy& policy,
                     const Lifecycle& lifecycle, BetterAuth* accounts, std::string secret)
    : storage_(storage),
      verifier_(verifier),
      policy_(policy),
      lifecycle_(lifecycle),
      accounts_(accounts),
      secret_(std::move(secret)) {}

Response ApiRouter::handle(const Request& request) {
  if (auto preflight = policy_.preflight(request)) return *preflight;
  Response response;
  if (request.body_too_large) {
    response = detail_response(413, "Request body too large");
  } else if (policy_.inject_error(request)) {
    response = detail_response(500, "Internal Server Error");
  } else if (auto limited = policy_.rate_limit(request)) {
    response = std::move(*limited);
  } else {
    try {
      response = route(request);
    } catch (const StorageError& e) {
      // The detail stays generic: SQL and driver messages belong in the log only.
      spdlog::error("database error on {} {}: {}", request.method, request.path, e.what());
      response = detail_response(500, "Internal Server Error");
    } catch (const std::exception& e) {
      spdlog::error("unhandled error on {} {}: {}", request.method, request.path, e.what());
      response = detail_response(500, "Internal Server Error");
    }
  }
  response.delay = policy_.delay_for(request);
  policy_.finish(request, response, ResponseKind::Api);
  return response;
}

Response ApiRouter::route(const Request& request) {
  auto parts = split_path(request.path);
  if (parts.size() == 1 && (parts[0] == "health" || parts[0] == "ready")) {
    if (!request.is("GET")) return method_not_allowed("GET");
    if (parts[0] == "health") {
      if (policy_.has(Fault::BadHealthBody)) return json_response(200, {{"status", "starting"}});
      return json_response(200, {{"status", "healthy"}, {"version", kVersion}});
    }
    if (lifecycle_.draining.load()) return json_response(503, {{"status", "draining"}});
    if (!storage_.ping()) return json_response(503, {{"status", "database unavailable"}});
    return json_response(200, {{"status", "ready"}});
  }

  if (parts.size() < 3 || parts[0] != "api" || parts[1].empty()) return not_found();
  if (parts.size() == 3 && parts[1] == "auth" && accounts_) {
    if (parts[2] != "register" && parts[2] != "login") return not_found();
    if (request.method != "POST") return method_not_allowed("POST");
    return parts[2] == "register" ? accounts_->register_account(request)
                                  : accounts_->login_hs256(request, secret_);
  }
  const std::string& url_user = parts[1];
  const std::string& resource = parts[2];

  // Route first (404/405 need no token, like FastAPI), then authenticate.
  enum class Route { Tasks, Task, Complete, Chat, Messages };
  Route which = Route::Tasks;
  if (resource == "tasks" && parts.size() == 3) {
    if (!request.is("GET") && request.method != "POST") return method_not_allowed("GET, POST");
    which = Route::Tasks;
  } else if (resource == "tasks" && parts.size() == 4) {
    if (!request.is("GET") && request.method != "PUT" && request.method != "DELETE") {
      return method_not_allowed("GET, PUT, DELETE");
    }
    which = Route::Task;
  } else if (resource == "tasks" && parts.size() == 5 && parts[4] == "complete") {
    if (request.method != "PATCH") return method_not_allowed("PATCH");
    which = Route::Complete;
  } else if (resource == "chat" && parts.size() == 3) {
    if (request.method != "POST") return method_not_allowed("POST");
    which = Route::Chat;
  } else if (resource == "conversations" && parts.size() == 5 && parts[4] == "messages") {
    if (!request.is("GET")) return method_not_allowed("GET");
    which = Route::Messages;
  } else {
    return not_found();
  }

  // Authentication: the token's subject must be the URL's user.
  auto token =
      policy_.has(Fault::LaxTokenSource) ? token_from_anywhere(request) : bearer_token(request);
  AuthResult auth;
  if (token) auth = verifier_.verify(*token);
  if (!auth.ok) {
    if (!policy_.has(Fault::NoAuth)) {
      spdlog::debug("refused token on {}: {}", request.path, token ? auth.error : "no token");
      auto r = detail_response(401, token ? "Could not validate credentials" : "Not authenticated");
      r.set_header("WWW-Authenticate", "Bearer");
      return r;
    }
    auth.user_id = url_user;  // no-auth: whoever the URL names
  }
  if (auth.user_id != url_user && !policy_.has(Fault::NoOwnerCheck)) {
    return detail_response(403, "Not authorized to access this user's resources");
  }

  switch (which) {
    case Route::Tasks:
      return tasks_collection(request, url_user);
    case Route::Task:
      return task_item(request, url_user, parts[3], false);
    case Route::Complete:
      return task_item(request, url_user, parts[3], true);
    case Route::Chat:
      return chat(request, url_user);
    case Route::Messages:
      return conversation_messages(request, url_user, parts[3]);
  }
  return not_found();
}

Response ApiRouter::tasks_collection(const Request& request, const std::string& user) {
  if (request.is("GET")) {
    ValidationErrors errors;
    StatusFilter status = StatusFilter::All;
    SortOrder sort = SortOrder::Created;
    if (auto s = query_param(request.query, "status")) {
      if (*s == "pending") {
        status = StatusFilter::Pending;
      } else if (*s == "completed") {
        status = StatusFilter::Completed;
      } else if (*s != "all") {
        errors.add("enum", json::array({"query", "status"}),
                   "Input should be 'all', 'pending' or 'completed'",
                   {{"expected", "'all', 'pending' or 'completed'"}});
      }
    }
    if (auto s = query_param(request.query, "sort")) {
      // Tasks have no due date here: due_date sorts like created.
      if (*s == "title") {
        sort = SortOrder::Title;
      } else if (*s != "created" && *s != "due_date") {
        errors.add("enum", json::array({"query", "sort"}),
                   "Input should be 'created', 'title' or 'due_date'",
                   {{"expected", "'created', 'title' or 'due_date'"}});
      }
    }
    if (!errors.empty()) return validation_response(errors, policy_);
    json out = json::array();
    for (const auto& t : storage_.list_tasks(user, status, sort)) out.push_back(task_json(t));
    return json_response(200, out);
  }

  auto body = parse_json_body(request.body);
  if (auto* errors = std::get_if<ValidationErrors>(&body))
    return validation_response(*errors, policy_);
  auto input = validate_new_task(std::get<json>(body), !policy_.has(Fault::NoValidation));
  if (auto* errors = std::get_if<ValidationErrors>(&input))
    return validation_response(*errors, policy_);
  std::string owner = user;
  if (policy_.has(Fault::MassAssignment)) {
    // The fault: the request model binds every field, the owner included.
    const auto& raw = std::get<json>(body);
    if (raw.contains("user_id") && raw["user_id"].is_string()) owner = raw["user_id"];
  }
  auto task = storage_.create_task(owner, std::get<NewTask>(input));
  auto r = json_response(201, task_json(task));
  r.set_header("Location",
               "/api/" + kgate::url_encode_segment(user) + "/tasks/" + std::to_string(task.id));
  return r;
}

Response ApiRouter::task_item(const Request& request, const std::string& user,
                              const std::string& id_text, bool complete) {
  auto parsed = parse_path_id(id_text, "task_id");
  if (auto* errors = std::get_if<ValidationErrors>(&parsed))
    return validation_response(*errors, policy_);
  auto id = std::get<std::optional<std::int64_t>>(parsed);
  Owner owner = policy_.has(Fault::NoOwnerCheck) ? Owner() : Owner(user);
  auto task_not_found = [] { return detail_response(404, "Task not found"); };

  if (complete) {
    if (!id) return task_not_found();
    auto task = policy_.has(Fault::BrokenToggle) ? storage_.get_task(*id, owner)
                                                 : storage_.toggle_task(*id, owner);
    return task ? json_response(200, task_json(*task)) : task_not_found();
  }
  if (request.is("GET")) {
    if (!id) return task_not_found();
    auto task = storage_.get_task(*id, owner);
    return task ? json_response(200, task_json(*task)) : task_not_found();
  }
  if (request.method == "DELETE") {
    if (!id || !storage_.delete_task(*id, owner)) return task_not_found();
    Response r;
    r.status = 204;
    return r;
  }
  // PUT: the body is validated before the task is looked up, as FastAPI does.
  auto body = parse_json_body(request.body);
  if (auto* errors = std::get_if<ValidationErrors>(&body))
    return validation_response(*errors, policy_);
  auto changes = validate_task_changes(std::get<json>(body), !policy_.has(Fault::NoValidation));
  if (auto* errors = std::get_if<ValidationErrors>(&changes))
    return validation_response(*errors, policy_);
  if (!id) return task_not_found();
  auto task = storage_.update_task(*id, owner, std::get<TaskChanges>(changes));
  return task ? json_response(200, task_json(*task)) : task_not_found();
}

Response ApiRouter::chat(const Request& request, const std::string& user) {
  auto body = parse_json_body(request.body);
  if (auto* errors = std::get_if<ValidationErrors>(&body))
    return validation_response(*errors, policy_);
  auto parsed = validate_chat(std::get<json>(body));
  if (auto* errors = std::get_if<ValidationErrors>(&parsed))
    return validation_response(*errors, policy_);
  const auto& input = std::get<ChatInput>(parsed);

  Conversation conversation;
  if (input.conversation_id) {
    auto found = storage_.get_conversation(*input.conversation_id, user);
    if (!found) return detail_response(404, "Conversation not found");
    conversation = *found;
  } else {
    conversation = storage_.create_conversation(user);
  }
  storage_.add_message(conversation.id, user, "user", input.message);
  ChatOptions options;
  options.owner_check = !policy_.has(Fault::NoOwnerCheck);
  options.tools_enabled = !policy_.has(Fault::ChatNoTool);
  options.enforce_lengths = !policy_.has(Fault::NoValidation);
  auto reply = run_chat(storage_, user, input.message, options);
  storage_.add_message(conversation.id, user, "assistant", reply.response);
  return json_response(200, {{"conversation_id", conversation.id},
                             {"response", reply.response},
                             {"tool_calls", reply.tool_calls}});
}

Response ApiRouter::conversation_messages(const Request& /*request*/, const std::string& user,
                                          const std::string& id_text) {
  auto parsed = parse_path_id(id_text, "conversation_id");
  if (auto* errors = std::get_if<ValidationErrors>(&parsed))
    return validation_response(*errors, policy_);
  auto id = std::get<std::optional<std::int64_t>>(parsed);
  if (!id || !storage_.get_conversation(*id, user)) {
    return detail_response(404, "Conversation not found");
  }
  json out = json::array();
  for (const auto& m : storage_.list_messages(*id)) {
    out.push_back({{"id", m.id},
                   {"conversation_id", m.conversation_id},
                   {"role", m.role},
                   {"content", m.content},
                   {"created_at", m.created_at}});
  }
  return json_response(200, out);
}

}  // namespace todo
