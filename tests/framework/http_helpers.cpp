#include "framework/http_helpers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace kgate::testfw {

ApiClient::ApiClient(std::string base_url, std::string token, kgate::http::ClientOptions options)
    : base_(std::move(base_url)), token_(std::move(token)), client_(options) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

kgate::http::Response ApiClient::send(const std::string& method, const std::string& path,
                                      std::string body, kgate::http::Headers headers) {
  kgate::http::Request request;
  request.method = method;
  request.url = base_ + path;
  if (!token_.empty() && !kgate::http::find_header(headers, "Authorization")) {
    headers.emplace_back("Authorization", "Bearer " + token_);
  }
  if (!body.empty() && !kgate::http::find_header(headers, "Content-Type")) {
    headers.emplace_back("Content-Type", "application/json");
  }
  request.headers = std::move(headers);
  request.body = std::move(body);
  return client_.send(request);
}

kgate::http::Response ApiClient::get(const std::string& path, kgate::http::Headers headers) {
  return send("GET", path, {}, std::move(headers));
}

kgate::http::Response ApiClient::del(const std::string& path, kgate::http::Headers headers) {
  return send("DELETE", path, {}, std::move(headers));
}

kgate::http::Response ApiClient::post(const std::string& path, const nlohmann::json& body,
                                      kgate::http::Headers headers) {
  return send("POST", path, body.dump(), std::move(headers));
}

kgate::http::Response ApiClient::put(const std::string& path, const nlohmann::json& body,
                                     kgate::http::Headers headers) {
  return send("PUT", path, body.dump(), std::move(headers));
}

kgate::http::Response ApiClient::patch(const std::string& path, kgate::http::Headers headers) {
  return send("PATCH", path, {}, std::move(headers));
}

nlohmann::json json_body(const kgate::http::Response& response) {
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_discarded()) {
    throw std::runtime_error("response " + std::to_string(response.status) +
                             " is not JSON: " + response.body.substr(0, 500));
  }
  return parsed;
}

RawConnection::RawConnection(unsigned short port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + std::strerror(err));
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void RawConnection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    sent += static_cast<std::size_t>(n);
  }
}

bool RawConnection::fill(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    char buf[16384];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<std::string> RawConnection::read_response(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  std::size_t length = 0;
  std::string head = buffer_.substr(0, header_end);
  std::string lower = head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto pos = lower.find("\r\ncontent-length:"); pos != std::string::npos) {
    length = std::stoul(lower.substr(pos + 17));
  }
  while (buffer_.size() < header_end + 4 + length) {
    if (!fill(deadline)) return std::nullopt;
  }
  std::string response = buffer_.substr(0, header_end + 4 + length);
  buffer_.erase(0, header_end + 4 + length);
  return response;
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;  // EOF or reset
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

int raw_status(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

}  // namespace kgate::testfw
