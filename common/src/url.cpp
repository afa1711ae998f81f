#include "kgate/url.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace kgate {
namespace {

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  throw std::invalid_argument("invalid URL '" + std::string(text) + "': " + std::string(why));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool default_port(const std::string& scheme, const std::string& port) {
  return (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
}

std::string bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

Url Url::parse(std::string_view text) {
  Url url;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) fail(text, "missing scheme (expected http:// or https://)");
  url.scheme = lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") fail(text, "scheme must be http or https");
  std::string_view rest = text.substr(sep + 3);

  auto auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) fail(text, "user info is not supported");
  if (authority.empty()) fail(text, "missing host");

  std::string_view port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) fail(text, "unterminated IPv6 literal");
    url.host = std::string(authority.substr(1, close - 1));
    if (url.host.empty()) fail(text, "empty IPv6 literal");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail(text, "unexpected text after IPv6 literal");
      port = after.substr(1);
      if (port.empty()) fail(text, "empty port");
    }
  } else {
    auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) fail(text, "empty port");
    }
    if (url.host.empty()) fail(text, "missing host");
  }
  url.host = lower(url.host);
  for (char c : url.host) {
    if (std::isspace(static_cast<unsigned char>(c))) fail(text, "host contains whitespace");
  }

  if (port.empty()) {
    url.port = url.tls() ? "443" : "80";
  } else {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
      fail(text, "port must be a number");
    }
    int n = std::stoi(std::string(port));
    if (n < 1 || n > 65535) fail(text, "port out of range");
    url.port = std::to_string(n);
  }

  // The fragment never goes on the wire.
  auto hash = tail.find('#');
  if (hash != std::string_view::npos) tail = tail.substr(0, hash);
  for (char c : tail) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      fail(text, "path contains whitespace or control characters");
  }
  if (tail.empty()) {
    url.target = "/";
  } else if (tail.front() == '?') {
    url.target = "/" + std::string(tail);
  } else {
    url.target = std::string(tail);
  }
  return url;
}

std::string Url::origin() const {
  return scheme + "://" + host_header();
}

std::string Url::host_header() const {
  std::string h = bracketed(host);
  if (!default_port(scheme, port)) h += ":" + port;
  return h;
}

Url Url::with_target(std::string_view new_target) const {
  Url u = *this;
  if (new_target.empty()) {
    u.target = "/";
  } else if (new_target.front() != '/') {
    u.target = "/" + std::string(new_target);
  } else {
    u.target = std::string(new_target);
  }
  return u;
}

std::string join_url(std::string_view base, std::string_view path) {
  // An absolute URL needs no base.
  if (path.starts_with("http://") || path.starts_with("https://")) return std::string(path);
  std::string out(base);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (path.empty()) return out.empty() ? "/" : out;
  if (path.front() != '/') out += '/';
  out += path;
  return out;
}

std::string url_encode_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace kgate
