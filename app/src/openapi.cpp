#include "openapi.hpp"

#include <string>
#include <vector>

#include "version.hpp"

namespace todo {

using nlohmann::json;

namespace {

struct Operation {
  const char* method;  // lower case, as OpenAPI keys them
  const char* path;
  const char* summary;
  const char* operation_id;
  bool secured;
  enum class Body { None, Json, Form } body = Body::None;
  bool list_query = false;  // ?status= and &sort=
};

json path_parameter(const char* name, json schema) {
  return {{"name", name}, {"in", "path"}, {"required", true}, {"schema", std::move(schema)}};
}

json query_enum(const char* name, std::vector<std::string> values, const char* fallback) {
  return {{"name", name},
          {"in", "query"},
          {"required", false},
          {"schema", {{"type", "string"}, {"enum", values}, {"default", fallback}}}};
}

}  // namespace

json openapi_document(const Drift& drift, const OpenApiRoutes& routes) {
  using Body = Operation::Body;
  std::vector<Operation> ops = {
      {"get", "/health", "Health", "health_health_get", false},
      {"get", "/ready", "Ready", "ready_ready_get", false},
  };
  if (routes.accounts) {
    ops.push_back({"post", "/api/auth/register", "Register", "register_api_auth_register_post",
                   false, Body::Json});
    ops.push_back({"post", "/api/auth/login", "Login", "login_api_auth_login_post", false,
                   drift.login_form ? Body::Form : Body::Json});
  }
  const std::vector<Operation> secured = {
      {"get", "/api/{user_id}/tasks", "List Tasks", "list_tasks_api__user_id__tasks_get", true,
       Body::None, true},
      {"post", "/api/{user_id}/tasks", "Create Task", "create_task_api__user_id__tasks_post", true,
       Body::Json},
      {"get", "/api/{user_id}/tasks/{task_id}", "Get Task",
       "get_task_api__user_id__tasks__task_id__get", true},
      {"put", "/api/{user_id}/tasks/{task_id}", "Update Task",
       "update_task_api__user_id__tasks__task_id__put", true, Body::Json},
      {"delete", "/api/{user_id}/tasks/{task_id}", "Delete Task",
       "delete_task_api__user_id__tasks__task_id__delete", true},
      {"patch", "/api/{user_id}/tasks/{task_id}/complete", "Complete Task",
       "complete_task_api__user_id__tasks__task_id__complete_patch", true},
      {"post", "/api/{user_id}/chat", "Chat", "chat_api__user_id__chat_post", true, Body::Json},
      {"get", "/api/{user_id}/conversations/{conversation_id}/messages", "List Messages",
       "list_messages_api__user_id__conversations__conversation_id__messages_get", true},
  };
  ops.insert(ops.end(), secured.begin(), secured.end());
  if (routes.debug_routes) {
    ops.push_back({"get", "/debug/config", "Debug Config", "debug_config_debug_config_get", false});
    ops.push_back({"post", "/debug/verify-token", "Debug Verify Token",
                   "debug_verify_token_debug_verify_token_post", false, Body::Json});
  }

  // FastAPI names the scheme after the dependency: OAuth2PasswordBearer with a token URL for
  // form logins, HTTPBearer otherwise.
  const char* scheme = drift.login_form ? "OAuth2PasswordBearer" : "HTTPBearer";
  json scheme_object =
      drift.login_form
          ? json{{"type", "oauth2"},
                 {"flows",
                  {{"password", {{"scopes", json::object()}, {"tokenUrl", "/api/auth/login"}}}}}}
          : json{{"type", "http"}, {"scheme", "bearer"}};
  json user_id_schema = drift.user_id_format == UserIdFormat::Uuid
                            ? json{{"type", "string"}, {"format", "uuid"}, {"title", "User Id"}}
                            : json{{"type", "string"}, {"title", "User Id"}};

  json paths = json::object();
  for (const auto& op : ops) {
    std::string path = op.path;
    json operation = {{"summary", op.summary},
                      {"operationId", op.operation_id},
                      {"responses",
                       {{"200",
                         {{"description", "Successful Response"},
                          {"content", {{"application/json", {{"schema", json::object()}}}}}}}}}};
    json parameters = json::array();
    if (path.find("{user_id}") != std::string::npos) {
      parameters.push_back(path_parameter("user_id", user_id_schema));
    }
    if (path.find("{task_id}") != std::string::npos) {
      parameters.push_back(path_parameter("task_id", {{"type", "integer"}, {"title", "Task Id"}}));
    }
    if (path.find("{conversation_id}") != std::string::npos) {
      parameters.push_back(
          path_parameter("conversation_id", {{"type", "integer"}, {"title", "Conversation Id"}}));
    }
    if (op.list_query) {
      parameters.push_back(query_enum("status", {"all", "pending", "completed"}, "all"));
      parameters.push_back(query_enum("sort", {"created", "title", "due_date"}, "created"));
    }
    if (!parameters.empty()) operation["parameters"] = parameters;
    if (op.body != Body::None) {
      const char* type =
          op.body == Body::Form ? "application/x-www-form-urlencoded" : "application/json";
      operation["requestBody"] = {{"required", true},
                                  {"content", {{type, {{"schema", {{"type", "object"}}}}}}}};
    }
    if (op.secured) operation["security"] = json::array({{{scheme, json::array()}}});
    if (!parameters.empty() || op.body != Body::None) {
      operation["responses"]["422"] = {
          {"description", "Validation Error"},
          {"content",
           {{"application/json",
             {{"schema", {{"$ref", "#/components/schemas/HTTPValidationError"}}}}}}}};
    }
    paths[path][op.method] = std::move(operation);
  }

  return {{"openapi", "3.1.0"},
          {"info", {{"title", "Todo API"}, {"version", kVersion}}},
          {"paths", std::move(paths)},
          {"components",
           {{"securitySchemes", {{scheme, std::move(scheme_object)}}},
            {"schemas",
             {{"HTTPValidationError",
               {{"type", "object"},
                {"title", "HTTPValidationError"},
                {"properties",
                 {{"detail",
                   {{"type", "array"}, {"title", "Detail"}, {"items", json::object()}}}}}}}}}}}};
}

}  // namespace todo
