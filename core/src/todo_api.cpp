#include "kgate/todo_api.hpp"

#include <regex>
#include <set>
#include <stdexcept>

#include "kgate/identity.hpp"
#include "kgate/load/todo_mix.hpp"
#include "kgate/url.hpp"

namespace kgate {

using nlohmann::json;

TodoApi::TodoApi(CheckContext& c, std::string base_url, Identity who)
    : c_(c), base_(std::move(base_url)), who_(std::move(who)) {}

std::string TodoApi::expand(const std::string& pattern, const std::string& id) const {
  std::string out = pattern;
  auto put = [&out](const std::string& key, const std::string& value) {
    for (auto pos = out.find(key); pos != std::string::npos;
         pos = out.find(key, pos + value.size()))
      out.replace(pos, key.size(), value);
  };
  put("{user_id}", url_encode_segment(who_.user_id));
  put("{id}", url_encode_segment(id));
  return join_url(base_, out);
}

std::string TodoApi::tasks_url(const std::string& query) const {
  return expand(profile().tasks_path, "") + (query.empty() ? "" : "?" + query);
}
std::string TodoApi::task_url(const std::string& id) const {
  return expand(profile().task_path, id);
}
std::string TodoApi::complete_url(const std::string& id) const {
  return expand(profile().complete_path, id);
}
std::string TodoApi::chat_url() const {
  return expand(profile().chat_path, "");
}

http::Response TodoApi::list(const std::string& query) {
  return c_.send("GET", tasks_url(query), who_.token);
}

http::Response TodoApi::create(const json& task) {
  auto r = c_.send("POST", tasks_url(), who_.token, task.dump());
  if (status_in(r.status, profile().create_status)) {
    if (auto doc = parse_json(r.body))
      if (auto id = task_id_of(*doc, profile()))
        delete_after_check(*id, task.is_object() ? task.value("title", "") : "");
  }
  return r;
}

http::Response TodoApi::get(const std::string& id) {
  return c_.send("GET", task_url(id), who_.token);
}
http::Response TodoApi::update(const std::string& id, const json& task) {
  return c_.send(profile().update_method, task_url(id), who_.token, task.dump());
}
http::Response TodoApi::remove(const std::string& id) {
  return c_.send("DELETE", task_url(id), who_.token);
}
http::Response TodoApi::toggle(const std::string& id) {
  return c_.send(profile().complete_method, complete_url(id), who_.token);
}
http::Response TodoApi::chat(const json& message) {
  return c_.send("POST", chat_url(), who_.token, message.dump());
}

void TodoApi::delete_after_check(const std::string& id, const std::string& title) {
  // Deleting an already deleted task answers 404: harmless, so no bookkeeping of removals. Any
  // other refusal leaves kgate's data in the app: the cleanup fails and the check says so.
  std::string url = task_url(id);
  std::string token = who_.token;
  std::vector<int> ok = profile().delete_status;
  ok.push_back(404);
  CheckContext* c = &c_;
  c_.defer("task " + id + (title.empty() ? "" : " '" + title + "'") + " of " + who_.label,
           [c, url, token, ok] {
             auto r = c->send("DELETE", url, token);
             if (!status_in(r.status, ok))
               throw std::runtime_error("DELETE " + url + " answered " + std::to_string(r.status));
           });
}

std::optional<json> parse_json(const std::string& body) {
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

std::optional<std::string> task_id_of(const json& task, const ProfileConfig& p) {
  if (!task.is_object() || !task.contains("id")) return std::nullopt;
  const auto& v = task["id"];
  static const std::regex uuid(
      "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  if (v.is_number_integer()) {
    if (p.task_id_format == "uuid") return std::nullopt;
    return std::to_string(v.get<long long>());
  }
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.empty()) return std::nullopt;
    if (p.task_id_format == "uuid" && !std::regex_match(s, uuid)) return std::nullopt;
    if (p.task_id_format == "integer") return std::nullopt;
    return s;
  }
  return std::nullopt;
}

std::optional<json> task_list_of(const json& body, const ProfileConfig& p) {
  if (p.list_field.empty()) {
    if (body.is_array()) return body;
    return std::nullopt;
  }
  if (body.is_object() && body.contains(p.list_field) && body[p.list_field].is_array())
    return body[p.list_field];
  return std::nullopt;
}

std::optional<bool> completed_of(const json& task, const ProfileConfig& p) {
  if (!task.is_object()) return std::nullopt;
  if (p.completion == "status") {
    auto it = task.find(p.status_field);
    if (it == task.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>() == p.status_done;
  }
  auto it = task.find(p.completed_field);
  if (it == task.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

json completion_fields(bool done, const ProfileConfig& p) {
  if (p.completion == "status") return {{p.status_field, done ? p.status_done : p.status_open}};
  return {{p.completed_field, done}};
}

std::string completion_field_name(const ProfileConfig& p) {
  return p.completion == "status" ? "'" + p.status_field + "' (profile.status_field)"
                                  : "'" + p.completed_field + "' (profile.completed_field)";
}

bool status_in(int status, const std::vector<int>& allowed) {
  return std::find(allowed.begin(), allowed.end(), status) != allowed.end();
}

std::string excerpt(const std::string& body, std::size_t max) {
  if (body.size() <= max) return body;
  // Cut on a UTF-8 boundary so reports stay valid text.
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;
  return body.substr(0, cut) + "… (" + std::to_string(body.size()) + " bytes)";
}

load::TodoMixOptions todo_mix_options(const ProfileConfig& p, const std::string& base_url,
                                      const std::vector<Identity>& identities) {
  load::TodoMixOptions m;
  m.base_url = base_url;
  m.tasks_path = p.tasks_path;
  m.task_path = p.task_path;
  m.complete_path = p.complete_path;
  m.complete_method = p.complete_method;
  m.title_prefix = "kgate-load-" + random_hex(3);
  for (const auto& id : identities) m.identities.push_back({id.user_id, id.token});
  return m;
}

std::vector<std::size_t> clean_up_todo_mix(CheckContext& c, const std::string& base_url,
                                           const std::vector<Identity>& identities,
                                           const load::TodoMix& mix) {
  const auto& p = c.config().profile;
  std::vector<std::set<std::string>> doomed(identities.size());
  for (const auto& t : mix.remaining()) doomed[t.identity].insert(t.id);
  std::vector<std::size_t> counts;
  for (std::size_t i = 0; i < identities.size(); ++i) {
    TodoApi a(c, base_url, identities[i]);
    auto doc = parse_json(a.list().body);
    auto list = doc ? task_list_of(*doc, p) : std::nullopt;
    if (list)
      for (const auto& t : *list)
        if (t.value("title", "").rfind(mix.title_prefix(), 0) == 0)
          if (auto id = task_id_of(t, p)) doomed[i].insert(*id);
    for (const auto& id : doomed[i]) a.delete_after_check(id);
    counts.push_back(doomed[i].size());
  }
  return counts;
}

void clean_up_todo_mix_for_suite(RunContext& run, const std::string& base_url,
                                 const std::vector<Identity>& identities, const load::TodoMix& mix,
                                 SuiteResult& out, const std::string& label) {
  const http::InterruptShield shield;
  CheckContext ctx(run, nullptr);
  std::size_t n = 0;
  for (auto left : clean_up_todo_mix(ctx, base_url, identities, mix)) n += left;
  auto failed = ctx.run_cleanups();
  out.properties.push_back({label, std::to_string(n) + " tasks deleted"});
  for (const auto& f : failed) out.properties.push_back({"left behind", f});
}

}  // namespace kgate
