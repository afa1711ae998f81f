// Security, the routes the app publishes (OWASP API9:2023, improper inventory management, and
// API2:2023): every operation of the app's own OpenAPI document, not only the contract's, must
// refuse a caller without a token, and user-scoped ones must refuse another user's token. A
// debug route that hands out key material, or verifies any token it is given, is found here.
#include "kgate/identity.hpp"
#include "kgate/registry.hpp"
#include "kgate/url.hpp"
#include "probe.hpp"

namespace kgate {
namespace {

using nlohmann::json;

class SecurityRoutes : public security::SecurityCheck {
 public:
  static constexpr GroupInfo group{"security", "Routes"};
  using security::SecurityCheck::SecurityCheck;

 protected:
  struct Operation {
    std::string method, path;  // "GET", "/api/{user_id}/tasks/{task_id}"
  };

  // The operations the document declares, in its order.
  static std::vector<Operation> operations(const json& doc) {
    std::vector<Operation> out;
    if (!doc.contains("paths") || !doc["paths"].is_object()) return out;
    for (const auto& [path, item] : doc["paths"].items()) {
      if (!item.is_object()) continue;
      for (const char* m : {"get", "post", "put", "patch", "delete"}) {
        if (!item.contains(m)) continue;
        std::string method = m;
        std::transform(method.begin(), method.end(), method.begin(), ::toupper);
        out.push_back({method, path});
      }
    }
    return out;
  }

  bool is_public(const std::string& path) const {
    for (const auto& glob : config().security.public_paths)
      if (glob_match(glob, path)) return true;
    return false;
  }

  // Fills path parameters with what kgate owns: the user's id, its own task's id; false when a
  // parameter has no value kgate owns (then an unsafe method is not sent at all).
  static bool fill(std::string& path, const std::string& user_id, const std::string& task_id) {
    bool owned = true;
    for (auto open = path.find('{'); open != std::string::npos; open = path.find('{')) {
      auto close = path.find('}', open);
      if (close == std::string::npos) break;
      std::string name = path.substr(open + 1, close - open - 1);
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      std::string value;
      if (lower.find("user") != std::string::npos || lower == "uid" || lower == "owner") {
        value = user_id;
      } else if (lower == "id" || lower.find("task") != std::string::npos ||
                 lower.find("todo") != std::string::npos) {
        value = task_id;
      } else {
        value = "kgate";
        owned = false;
      }
      path.replace(open, close - open + 1, url_encode_segment(value));
    }
    return owned;
  }
};

KGATE_CHECK(SecurityRoutes, DocumentedRoutesRequireAuth,
            {.title = "Every operation the app documents refuses a caller without a token, and "
                      "another user's token on user-scoped routes",
             .severity = Severity::Critical,
             .reference = "OWASP API9:2023",
             .needs = kNeedsIdentity}) {
  const auto& p = config().profile;
  if (p.openapi_path.empty()) KGATE_SKIP() << "profile.openapi_path is empty";
  const std::string doc_url = join_url(config().target.backend, p.openapi_path);
  auto r = c().send("GET", doc_url, "");
  auto doc = r.status == 200 ? parse_json(r.body) : std::nullopt;
  if (!doc || !doc->is_object() || !doc->contains("paths"))
    KGATE_SKIP() << "the app publishes no OpenAPI document at " << doc_url << " (answered "
                 << r.status << "; profile.openapi_path)";
  const Identity& alice = c().identity("alice");
  const Identity* bob = nullptr;
  try {
    bob = &c().run().identity("bob");
  } catch (const IdentityUnavailable&) {
    // Without a second identity, only the no-token sweep runs.
  }
  security::VictimTask victim(c(), alice);
  if (!victim.ok()) KGATE_SETUP_ERROR() << "could not set up alice's task: " << victim.error();

  std::vector<std::string> open, scoped_leaks, not_sent;
  int probed = 0, skipped_public = 0;
  auto report = [&] {
    KGATE_EXPECT(open.empty()) << "documented routes answer without any token: "
                               << security::joined(open, 4)
                               << " (routes not in suites.security.public_paths must "
                               << "authenticate)";
    KGATE_EXPECT(scoped_leaks.empty())
        << "user-scoped routes answer another user's token: " << security::joined(scoped_leaks, 4);
  };
  try {
    for (const auto& op : operations(*doc)) {
      if (is_public(op.path)) {
        ++skipped_public;
        continue;
      }
      std::string path = op.path;
      const bool user_scoped =
          path.find("{") != std::string::npos &&
          (path.find("user") != std::string::npos || path.find("owner") != std::string::npos);
      const bool owned = fill(path, alice.user_id, victim.id());
      const bool safe = op.method == "GET";
      const bool has_params = op.path.find('{') != std::string::npos;
      // A write to a route kgate cannot point at its own data could change someone else's: it
      // is listed, not sent, unless the configuration allows it.
      if (!safe && (!owned || !has_params) && !config().security.probe_unsafe_routes) {
        not_sent.push_back(op.method + " " + op.path);
        continue;
      }
      http::Request request{
          op.method, join_url(config().target.backend, path), {{"Accept", "application/json"}}, ""};
      if (!safe) {
        request.headers.emplace_back("Content-Type", "application/json");
        request.body = "{}";
      }
      ++probed;
      auto answer = c().send(request);
      if (security::accepted(answer, victim.marker()))
        open.push_back(op.method + " " + op.path + " → " + std::to_string(answer.status));
      if (bob && user_scoped && safe) {
        auto as_bob = request;
        as_bob.headers.emplace_back("Authorization", "Bearer " + bob->token);
        auto b = c().send(as_bob);
        if (security::accepted(b, victim.marker()))
          scoped_leaks.push_back(op.method + " " + op.path + " with bob's token on alice's id → " +
                                 std::to_string(b.status));
      }
    }
  } catch (const CheckStopped&) {
    report();
    throw;
  }
  measure("operations probed", probed, "");
  measure("public operations", skipped_public, "");
  if (!not_sent.empty())
    property("not sent (writes without an id kgate owns; security.probe_unsafe_routes)",
             security::joined(not_sent, 10));
  std::string damage = victim.changes_since_created();
  report();
  KGATE_EXPECT(damage.empty()) << "after the route sweep: " << damage;
}

}  // namespace
}  // namespace kgate
