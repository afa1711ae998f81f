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
    out += c;
    ++i;
  }
  return out;
}

}  // namespace kgate
