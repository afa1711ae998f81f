#pragma once
// A Kubernetes API client over kgate's HTTP client (Beast + OpenSSL stay in common/src/http.cpp):
// get, list with paging, watch with resume and relist, create, update, patch, delete, and
// subresources. Objects are nlohmann::json, as the API serves them. Thread-safe: calls from
// several threads share one kept-alive connection under a lock; each watch has its own.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kgate/kube/config.hpp"

namespace kgate::kube {

using nlohmann::json;

// Where a kind of object lives in the API.
struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "pods"
  bool namespaced = true;

  // /api/v1/namespaces/ns/pods/name/status, or /apis/apps/v1/deployments for a cluster-wide list.
  std::string path(std::string_view ns, std::string_view name = {},
                   std::string_view subresource = {}) const;
  std::string group_version() const { return group.empty() ? version : group + "/" + version; }
};

namespace resources {
extern const ResourceType pods, services, endpoints, endpoint_slices, nodes, namespaces, events,
    config_maps, secrets, service_accounts, deployments, replica_sets, leases,
    horizontal_pod_autoscalers, api_services;
}

// A non-2xx answer. what() says what was attempted and what the API said; for 403 it names the
// verb, resource and namespace kgate lacks.
class ApiError : public std::runtime_error {
 public:
  ApiError(int http_status, std::string reason, const std::string& message, json status)
      : std::runtime_error(message),
        http_status_(http_status),
        reason_(std::move(reason)),
        status_(std::move(status)) {}
  int http_status() const { return http_status_; }
  const std::string& reason() const { return reason_; }  // Status.reason: NotFound, Conflict...
  const json& status() const { return status_; }         // the Status object, or null

 private:
  int http_status_;
  std::string reason_;
  json status_;
};

// What one call was, for messages: "list pods in namespace \"x\"".
struct Operation {
  std::string verb;  // get, list, watch, create, update, patch, delete
  std::string resource;
  std::string name;
  std::string ns;
  std::string subresource;
};
// Turns an error answer (a Status object, or any body) into the message ApiError carries.
std::string describe_error(const Operation& op, int http_status, const std::string& body);

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};
  // Retries of 429, 5xx and dropped connections, with exponential backoff (Retry-After wins).
  int max_retries = 5;
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_cap{5000};
  std::string user_agent = "kgate";
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::int64_t page_size = 500;  // limit per request; pages are followed with continue
  std::string resource_version;
};

struct DeleteOptions {
  std::optional<std::int64_t> grace_period_seconds;
  std::string propagation_policy;  // Foreground, Background, Orphan
  std::string precondition_uid;
  std::string precondition_resource_version;
};

// Which part of a container's log to read (the log subresource's parameters).
struct LogOptions {
  std::string container;
  std::optional<std::int64_t> tail_lines;     // only the last lines
  std::optional<std::int64_t> limit_bytes;    // at most this much
  std::optional<std::int64_t> since_seconds;  // only what was written in the last seconds
  bool previous = false;                      // the instance before the last restart
};

enum class PatchType { Merge, StrategicMerge, Json };

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK; RELIST carries the whole list
  json object;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // empty: list first (delivered as RELIST), then watch from it
  int timeout_seconds = 300;     // server-side end of each stream; it is resumed transparently
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(2)};
  bool bookmarks = true;
};

class Client {
 public:
  explicit Client(ClusterConfig config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  json get(const ResourceType& type, std::string_view ns, std::string_view name,
           std::string_view subresource = {});
  // get, or nullopt on 404.
  std::optional<json> find(const ResourceType& type, std::string_view ns, std::string_view name);
  // Every page, followed by continue; the result is a List with all items.
  json list(const ResourceType& type, std::string_view ns, const ListOptions& options = {});
  json create(const ResourceType& type, std::string_view ns, const json& object,
              std::string_view name = {}, std::string_view subresource = {});
  json update(const ResourceType& type, std::string_view ns, std::string_view name,
              const json& object, std::string_view subresource = {});
  json patch(const ResourceType& type, std::string_view ns, std::string_view name,
             const json& patch, PatchType kind = PatchType::Merge,
             std::string_view subresource = {});
  // The deleted object or a Status; nullopt when it was already gone (404).
  std::optional<json> remove(const ResourceType& type, std::string_view ns, std::string_view name,
                             const DeleteOptions& options = {});

  // Evicts a pod through the eviction subresource (PodDisruptionBudgets apply).
  void evict(std::string_view ns, std::string_view pod);
  // A container's log (the log subresource).
  std::string logs(std::string_view ns, std::string_view pod, std::string_view container = {});
  std::string logs(std::string_view ns, std::string_view pod, const LogOptions& options);
  // Any path: discovery (/apis), metrics (/apis/metrics.k8s.io/...). Throws ApiError on non-2xx.
  json raw_get(const std::string& path);

  // Streams events to handler until it returns false or *stop becomes true. A dropped or ended
  // stream resumes from the last resourceVersion seen (bookmarks advance it); 410 Gone relists
  // and delivers a RELIST event. Gives up after max_retries consecutive failures.
  void watch(const ResourceType& type, std::string_view ns, const WatchOptions& options,
             const std::function<bool(const WatchEvent&)>& handler,
             const std::atomic<bool>* stop = nullptr);

  const ClusterConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query value.
std::string query_escape(std::string_view value);

}  // namespace kgate::kube
