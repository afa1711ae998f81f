// Security, input validation (OWASP API3/API8:2023): bad input gets a 4xx, never a 5xx or a
// crash; limits from the contract hold; hostile strings are stored as data, not interpreted.
#include "kgate/identity.hpp"
#include "kgate/url.hpp"
#include "probe.hpp"

namespace kgate {
namespace {

using nlohmann::json;

class SecurityValidation : public security::SecurityCheck {
 public:
  static constexpr GroupInfo group{"security", "Validation"};
  using security::SecurityCheck::SecurityCheck;

 protected:
  // Sends `body` as a create (or `method` on `url`) and returns the answer; a 2xx create is
  // cleaned up.
  http::Response post_raw(TodoApi& a, const std::string& url, const std::string& method,
                          const std::string& body, const std::string& content_type) {
    http::Request r{method, url, {{"Accept", "application/json"}}, body};
    if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
    r.headers.emplace_back("Authorization", "Bearer " + a.who().token);
    auto resp = c().send(r);
    if (method == "POST" && resp.status / 100 == 2)
      if (auto doc = parse_json(resp.body))
        if (auto id = task_id_of(*doc, config().profile)) a.delete_after_check(*id);
    return resp;
  }

  // Does a create take the completion field? A task created done must come back done; an app
  // that ignores the field would make any type probe of it look accepted.
  bool accepts_completion_on_create(TodoApi& a) {
    json body{{"title", "kgate completion probe"}};
    body.update(completion_fields(true, config().profile));
    auto r = post_raw(a, a.tasks_url(), "POST", body.dump(), "application/json");
    auto doc = r.status / 100 == 2 ? parse_json(r.body) : std::nullopt;
    return doc && completed_of(*doc, config().profile).value_or(false);
  }

  // Still alive after the hostile input? A crash shows as a transport error here.
  std::string backend_alive() {
    std::string url = join_url(config().target.backend, config().profile.health_path);
    try {
      auto r = c().send("GET", url, "");
      return r.status == 200 ? "" : "GET " + url + " now answers " + std::to_string(r.status);
    } catch (const http::TransportError& e) {
      return std::string("the backend stopped answering: ") + e.what();
    }
  }
};

KGATE_CHECK(SecurityValidation, InvalidTasksAreRejected,
            {.title = "Tasks that break the contract's rules are rejected with a 4xx",
             .severity = Severity::Medium,
             .reference = "OWASP API8:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  auto a = api(alice);
  const auto& p = config().profile;
  const std::string title_over = std::to_string(p.title_max + 1) + "-character title";
  const std::string description_over =
      std::to_string(p.description_max + 1) + "-character description";
  // Wrong types only where the app takes the field at all, and only values no validator
  // coerces: a lax one reads "yes" or 1 as true by design, never "kgate" or an object.
  const bool takes_completion = accepts_completion_on_create(a);
  struct Case {
    std::string what;
    json body;
  };
  std::vector<Case> cases{
      {"an empty title", {{"title", ""}}},
      {"a " + title_over, {{"title", std::string(p.title_max + 1, 'k')}}},
      {"a " + description_over,
       {{"title", "kgate"}, {"description", std::string(p.description_max + 1, 'k')}}},
      {"no title", {{"description", "kgate"}}},
      {"a number as title", {{"title", 12345}}},
      {"a list as description", {{"title", "kgate"}, {"description", json::array({"x"})}}},
      {"a JSON array as body", json::array({{{"title", "kgate"}}})},
  };
  if (takes_completion) {
    const std::string field = p.completion == "status" ? p.status_field : p.completed_field;
    if (p.completion == "boolean")
      cases.push_back({"the string \"kgate\" as " + field, {{"title", "kgate"}, {field, "kgate"}}});
    cases.push_back({"an object as " + field, {{"title", "kgate"}, {field, {{"kgate", 1}}}}});
  }
  std::vector<std::string> accepted, crashed;
  for (const auto& k : cases) {
    auto r = post_raw(a, a.tasks_url(), "POST", k.body.dump(), "application/json");
    if (r.status >= 500)
      crashed.push_back(k.what + " → " + std::to_string(r.status));
    else if (r.status / 100 != 4)
      accepted.push_back(k.what + " → " + std::to_string(r.status));
  }
  if (!takes_completion)
    property("completion types",
             "not probed: the app ignores " + completion_field_name(p) + " on create");
  // The same rules on update.
  security::VictimTask victim(c(), alice);
  if (!victim.ok()) KGATE_SETUP_ERROR() << "could not set up the victim task: " << victim.error();
  auto r = post_raw(a, a.task_url(victim.id()), p.update_method,
                    json{{"title", std::string(p.title_max + 1, 'k')}}.dump(), "application/json");
  if (r.status >= 500)
    crashed.push_back("an update with a " + title_over + " → " + std::to_string(r.status));
  else if (r.status / 100 != 4)
    accepted.push_back("an update with a " + title_over + " → " + std::to_string(r.status));
  KGATE_EXPECT(crashed.empty()) << "POST " << a.tasks_url() << " failed with a server error on "
                                << security::joined(crashed) << ": invalid input must be a 4xx";
  KGATE_EXPECT(accepted.empty()) << "POST " << a.tasks_url() << " accepted "
                                 << security::joined(accepted) << " (expected 422): the limits "
                                 << "(title 1-" << p.title_max << ", description ≤ "
                                 << p.description_max
                                 << " characters: profile.limits) and types are not enforced";
}

KGATE_CHECK(
    SecurityValidation, MalformedBodiesAreRejected,
    {.title = "Malformed JSON, unknown fields and wrong content types get a 4xx, never a 5xx",
     .severity = Severity::Medium,
     .reference = "OWASP API8:2023",
     .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  auto a = api(alice);
  struct Case {
    const char* what;
    std::string body, type;
    bool may_succeed;  // unknown fields may be ignored
  };
  std::vector<Case> cases{
      {"truncated JSON", R"({"title": "kgate)", "application/json", false},
      {"text that is not JSON", "kgate title=x", "application/json", false},
      {"an empty body", "", "application/json", false},
      {"JSON with a NUL byte", std::string("{\"title\": \"kg\0ate\"", 17) + "}", "application/json",
       false},
      {"deeply nested JSON", std::string(5000, '[') + std::string(5000, ']'), "application/json",
       false},
      {"unknown fields", R"({"title":"kgate unknown fields","is_admin":true,"__proto__":{"x":1}})",
       "application/json", true},
      {"a form-encoded body", "title=kgate", "application/x-www-form-urlencoded", false},
  };
  std::vector<std::string> bad;
  for (const auto& k : cases) {
    auto r = post_raw(a, a.tasks_url(), "POST", k.body, k.type);
    bool ok = r.status / 100 == 4 || (k.may_succeed && r.status / 100 == 2);
    if (!ok) bad.push_back(std::string(k.what) + " → " + std::to_string(r.status));
  }
  std::string alive = backend_alive();
  KGATE_EXPECT(bad.empty()) << "POST " << a.tasks_url() << " answered " << security::joined(bad)
                            << " (expected a 4xx): malformed input reaches code that fails";
  KGATE_EXPECT(alive.empty()) << "after malformed bodies, " << alive;
}

KGATE_CHECK(SecurityValidation, OversizedBodyIsRejected,
            {.title = "A body of several MiB is refused (413, or another 4xx), never accepted",
             .severity = Severity::Medium,
             .reference = "OWASP API4:2023",
             .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  auto a = api(alice);
  const std::size_t size = config().security.large_body_bytes;
  std::string body =
      R"({"title":"kgate large body","description":")" + std::string(size, 'k') + "\"}";
  measure("body", static_cast<double>(body.size()), "bytes");
  int status = 0;
  std::string transport;
  try {
    status = post_raw(a, a.tasks_url(), "POST", body, "application/json").status;
  } catch (const http::TransportError& e) {
    transport = e.what();  // a server may close the connection while the body still flows
  }
  std::string alive = backend_alive();
  KGATE_EXPECT(alive.empty()) << "after a " << size / 1024 << " KiB body, " << alive;
  if (!transport.empty()) return;  // refused at the socket: the body was not read
  // Any refusal will do (413, or 422 from a framework's size check); acceptance or a crash
  // will not.
  KGATE_EXPECT(status / 100 == 4)
      << "POST " << a.tasks_url() << " with a " << body.size() / 1024 << " KiB body answered "
      << status
      << (status / 100 == 5 ? " (expected a 4xx such as 413): the server fails on large bodies"
                            : " (expected a 4xx such as 413): the server reads bodies of any "
                              "size, so a few clients can exhaust its memory");
}

KGATE_CHECK(
    SecurityValidation, HostileStringsAreStoredLiterally,
    {.title =
         "SQL, script, path and template strings are stored and returned as plain JSON strings",
     .severity = Severity::High,
     .reference = "OWASP API8:2023",
     .needs = kNeedsIdentity}) {
  const Identity& alice = c().identity("alice");
  auto a = api(alice);
  const std::vector<std::string> hostile{
      "kgate'); DROP TABLE tasks;--",
      "kgate' OR '1'='1",
      "<script>alert('kgate')</script>",
      "../../../../etc/passwd",
      "${jndi:ldap://kgate.invalid/x} {{7*7}} %s%n",
      "kgate \"quoted\" \\ backslash",
  };
  // A harmless title first: when that fails the same way, the app cannot create tasks at all,
  // which says nothing about hostile strings.
  auto control = a.create({{"title", "kgate control title"}, {"description", "harmless"}});
  if (!status_in(control.status, config().profile.create_status))
    KGATE_SETUP_ERROR() << "could not set up: even a harmless task could not be created (POST "
                        << a.tasks_url() << " answered " << control.status
                        << "): " << excerpt(control.body);
  std::vector<std::string> wrong;
  for (const auto& s : hostile) {
    auto r = a.create({{"title", s}, {"description", s}});
    if (!status_in(r.status, config().profile.create_status)) {
      wrong.push_back("'" + s + "' → " + std::to_string(r.status));
      continue;
    }
    auto type = r.header("Content-Type").value_or("");
    auto doc = parse_json(r.body);
    auto id = doc ? task_id_of(*doc, config().profile) : std::nullopt;
    if (type.find("application/json") == std::string::npos) {
      wrong.push_back("'" + s + "' came back as " + (type.empty() ? "no content type" : type));
    } else if (!id) {
      wrong.push_back("'" + s + "' → no task id");
    } else {
      auto got = parse_json(a.get(*id).body);
      std::string title = got ? got->value("title", "") : "";
      if (title != s) wrong.push_back("'" + s + "' read back as '" + title + "'");
    }
  }
  KGATE_EXPECT(wrong.empty()) << "hostile strings were not stored literally: "
                              << security::joined(wrong)
                              << ": input reaches SQL, a template or an HTML encoder";
}

}  // namespace
}  // namespace kgate
