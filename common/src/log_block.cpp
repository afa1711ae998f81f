#include "kgate/log_block.hpp"

#include <openssl/sha.h>

#include <cstdio>

#include "kgate/base64.hpp"

namespace kgate::log_block {
namespace {

constexpr std::string_view kBegin = "===KGATE-BLOCK ";
constexpr std::string_view kEnd = "===KGATE-BLOCK-END===";
constexpr std::size_t kLine = 76;

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string out;
  char buf[3];
  for (unsigned char b : digest) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

// "kind=results v=1 bytes=12 sha256=ab===" -> the value of `key`, or "".
std::string field(std::string_view header, std::string_view key) {
  const std::string needle = std::string(key) + "=";
  auto at = header.find(needle);
  if (at == std::string_view::npos) return "";
  at += needle.size();
  auto end = header.find_first_of(" =", at);
  return std::string(
      header.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
}

}  // namespace

std::string encode(std::string_view kind, const nlohmann::json& payload) {
  const std::string text = payload.dump();
  const std::string b64 = base64_encode(text);
  std::string out = std::string(kBegin) + "kind=" + std::string(kind) +
                    " v=1 bytes=" + std::to_string(text.size()) + " sha256=" + sha256_hex(text) +
                    "===\n";
  for (std::size_t i = 0; i < b64.size(); i += kLine) out += b64.substr(i, kLine) + "\n";
  out += std::string(kEnd) + "\n";
  return out;
}

std::vector<Found> decode_all(std::string_view log, std::string_view kind,
                              std::vector<std::string>* problems) {
  std::vector<Found> out;
  std::size_t pos = 0;
  while ((pos = log.find(kBegin, pos)) != std::string_view::npos) {
    const auto header_end = log.find('\n', pos);
    if (header_end == std::string_view::npos) break;
    const std::string_view header =
        log.substr(pos + kBegin.size(), header_end - pos - kBegin.size());
    const auto end = log.find(kEnd, header_end);
    if (end == std::string_view::npos) {
      if (problems) problems->push_back("a block that never ends (the log was cut)");
      break;
    }
    pos = end + kEnd.size();
    const std::string block_kind = field(header, "kind");
    if (!kind.empty() && block_kind != kind) continue;
    std::string b64;
    for (char c : log.substr(header_end + 1, end - header_end - 1))
      if (c != '\n' && c != '\r' && c != ' ') b64 += c;
    auto text = base64_decode(b64);
    if (!text || std::to_string(text->size()) != field(header, "bytes") ||
        sha256_hex(*text) != field(header, "sha256")) {
      if (problems)
        problems->push_back("a '" + block_kind + "' block is damaged (length or digest)");
      continue;
    }
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded()) {
      if (problems) problems->push_back("a '" + block_kind + "' block is not JSON");
      continue;
    }
    out.push_back({block_kind, std::move(doc)});
  }
  return out;
}

std::optional<nlohmann::json> decode_last(std::string_view log, std::string_view kind,
                                          std::vector<std::string>* problems) {
  auto all = decode_all(log, kind, problems);
  if (all.empty()) return std::nullopt;
  return std::move(all.back().payload);
}

}  // namespace kgate::log_block
