#include "kgate/redact.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <vector>

namespace kgate {
namespace {

constexpr std::string_view kMark = "[REDACTED]";

// Copy-on-write list so redact() holds the lock only to take a snapshot.
using SecretList = std::vector<std::string>;
std::mutex g_mutex;
std::shared_ptr<const SecretList> g_secrets = std::make_shared<SecretList>();

std::shared_ptr<const SecretList> snapshot() {
  std::lock_guard lock(g_mutex);
  return g_secrets;
}

bool is_b64url(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// Length of a JWT-looking token at s[pos] ("eyJ..." "." seg "." seg), or 0.
std::size_t jwt_length(std::string_view s, std::size_t pos) {
  std::size_t i = pos;
  int dots = 0;
  std::size_t seg_len = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (is_b64url(c)) {
      ++seg_len;
    } else if (c == '.' && dots < 2 && seg_len > 0) {
      ++dots;
      seg_len = 0;
    } else {
      break;
    }
  }
  // An unsigned token ("h.p.") still carries claims: two dots are enough once the payload exists.
  if (dots < 2) return 0;
  return i - pos;
}

bool ends_bearer_value(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '\\' ||
         c == ',' || c == ';' || c == '<' || c == '>';
}

// Is what follows "Bearer " a credential, or just words ("a malformed bearer token", "the bearer
// scheme")? Credentials are long or carry digits or symbols; a short run of letters is text.
bool looks_like_credential(std::string_view value) {
  if (value.size() >= 16) return true;
  return std::any_of(value.begin(), value.end(),
                     [](char c) { return !std::isalpha(static_cast<unsigned char>(c)); });
}

bool starts_with_icase(std::string_view s, std::size_t pos, std::string_view prefix) {
  if (s.size() - pos < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[pos + i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

// Where the authority of a URL (or a query value) ends in running text.
bool ends_url_part(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '\\' ||
         c == '<' || c == '>' || c == '`';
}

bool is_param_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// Query parameters that carry credentials by their name: access_token, api_key, password,
// X-Amz-Signature, client_secret, sessionid, ...
bool credential_name(std::string_view name) {
  std::string lower(name);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "code" || lower == "auth") return true;
  for (std::string_view part : {"token", "secret", "passw", "pwd", "key", "sig", "session",
                                "credential", "jwt", "authorization"}) {
    if (lower.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string replace_all(std::string_view text, std::string_view needle) {
  std::string out;
  std::size_t from = 0;
  for (;;) {
    auto hit = text.find(needle, from);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(from, hit - from));
    out.append(kMark);
    from = hit + needle.size();
  }
  out.append(text.substr(from));
  return out;
}

}  // namespace

void register_secret(std::string_view secret) {
  if (secret.size() < 4) return;
  std::lock_guard lock(g_mutex);
  if (std::find(g_secrets->begin(), g_secrets->end(), secret) != g_secrets->end()) return;
  auto next = std::make_shared<SecretList>(*g_secrets);
  next->emplace_back(secret);
  // Longest first so a secret containing another is replaced whole.
  std::stable_sort(next->begin(), next->end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  g_secrets = std::move(next);
}

void clear_secrets() {
  std::lock_guard lock(g_mutex);
  g_secrets = std::make_shared<SecretList>();
}

std::string redact(std::string_view text) {
  std::string work(text);
  auto secrets = snapshot();
  for (const auto& secret : *secrets) {
    if (work.find(secret) != std::string::npos) work = replace_all(work, secret);
  }

  // One pass for the shapes we recognise without registration.
  std::string_view s = work;
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == 'e' && s.compare(i, 3, "eyJ") == 0 && (i == 0 || !is_b64url(s[i - 1]))) {
      if (std::size_t n = jwt_length(s, i)) {
        out.append(kMark);
        i += n;
        continue;
      }
    }
    if ((c == 'B' || c == 'b') && starts_with_icase(s, i, "bearer ") &&
        (i == 0 || !std::isalnum(static_cast<unsigned char>(s[i - 1])))) {
      std::size_t v = i + 7;
      while (v < s.size() && s[v] == ' ') ++v;
      std::size_t end = v;
      while (end < s.size() && !ends_bearer_value(s[end])) ++end;
      std::string_view value = s.substr(v, end - v);
      // Skip what is already redacted and auth-param syntax such as `Bearer realm="api"`.
      bool auth_param = !value.empty() && value.back() == '=' && end < s.size() && s[end] == '"';
      if (!value.empty() && !value.starts_with(kMark) && !auth_param &&
          looks_like_credential(value)) {
        out.append(s.substr(i, v - i));
        out.append(kMark);
        i = end;
        continue;
      }
    }
    // scheme://user:password@host: the user info is a credential, whatever it looks like.
    if (c == ':' && s.compare(i, 3, "://") == 0) {
      const std::size_t start = i + 3;
      std::size_t end = start;
      while (end < s.size() && !ends_url_part(s[end]) && s[end] != '/' && s[end] != '?' &&
             s[end] != '#')
        ++end;
      const std::size_t at = s.substr(start, end - start).rfind('@');
      if (at != std::string_view::npos && at > 0 && s.substr(start, at) != kMark) {
        out.append("://");
        out.append(kMark);
        i = start + at;
        continue;
      }
    }
    // ?token=...&api_key=...: values of parameters named like credentials.
    if (c == '?' || c == '&') {
      std::size_t name_end = i + 1;
      while (name_end < s.size() && is_param_name_char(s[name_end])) ++name_end;
      if (name_end > i + 1 && name_end < s.size() && s[name_end] == '=' &&
          credential_name(s.substr(i + 1, name_end - i - 1))) {
        std::size_t end = name_end + 1;
        while (end < s.size() && !ends_url_part(s[end]) && s[end] != '&' && s[end] != '#') ++end;
        const std::string_view value = s.substr(name_end + 1, end - name_end - 1);
        if (!value.empty() && !value.starts_with(kMark)) {
          out.append(s.substr(i, name_end + 1 - i));
          out.append(kMark);
          i = end;
          continue;
        }
      }
    }
    out += c;
    ++i;
  }
  return out;
}

std::string redact_url(std::string_view url) {
  std::string out;
  const std::size_t scheme = url.find("://");
  std::size_t rest = 0;
  if (scheme != std::string_view::npos) {
    rest = scheme + 3;
    const std::size_t authority_end = std::min(url.find_first_of("/?#", rest), url.size());
    const std::size_t at = url.substr(rest, authority_end - rest).rfind('@');
    out.append(url.substr(0, rest));
    if (at != std::string_view::npos) {
      out.append(kMark);
      rest += at;  // from the '@'
    }
  }
  const std::size_t query = url.find('?', rest);
  const std::size_t fragment = url.find('#', rest);
  const std::size_t path_end = std::min({query, fragment, url.size()});
  out.append(url.substr(rest, path_end - rest));
  if (query != std::string_view::npos && query < std::min(fragment, url.size())) {
    const std::string_view q = url.substr(query + 1, std::min(fragment, url.size()) - query - 1);
    out += '?';
    std::size_t from = 0;
    for (bool first = true; from <= q.size(); first = false) {
      const std::size_t amp = std::min(q.find('&', from), q.size());
      const std::string_view param = q.substr(from, amp - from);
      if (!first) out += '&';
      const std::size_t eq = param.find('=');
      if (eq != std::string_view::npos) {
        out.append(param.substr(0, eq + 1));
        if (eq + 1 < param.size()) out.append(kMark);
      } else if (!param.empty()) {
        out.append(kMark);
      }
      from = amp + 1;
    }
  }
  if (fragment != std::string_view::npos) {
    out += '#';
    if (fragment + 1 < url.size()) out.append(kMark);
  }
  return redact(out);
}

}  // namespace kgate
