#pragma once
// GET /openapi.json of the api role: an OpenAPI 3.1 document of the routes this instance
// actually serves (method, path, parameters, security), in the shape FastAPI generates.
#include <nlohmann/json.hpp>

#include "drift.hpp"

namespace todo {

struct OpenApiRoutes {
  bool accounts = false;      // /api/auth/register and /api/auth/login
  bool debug_routes = false;  // the debug-routes fault's unauthenticated routes
};

nlohmann::json openapi_document(const Drift& drift, const OpenApiRoutes& routes);

}  // namespace todo
