// Security, per-user isolation (OWASP API1:2023, broken object level authorization): bob, with
// a valid token of his own, can neither see nor change alice's tasks, by any route.
#include "kgate/identity.hpp"
#include "probe.hpp"

namespace kgate {
namespace {

using nlohmann::json;

class SecurityIsolation : public security::SecurityCheck {
 public:
  static constexpr GroupInfo group{"security", "Isolation"};
  using security::SecurityCheck::SecurityCheck;

 protected:
  bool chat() const { return config().security.chat; }

  // Is `id` among the tasks bob's own list shows?
  bool listed(TodoApi& api, const std::string& id) {
    auto r = api.list();
    auto doc = parse_json(r.body);
    auto list = doc ? task_list_of(*doc, config().profile) : std::nullopt;
    if (!list) return false;
    for (const auto& t : *list)
      if (task_id_of(t, config().profile) == id) return true;
    return false;
  }

  // Sends each endpoint with bob's token; names the ones that were not refused.
  std::vector<std::string> not_refused(const std::vector<security::Endpoint>& endpoints,
                                       const Identity& bob, const std::vector<int>& refused,
                                       const std::string& marker) {
    std::vector<std::string> out;
    for (const auto& e : endpoints) {
      auto request = security::request_for(e);
      request.headers.emplace_back("Authorization", "Bearer " + bob.token);
      auto r = c().send(request);
      if (!security::refused(r, refused, marker))
        out.push_back(e.label() + " → " + std::to_string(r.status));
    }
    return out;
  }
};

// The classic BOLA: bob's own URL, alice's task id.
KGATE_CHECK(
    SecurityIsolation, OthersTaskByIdIsRefused,
    {.title = "Another user cannot read, change, complete or delete a task through their own URL",
     .severity = Severity::Critical,
     .reference = "OWASP API1:2023",
     .needs = kNeedsTwoIdentities}) {
  const Identity& alice = c().identity("alice");
  const Identity& bob = c().identity("bob");
  security::VictimTask victim(c(), alice);
  if (!victim.ok()) KGATE_SETUP_ERROR() << "could not set up alice's task: " << victim.error();
  auto b = api(bob);
  std::vector<security::Endpoint> by_id;
  for (auto& e : security::contract_endpoints(b, victim.id(), victim.marker(), false))
    if (e.url != b.tasks_url()) by_id.push_back(e);  // the collection is bob's own
  auto leaked = not_refused(by_id, bob, config().profile.refused_status, victim.marker());
  bool in_list = listed(b, victim.id());
  std::string damage = victim.changes_since_created();
  KGATE_EXPECT(leaked.empty()) << "bob reached alice's task " << victim.id()
                               << " by id (expected 403 or 404, profile.refused_status): objects "
                               << "are looked up without checking their owner: "
                               << security::joined(leaked, 4);
  KGATE_EXPECT(!in_list) << "alice's task " << victim.id() << " shows in bob's task list";
  KGATE_EXPECT(damage.empty()) << "after bob's calls: " << damage;
}

// bob's token on alice's URL: the app must compare the token's user with the URL's.
KGATE_CHECK(SecurityIsolation, OthersUrlIsRefused,
            {.title = "A valid token for one user is refused on another user's URLs",
             .severity = Severity::Critical,
             .reference = "OWASP API1:2023",
             .needs = kNeedsTwoIdentities}) {
  if (config().profile.tasks_path.find("{user_id}") == std::string::npos)
    KGATE_SKIP() << "the profile's URLs carry no user id (profile.tasks_path)";
  const Identity& alice = c().identity("alice");
  const Identity& bob = c().identity("bob");
  security::VictimTask victim(c(), alice);
  if (!victim.ok()) KGATE_SETUP_ERROR() << "could not set up alice's task: " << victim.error();
  auto on_alices_url = api(alice);  // URLs of alice; the token sent is bob's
  auto endpoints =
      security::contract_endpoints(on_alices_url, victim.id(), victim.marker(), chat());
  auto leaked = not_refused(endpoints, bob, {401, 403, 404}, victim.marker());
  std::string damage = victim.changes_since_created();
  // Whatever bob managed to create under alice is removed with alice's token.
  auto r = on_alices_url.list();
  if (auto doc = parse_json(r.body))
    if (auto list = task_list_of(*doc, config().profile))
      for (const auto& t : *list)
        if (t.value("title", "").find(victim.marker()) != std::string::npos)
          if (auto id = task_id_of(t, config().profile); id && *id != victim.id())
            on_alices_url.delete_after_check(*id);
  KGATE_EXPECT(leaked.empty()) << "bob's token was accepted on alice's URLs (expected 401, 403 "
                               << "or 404): the API does not check that the token's user is the "
                               << "URL's {user_id}: " << security::joined(leaked, 4);
  KGATE_EXPECT(damage.empty()) << "after bob's calls: " << damage;
}

// Mass assignment (API3:2023): the owner comes from the token, never from the request body.
KGATE_CHECK(
    SecurityIsolation, OwnerComesFromTokenNotBody,
    {.title = "A task created with another user's id in the body still belongs to its creator",
     .severity = Severity::High,
     .reference = "OWASP API3:2023",
     .needs = kNeedsTwoIdentities}) {
  const Identity& alice = c().identity("alice");
  const Identity& bob = c().identity("bob");
  auto a = api(alice);
  auto b = api(bob);
  std::string marker = "kgate-security-owner-" + random_hex(6);
  auto r = a.create({{"title", marker}, {"user_id", bob.user_id}, {"owner_id", bob.user_id}});
  if (r.status / 100 == 4) return;  // refusing unknown fields is fine too
  KGATE_REQUIRE(status_in(r.status, config().profile.create_status))
      << "POST " << a.tasks_url() << " with an extra user_id answered " << r.status << ": "
      << excerpt(r.body);
  auto doc = parse_json(r.body);
  auto id = doc ? task_id_of(*doc, config().profile) : std::nullopt;
  KGATE_REQUIRE(id) << "the created task has no id: " << excerpt(r.body);
  b.delete_after_check(*id);  // in case it became bob's
  bool bob_sees = listed(b, *id);
  auto mine = a.get(*id);
  KGATE_EXPECT(!bob_sees && mine.status == 200)
      << "alice created task " << *id << " with \"user_id\": bob in the body and "
      << (bob_sees ? "it shows in bob's list" : "she cannot read it any more") << " (GET "
      << a.task_url(*id) << " → " << mine.status
      << "): the body's user_id sets the owner (mass assignment)";
}

}  // namespace
}  // namespace kgate
