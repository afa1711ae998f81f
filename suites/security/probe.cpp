#include "probe.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <regex>

#include "kgate/identity.hpp"
#include "kgate/jwt.hpp"
#include "kgate/redact.hpp"

namespace kgate::security {

using nlohmann::json;

std::vector<Endpoint> contract_endpoints(const TodoApi& api, const std::string& task_id,
                                         const std::string& marker, bool chat) {
  const auto& p = api.profile();
  json overwrite{{"title", marker + " (overwritten)"}};
  overwrite.update(completion_fields(true, p));
  std::vector<Endpoint> out{
      {"GET", api.tasks_url(), ""},
      {"POST", api.tasks_url(), json{{"title", marker + " (created)"}}.dump()},
      {"GET", api.task_url(task_id), ""},
      {p.update_method, api.task_url(task_id), overwrite.dump()},
      {p.complete_method, api.complete_url(task_id), ""},
  };
  if (chat && !p.chat_path.empty())
    out.push_back({"POST", api.chat_url(), json{{"message", "Show me all my tasks"}}.dump()});
  out.push_back({"DELETE", api.task_url(task_id), ""});
  return out;
}

std::string Endpoint::label() const {
  auto scheme = url.find("://");
  auto path = scheme == std::string::npos ? 0 : url.find('/', scheme + 3);
  return method + " " + (path == std::string::npos ? "/" : url.substr(path));
}

http::Request request_for(const Endpoint& e) {
  http::Request r;
  r.method = e.method;
  r.url = e.url;
  r.headers.emplace_back("Accept", "application/json");
  if (!e.body.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = e.body;
  }
  return r;
}

namespace {

std::pair<std::string, std::string> split_signature(const std::string& token) {
  auto dot = token.rfind('.');
  if (dot == std::string::npos) return {token, ""};
  return {token.substr(0, dot), token.substr(dot + 1)};
}

std::string registered(std::string token) {
  register_secret(token);
  return token;
}

}  // namespace

std::string with_flipped_signature(const std::string& token) {
  auto [input, sig] = split_signature(token);
  std::string raw;
  try {
    raw = jwt::base64url_decode(sig);
  } catch (const std::exception&) {
    raw = "kgate";
  }
  if (raw.empty()) raw = "kgate";
  // Flip bits in the middle as well as the end: some verifiers only compare a prefix.
  raw[raw.size() / 2] = static_cast<char>(raw[raw.size() / 2] ^ 0x5a);
  raw.back() = static_cast<char>(raw.back() ^ 0x01);
  return registered(input + "." + jwt::base64url_encode(raw));
}

std::string with_alg_none(const std::string& token) {
  auto d = jwt::decode(token);
  json header = {{"alg", "none"}, {"typ", "JWT"}};
  return registered(jwt::base64url_encode(header.dump()) + "." +
                    jwt::base64url_encode(d.payload.dump()) + ".");
}

std::string resigned(const std::string& token, std::string_view secret, const json& changes) {
  auto payload = jwt::decode(token).payload;
  for (const auto& [k, v] : changes.items()) {
    if (v.is_null())
      payload.erase(k);
    else
      payload[k] = v;
  }
  return registered(jwt::sign_hs256(payload, secret));
}

bool hs256_matches(const std::string& token, std::string_view key) {
  jwt::Decoded d;
  try {
    d = jwt::decode(token);
  } catch (const std::exception&) {
    return false;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char empty = 0;
  const void* k = key.empty() ? static_cast<const void*>(&empty) : key.data();
  if (!HMAC(EVP_sha256(), k, static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(d.signing_input.data()), d.signing_input.size(),
            mac, &len))
    return false;
  return d.signature == std::string(reinterpret_cast<const char*>(mac), len);
}

std::string internals_in(std::string_view text) {
  struct Sign {
    const char* what;
    std::regex pattern;
  };
  static const std::vector<Sign> signs = [] {
    auto icase = std::regex::ECMAScript | std::regex::icase;
    return std::vector<Sign>{
        {"a Python traceback", std::regex(R"(Traceback \(most recent call last\))")},
        {"a stack frame", std::regex(R"(File \"[^"]+\", line \d+)")},
        {"a Java/JS stack frame", std::regex(R"(\bat [\w$.]+\([\w.]+:\d+\))")},
        {"an exception name",
         std::regex(R"(\b[A-Z]\w*(Exception|Error)\b\s*[:(])")},  // ValueError: / IntegrityError(
        {"an exception type",  // {"type": "TypeError", "message": ...}
         std::regex(
             R"re("(type|exception|error_type|exc_type)"\s*:\s*"[A-Z]\w*(Exception|Error)")re")},
        {"SQL",
         std::regex(
             R"(\b(SELECT\s+[\w*,\s.]+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b)",
             icase)},
        {"a database driver name",
         std::regex(R"(\b(sqlalchemy|psycopg2?|asyncpg|sqlite3\.|libpq|ProgrammingError))", icase)},
        {"a server file path",
         std::regex(
             R"((/usr/(local/)?lib/python|/site-packages/|/node_modules/|/app/[\w/]+\.(py|js|ts)|[A-Z]:\\\\))")},
    };
  }();
  const std::string s(text);
  for (const auto& sign : signs) {
    std::smatch m;
    if (std::regex_search(s, m, sign.pattern))
      return sign.what + std::string(" ('") + excerpt(m.str(), 60) + "')";
  }
  return "";
}

long long epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool accepted(const http::Response& r, const std::string& marker) {
  if (r.status >= 200 && r.status < 400) return true;
  return !marker.empty() && r.body.find(marker) != std::string::npos;
}

bool refused(const http::Response& r, const std::vector<int>& statuses, const std::string& marker) {
  bool status_ok = std::find(statuses.begin(), statuses.end(), r.status) != statuses.end();
  return status_ok && (marker.empty() || r.body.find(marker) == std::string::npos);
}

std::string joined(const std::vector<std::string>& items, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max; ++i) {
    if (i > 0) out += (i + 1 == items.size() || i + 1 == max) ? " and " : ", ";
    out += items[i];
  }
  if (items.size() > max) out += " (and " + std::to_string(items.size() - max) + " more)";
  return out;
}

VictimTask::VictimTask(CheckContext& c, const Identity& owner)
    : api_(c, c.config().target.backend, owner), marker_("kgate-security-victim-" + random_hex(6)) {
  auto r = api_.create({{"title", marker_}, {"description", "kgate security suite: do not touch"}});
  if (!status_in(r.status, api_.profile().create_status)) {
    error_ = "POST " + api_.tasks_url() + " answered " + std::to_string(r.status) +
             " for the owner's own task: " + excerpt(r.body);
    return;
  }
  auto doc = parse_json(r.body);
  auto id = doc ? task_id_of(*doc, api_.profile()) : std::nullopt;
  if (!id) {
    error_ = "the created task has no id: " + excerpt(r.body);
    return;
  }
  id_ = *id;
  completed_ = completed_of(*doc, api_.profile()).value_or(false);
}

std::string VictimTask::changes_since_created() {
  auto r = api_.get(id_);
  if (r.status == 404) return "the owner's task " + id_ + " was deleted";
  if (r.status != 200)
    return "the owner can no longer read task " + id_ + " (" + std::to_string(r.status) + ")";
  auto doc = parse_json(r.body);
  if (!doc || !doc->is_object()) return "the owner's task " + id_ + " reads back as non-JSON";
  if (doc->value("title", "") != marker_)
    return "the owner's task title was changed to '" + doc->value("title", "") + "'";
  if (completed_of(*doc, api_.profile()).value_or(completed_) != completed_)
    return "the owner's task was marked " + std::string(completed_ ? "not done" : "done");
  return "";
}

}  // namespace kgate::security
