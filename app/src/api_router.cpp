#include "api_router.hpp"

#include <spdlog/spdlog.h>
#include <kgate/url.hpp>

#include "chat.hpp"
#include "openapi.hpp"
#include "version.hpp"

namespace todo {

using nlohmann::json;

namespace {

// The debug-routes fault's stand-in for the deployment's database URL, password included.
constexpr const char* kDebugDatabaseUrl =
    "postgresql://todo_admin:Tod0-Db-Passw0rd@postgres.todo.svc.cluster.local:5432/todo";

Response method_not_allowed(const char* allow) {
  auto r = detail_response(405, "Method Not Allowed");
  r.set_header("Allow", allow);
  return r;
}

Response not_found() {
  return detail_response(404, "Not Found");
}

Response internal_error() {
  return detail_response(500, "Internal Server Error");
}

// What a FastAPI app whose validation handler json.dumps() the raw body answers (bytes-error).
Response bytes_error() {
  return json_response(
      500, {{"type", "TypeError"}, {"message", "Object of type bytes is not JSON serializable"}});
}

bool is_json(std::string_view body) {
  return !json::parse(body, nullptr, false).is_discarded();
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

std::string first_chars(const std::string& s, std::size_t n) {
  return s.substr(0, std::min(n, s.size()));
}

std::string last_chars(const std::string& s, std::size_t n) {
  return s.substr(s.size() - std::min(n, s.size()));
}

}  // namespace

ApiRouter::ApiRouter(Storage& storage, TokenVerifier& verifier, const Policy& policy,
                     const Lifecycle& lifecycle, ApiSettings settings)
    : storage_(storage),
      verifier_(verifier),
      policy_(policy),
      lifecycle_(lifecycle),
      settings_(std::move(settings)) {
  if (settings_.drift.rate_limit) {
    limiter_ = std::make_unique<FixedWindowLimiter>(*settings_.drift.rate_limit);
  }
  openapi_ = openapi_document(settings_.drift,
                              {settings_.accounts != nullptr, policy_.has(Fault::DebugRoutes)})
                 .dump();
}

Response ApiRouter::handle(const Request& request) {
  if (auto preflight = policy_.preflight(request)) return *preflight;
  Response response;
  if (request.body_too_large) {
    response =
        settings_.drift.body_limit_status == 422
            ? json_response(422, {{"detail", json::array({{{"type", "value_error"},
                                                           {"loc", json::array({"body"})},
                                                           {"msg", "Request body too large"}}})}})
            : detail_response(413, "Request body too large");
  } else if (warming_up(request)) {
    response = detail_response(503, "Service Unavailable");
  } else if (policy_.inject_error(request)) {
    response = internal_error();
  } else if (auto limited = policy_.rate_limit(request)) {
    response = std::move(*limited);
  } else if (auto over = client_limit(request)) {
    response = std::move(*over);
  } else {
    try {
      response = route(request);
    } catch (const IntegrityError& e) {
      spdlog::error("database integrity error on {} {}: {}", request.method, request.path,
                    e.what());
      // As generic as any database error, unless the app is leaky: then the driver's words.
      response = policy_.has(Fault::LeakyErrors)
                     ? detail_response(
                           500, "sqlalchemy.exc.IntegrityError: (" + e.driver() + ") " + e.what())
                     : internal_error();
    } catch (const StorageError& e) {
      // The detail stays generic: SQL and driver messages belong in the log only.
      spdlog::error("database error on {} {}: {}", request.method, request.path, e.what());
      response = internal_error();
    } catch (const std::exception& e) {
      spdlog::error("unhandled error on {} {}: {}", request.method, request.path, e.what());
      response = internal_error();
    }
  }
  response.delay = policy_.delay_for(request);
  policy_.finish(request, response, ResponseKind::Api);
  return response;
}

bool ApiRouter::warming_up(const Request& request) const {
  return policy_.has(Fault::LyingReadiness) && is_api_request(request.path) &&
         std::chrono::steady_clock::now() - lifecycle_.started < policy_.faults().warmup;
}

std::optional<Response> ApiRouter::client_limit(const Request& request) {
  if (!limiter_ || !is_api_request(request.path)) return std::nullopt;
  // Per user when the token says who it is, else per address (login, register, bad tokens).
  std::string client = "peer:" + request.remote;
  if (auto token = bearer_token(request)) {
    if (auto auth = verifier_.verify(*token); auth.ok) client = "user:" + auth.user_id;
  }
  auto decision = limiter_->admit(client);
  if (decision.allowed) return std::nullopt;
  auto r = detail_response(429, "Rate limit exceeded: " + limiter_->limit().text);
  r.set_header("Retry-After", std::to_string(decision.retry_after.count()));
  return r;
}

Response ApiRouter::validation_response(const ValidationErrors& errors) const {
  if (errors.malformed_json && policy_.has(Fault::BytesError)) return bytes_error();
  if (errors.malformed_json && policy_.has(Fault::CrashOnBadJson)) return internal_error();
  return json_response(422, {{"detail", errors.detail}});
}

TaskRules ApiRouter::task_rules() const {
  TaskRules rules;
  rules.enforce_lengths = !policy_.has(Fault::NoValidation);
  rules.title_max = settings_.drift.title_max;
  rules.description_max = settings_.drift.description_max;
  rules.lax_types = settings_.drift.lax_types;
  rules.status_field = settings_.drift.task_schema == TaskSchema::Status;
  return rules;
}

json ApiRouter::task_json(const Task& t) const {
  json out = {{"id", t.id},
              {"user_id", t.user_id},
              {"title", t.title},
              {"description", t.description ? json(*t.description) : json(nullptr)}};
  if (settings_.drift.task_schema == TaskSchema::Status) {
    out["status"] = t.completed ? "completed" : "pending";
  } else {
    out["completed"] = t.completed;
  }
  out["created_at"] = t.created_at;
  out["updated_at"] = t.updated_at;
  return out;
}

Response ApiRouter::route(const Request& request) {
  auto parts = split_path(request.path);
  if (parts.size() == 1 && parts[0] == "openapi.json") {
    if (!request.is("GET")) return method_not_allowed("GET");
    Response r;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = openapi_;
    return r;
  }
  if (parts.size() == 2 && parts[0] == "debug" && policy_.has(Fault::DebugRoutes)) {
    return debug_route(request, parts[1]);
  }
  if (parts.size() == 1 && (parts[0] == "health" || parts[0] == "ready")) {
    if (!request.is("GET")) return method_not_allowed("GET");
    if (parts[0] == "health") {
      if (policy_.has(Fault::BadHealthBody)) return json_response(200, {{"status", "starting"}});
      return json_response(200, {{"status", "healthy"}, {"version", kVersion}});
    }
    if (lifecycle_.draining.load()) return json_response(503, {{"status", "draining"}});
    // lying-readiness: ready from the first moment, whatever the app can do.
    if (policy_.has(Fault::LyingReadiness)) return json_response(200, {{"status", "ready"}});
    if (!storage_.ping()) return json_response(503, {{"status", "database unavailable"}});
    if (settings_.replica_lock && !settings_.replica_lock->held())
      return json_response(503, {{"status", "waiting for the replica lock"}});
    return json_response(200, {{"status", "ready"}});
  }

  if (parts.size() < 3 || parts[0] != "api" || parts[1].empty()) return not_found();
  if (parts.size() == 3 && parts[1] == "auth" && settings_.accounts) {
    return auth_route(request, parts[2]);
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
      if (policy_.has(Fault::Auth500)) {
        // The fault: the token dependency crashes instead of raising 401.
        spdlog::error("auth-500 fault: token check failed on {} with an exception", request.path);
        return internal_error();
      }
      auto r = detail_response(401, token ? "Could not validate credentials" : "Not authenticated");
      r.set_header("WWW-Authenticate", "Bearer");
      return r;
    }
    auth.user_id = url_user;  // no-auth: whoever the URL names
  }
  std::string user = url_user;
  if (settings_.drift.user_id_format == UserIdFormat::Uuid) {
    // FastAPI's `user_id: UUID` path parameter, and a UUID(sub) in the token dependency.
    auto path_uuid = canonical_uuid(url_user);
    if (!path_uuid)
      return validation_response(uuid_error(json::array({"path", "user_id"}), url_user));
    auto subject_uuid = canonical_uuid(auth.user_id);
    if (!subject_uuid) {
      return validation_response(uuid_error(json::array({"token", "sub"}), auth.user_id));
    }
    user = *path_uuid;
    auth.user_id = *subject_uuid;
  }
  if (auth.user_id != user && !policy_.has(Fault::NoOwnerCheck)) {
    return detail_response(403, "Not authorized to access this user's resources");
  }

  switch (which) {
    case Route::Tasks:
      return tasks_collection(request, user);
    case Route::Task:
      return task_item(request, user, parts[3], false);
    case Route::Complete:
      return task_item(request, user, parts[3], true);
    case Route::Chat:
      return chat(request, user);
    case Route::Messages:
      return conversation_messages(request, user, parts[3]);
  }
  return not_found();
}

Response ApiRouter::auth_route(const Request& request, const std::string& action) {
  if (action != "register" && action != "login") return not_found();
  if (request.method != "POST") return method_not_allowed("POST");
  if (action == "register") {
    if (policy_.has(Fault::BrokenRegister)) {
      spdlog::error("broken-register fault: register failed");
      return internal_error();
    }
    if (policy_.has(Fault::BytesError) && !is_json(request.body)) return bytes_error();
    return settings_.accounts->register_account(request);
  }
  if (!settings_.drift.login_form && policy_.has(Fault::BytesError) && !is_json(request.body)) {
    return bytes_error();
  }
  return settings_.accounts->login_hs256(request, settings_.secret, settings_.drift.login_form);
}

Response ApiRouter::debug_route(const Request& request, const std::string& action) {
  const std::string& secret = settings_.secret;
  if (action == "config") {
    if (!request.is("GET")) return method_not_allowed("GET");
    // The fault: a debugging aid left in, answering anyone with hints of the key material.
    return json_response(200, {{"debug", true},
                               {"environment", "development"},
                               {"jwt_algorithm", "HS256"},
                               {"secret_key_length", secret.size()},
                               {"secret_key_first_chars", first_chars(secret, 4)},
                               {"secret_key_last_chars", last_chars(secret, 4)},
                               {"database_url", kDebugDatabaseUrl}});
  }
  if (action == "verify-token") {
    if (request.method != "POST") return method_not_allowed("POST");
    auto body = parse_json_body(request.body);
    if (auto* errors = std::get_if<ValidationErrors>(&body)) return validation_response(*errors);
    const auto& value = std::get<json>(body);
    if (!value.is_object() || !value.contains("token") || !value["token"].is_string()) {
      ValidationErrors errors;
      errors.add("missing", json::array({"body", "token"}), "Field required");
      return validation_response(errors);
    }
    // The fault: an oracle that checks any token with the app's own key, for anyone.
    auto result = verifier_.verify(value["token"].get<std::string>());
    if (!result.ok) return json_response(200, {{"valid", false}, {"error", result.error}});
    return json_response(200, {{"valid", true}, {"claims", result.payload}});
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
    if (!errors.empty()) return validation_response(errors);
    json out = json::array();
    for (const auto& t : storage_.list_tasks(user, status, sort)) out.push_back(task_json(t));
    return json_response(200, out);
  }

  auto body = parse_json_body(request.body);
  if (auto* errors = std::get_if<ValidationErrors>(&body)) return validation_response(*errors);
  auto input = validate_new_task(std::get<json>(body), task_rules());
  if (auto* errors = std::get_if<ValidationErrors>(&input)) return validation_response(*errors);
  if (policy_.has(Fault::CreateFails)) {
    spdlog::error("create-fails fault: the task for {} was not stored", user);
    return internal_error();
  }
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
  if (auto* errors = std::get_if<ValidationErrors>(&parsed)) return validation_response(*errors);
  auto id = std::get<std::optional<std::int64_t>>(parsed);
  if (!id && policy_.has(Fault::IntOverflow)) {
    // The fault: the id goes to the database driver as a C long and overflows there.
    spdlog::error("int-overflow fault: task id {} overflowed", id_text);
    return detail_response(500, "OverflowError: Python int too large to convert to C long");
  }
  Owner owner = policy_.has(Fault::NoOwnerCheck) ? Owner() : Owner(user);
  auto task_not_found = [] { return detail_response(404, "Task not found"); };

  if (complete) {
    if (!id) return task_not_found();
    std::optional<Task> task;
    if (policy_.has(Fault::BrokenToggle)) {
      task = storage_.get_task(*id, owner);
    } else if (settings_.drift.task_schema == TaskSchema::Status) {
      task = storage_.update_task(*id, owner, TaskChanges{{}, {}, true});  // sets, idempotent
    } else {
      task = storage_.toggle_task(*id, owner);
    }
    return task ? json_response(200, task_json(*task)) : task_not_found();
  }
  if (request.is("GET")) {
    if (!id) return task_not_found();
    auto task = storage_.get_task(*id, owner);
    return task ? json_response(200, task_json(*task)) : task_not_found();
  }
  if (request.method == "DELETE") {
    if (!id) return task_not_found();
    if (policy_.has(Fault::DeleteFails)) {
      if (!storage_.get_task(*id, owner)) return task_not_found();
      spdlog::error("delete-fails fault: task {} was not deleted", *id);
      return internal_error();
    }
    if (!storage_.delete_task(*id, owner)) return task_not_found();
    Response r;
    r.status = 204;
    return r;
  }
  // PUT: the body is validated before the task is looked up, as FastAPI does.
  auto body = parse_json_body(request.body);
  if (auto* errors = std::get_if<ValidationErrors>(&body)) return validation_response(*errors);
  auto changes = validate_task_changes(std::get<json>(body), task_rules());
  if (auto* errors = std::get_if<ValidationErrors>(&changes)) return validation_response(*errors);
  if (!id) return task_not_found();
  auto task = storage_.update_task(*id, owner, std::get<TaskChanges>(changes));
  return task ? json_response(200, task_json(*task)) : task_not_found();
}

Response ApiRouter::chat(const Request& request, const std::string& user) {
  auto body = parse_json_body(request.body);
  if (auto* errors = std::get_if<ValidationErrors>(&body)) return validation_response(*errors);
  auto parsed = validate_chat(std::get<json>(body));
  if (auto* errors = std::get_if<ValidationErrors>(&parsed)) return validation_response(*errors);
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
  options.title_max = settings_.drift.title_max;
  auto reply = run_chat(storage_, user, input.message, options);
  storage_.add_message(conversation.id, user, "assistant", reply.response);
  if (settings_.drift.chat_reply == ChatReplyShape::Text) {
    return json_response(200, {{"response", reply.response}});
  }
  return json_response(200, {{"conversation_id", conversation.id},
                             {"response", reply.response},
                             {"tool_calls", reply.tool_calls}});
}

Response ApiRouter::conversation_messages(const Request& /*request*/, const std::string& user,
                                          const std::string& id_text) {
  auto parsed = parse_path_id(id_text, "conversation_id");
  if (auto* errors = std::get_if<ValidationErrors>(&parsed)) return validation_response(*errors);
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
