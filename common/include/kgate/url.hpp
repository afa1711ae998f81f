#pragma once
// URL parsing for http(s) targets. Kept free of Asio so every component can include it.
#include <string>
#include <string_view>

namespace kgate {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  std::string port;    // always set: defaults to 80/443
  std::string target;  // path + query, at least "/"

  // Throws std::invalid_argument naming the URL and what is wrong with it.
  static Url parse(std::string_view text);
  bool tls() const { return scheme == "https"; }
  std::string origin() const;       // scheme://host[:port]
  std::string host_header() const;  // host[:port] as sent in Host
  std::string str() const { return origin() + target; }
  Url with_target(std::string_view new_target) const;
};

// Joins a base URL (origin with optional path prefix) and a path ("/api/x").
std::string join_url(std::string_view base, std::string_view path);

// Percent-encodes a path segment (RFC 3986 unreserved characters stay as they are).
std::string url_encode_segment(std::string_view s);

}  // namespace kgate
