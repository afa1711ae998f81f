#include "kgate/kube/client.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>

#include "kgate/http.hpp"
#include "kgate/url.hpp"

namespace kgate::kube {

namespace {

using Clock = std::chrono::steady_clock;

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

std::string what_of(const Operation& op) {
  std::string out = op.verb + " " + op.resource;
  if (!op.subresource.empty()) out += "/" + op.subresource;
  if (!op.name.empty()) out += " " + in_quotes(op.name);
  if (!op.ns.empty()) out += " in namespace " + in_quotes(op.ns);
  return out;
}

bool retryable_status(int status) {
  return status == 429 || (status >= 500 && status != 501);
}

}  // namespace

// --- resource types -------------------------------------------------------------------------

std::string ResourceType::path(std::string_view ns, std::string_view name,
                               std::string_view subresource) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + std::string(ns);
  p += "/" + plural;
  if (!name.empty()) p += "/" + std::string(name);
  if (!subresource.empty()) p += "/" + std::string(subresource);
  return p;
}

namespace resources {
const ResourceType pods{"", "v1", "pods", true};
const ResourceType services{"", "v1", "services", true};
const ResourceType endpoints{"", "v1", "endpoints", true};
const ResourceType endpoint_slices{"discovery.k8s.io", "v1", "endpointslices", true};
const ResourceType nodes{"", "v1", "nodes", false};
const ResourceType namespaces{"", "v1", "namespaces", false};
const ResourceType events{"", "v1", "events", true};
const ResourceType config_maps{"", "v1", "configmaps", true};
const ResourceType secrets{"", "v1", "secrets", true};
const ResourceType service_accounts{"", "v1", "serviceaccounts", true};
const ResourceType deployments{"apps", "v1", "deployments", true};
const ResourceType replica_sets{"apps", "v1", "replicasets", true};
const ResourceType leases{"coordination.k8s.io", "v1", "leases", true};
const ResourceType horizontal_pod_autoscalers{"autoscaling", "v2", "horizontalpodautoscalers",
                                              true};
const ResourceType api_services{"apiregistration.k8s.io", "v1", "apiservices", false};
}  // namespace resources

std::string query_escape(std::string_view value) {
  return url_encode_segment(value);  // the same unreserved set (RFC 3986) in either place
}

std::string describe_error(const Operation& op, int http_status, const std::string& body) {
  json status = json::parse(body, nullptr, false);
  std::string message, reason;
  if (status.is_object() && status.value("kind", "") == "Status") {
    message = status.value("message", "");
    reason = status.value("reason", "");
  } else {
    message = body.substr(0, 300);
  }
  std::string out;
  if (http_status == 403) {
    out = "forbidden: kgate may not " + op.verb + " " + op.resource +
          (op.subresource.empty() ? "" : "/" + op.subresource) +
          (op.ns.empty() ? " (cluster-wide)" : " in namespace " + in_quotes(op.ns)) +
          "; grant it with RBAC";
  } else if (http_status == 401) {
    out = "unauthorized: the API server rejected kgate's credentials to " + what_of(op) +
          "; check the kubeconfig user";
  } else {
    out = what_of(op) + " failed";
  }
  out += " (HTTP " + std::to_string(http_status) + (reason.empty() ? "" : " " + reason) + ")";
  if (!message.empty()) out += ": " + message;
  return out;
}

// --- client ---------------------------------------------------------------------------------

struct Client::Impl {
  Impl(ClusterConfig c, ClientOptions o) : config(std::move(c)), options(std::move(o)) {}

  ClusterConfig config;
  ClientOptions options;
  std::mutex mutex;  // guards everything below
  std::unique_ptr<http::Client> http;
  std::string token;  // current bearer token, from any source
  Clock::time_point token_read{};
  std::optional<std::chrono::system_clock::time_point> exec_expires;
  std::string exec_cert, exec_key;

  struct Answer {
    int status = 0;
    std::string body;
    http::Headers headers;
  };

  http::ClientOptions http_options() const {
    http::ClientOptions o;
    o.connect_timeout = options.connect_timeout;
    o.request_timeout = options.request_timeout;
    o.verify_tls = !config.insecure_skip_tls_verify;
    o.ca_pem = config.ca_pem;
    o.server_name = config.tls_server_name;
    o.client_cert_pem = exec_cert.empty() ? config.client_cert_pem : exec_cert;
    o.client_key_pem = exec_key.empty() ? config.client_key_pem : exec_key;
    o.user_agent = options.user_agent;
    return o;
  }

  // Refreshes credentials that expire or rotate. Called under the lock.
  void refresh_credentials(bool force) {
    if (config.exec) {
      const bool expired = exec_expires && *exec_expires - std::chrono::seconds(10) <
                                               std::chrono::system_clock::now();
      if (force || token_read == Clock::time_point{} || expired) {
        ExecCredential cred = run_exec_plugin(*config.exec, config);
        token = cred.token;
        exec_expires = cred.expires;
        token_read = Clock::now();
        if (cred.client_cert_pem != exec_cert || cred.client_key_pem != exec_key) {
          exec_cert = cred.client_cert_pem;
          exec_key = cred.client_key_pem;
          http.reset();
        }
      }
    } else if (!config.token_file.empty()) {
      // As client-go does: a projected token rotates, so re-read it at least every minute.
      if (force || Clock::now() - token_read > std::chrono::minutes(1)) {
        token = read_token_file(config.token_file);
        token_read = Clock::now();
      }
    } else {
      token = config.token;
    }
    if (!http) http = std::make_unique<http::Client>(http_options());
  }

  http::Request make_request(const std::string& method, const std::string& path,
                             const std::string& body, const std::string& content_type) {
    http::Request req;
    req.method = method;
    req.url = config.server + path;
    req.headers.emplace_back("Accept", "application/json");
    if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    req.body = body;
    return req;
  }

  std::chrono::milliseconds backoff(int attempt, const http::Headers* headers) const {
    if (headers) {
      if (auto after = http::find_header(*headers, "Retry-After")) {
        try {
          return std::min<std::chrono::milliseconds>(std::chrono::seconds(std::stoi(*after)),
                                                     options.backoff_cap);
        } catch (const std::exception&) {
        }
      }
    }
    auto d = options.backoff_base * (1 << std::min(attempt, 10));
    return std::min<std::chrono::milliseconds>(d, options.backoff_cap);
  }

  Answer call(const std::string& method, const std::string& path, const std::string& body = {},
              const std::string& content_type = {}) {
    // A create that failed after being sent may have happened: only connection failures before
    // sending are retried for it. Everything else is idempotent enough to repeat.
    const bool idempotent = method != "POST";
    bool reauthenticated = false;
    for (int attempt = 0;; ++attempt) {
      Answer answer;
      try {
        std::lock_guard lock(mutex);
        refresh_credentials(false);
        auto res = http->send(make_request(method, path, body, content_type));
        answer = {res.status, std::move(res.body), std::move(res.headers)};
      } catch (const http::TransportError& e) {
        const bool before_send =
            e.kind() == http::ErrorKind::Connect || e.kind() == http::ErrorKind::Resolve;
        if (e.kind() == http::ErrorKind::Interrupted || (!idempotent && !before_send) ||
            attempt >= options.max_retries) {
          throw;
        }
        std::this_thread::sleep_for(backoff(attempt, nullptr));
        continue;
      }
      if (answer.status == 401 && !reauthenticated && (config.exec || !config.token_file.empty())) {
        reauthenticated = true;  // a rotated or expired credential: fetch a fresh one once
        std::lock_guard lock(mutex);
        refresh_credentials(true);
        continue;
      }
      if (retryable_status(answer.status) && attempt < options.max_retries &&
          (idempotent || answer.status == 429 || answer.status == 503)) {
        std::this_thread::sleep_for(backoff(attempt, &answer.headers));
        continue;
      }
      return answer;
    }
  }

  json call_json(const Operation& op, const std::string& method, const std::string& path,
                 const std::string& body = {}, const std::string& content_type = {}) {
    Answer a = call(method, path, body, content_type);
    if (a.status < 200 || a.status >= 300) throw_error(op, a);
    json out = json::parse(a.body, nullptr, false);
    if (out.is_discarded()) {
      throw ApiError(a.status, "", what_of(op) + ": the API server's answer is not JSON", nullptr);
    }
    return out;
  }

  [[noreturn]] static void throw_error(const Operation& op, const Answer& a) {
    json status = json::parse(a.body, nullptr, false);
    std::string reason;
    if (status.is_object()) {
      reason = status.value("reason", "");
    } else {
      status = nullptr;
    }
    throw ApiError(a.status, reason, describe_error(op, a.status, a.body), status);
  }
};

Client::Client(ClusterConfig config, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}
Client::~Client() = default;

const ClusterConfig& Client::config() const {
  return impl_->config;
}

json Client::get(const ResourceType& type, std::string_view ns, std::string_view name,
                 std::string_view subresource) {
  Operation op{"get", type.plural, std::string(name), std::string(ns), std::string(subresource)};
  return impl_->call_json(op, "GET", type.path(ns, name, subresource));
}

std::optional<json> Client::find(const ResourceType& type, std::string_view ns,
                                 std::string_view name) {
  try {
    return get(type, ns, name);
  } catch (const ApiError& e) {
    if (e.http_status() == 404) return std::nullopt;
    throw;
  }
}

json Client::list(const ResourceType& type, std::string_view ns, const ListOptions& options) {
  Operation op{"list", type.plural, "", std::string(ns), ""};
  json result;
  std::string continue_token;
  int restarts = 0;  // bounded: a server expiring every token must not loop us forever
  // Not do-while: the `continue` below (a 410 restart) must start over, not end the loop.
  for (;;) {
    std::string q = "?limit=" + std::to_string(options.page_size);
    if (!options.label_selector.empty())
      q += "&labelSelector=" + query_escape(options.label_selector);
    if (!options.field_selector.empty())
      q += "&fieldSelector=" + query_escape(options.field_selector);
    if (!continue_token.empty()) {
      q += "&continue=" + query_escape(continue_token);
    } else if (!options.resource_version.empty()) {
      q += "&resourceVersion=" + query_escape(options.resource_version);
    }
    json page;
    try {
      page = impl_->call_json(op, "GET", type.path(ns) + q);
    } catch (const ApiError& e) {
      // An expired continue token: the snapshot is gone, so start the list again.
      if (e.http_status() == 410 && !continue_token.empty() && restarts++ < 3) {
        continue_token.clear();
        result = json();
        continue;
      }
      throw;
    }
    if (result.is_null()) {
      result = page;
      if (!result.contains("items") || result["items"].is_null()) result["items"] = json::array();
    } else if (page.contains("items") && page["items"].is_array()) {
      for (auto& item : page["items"]) result["items"].push_back(std::move(item));
    }
    continue_token = page.contains("metadata") ? page["metadata"].value("continue", "") : "";
    if (continue_token.empty()) break;
  }
  if (result.contains("metadata")) result["metadata"].erase("continue");
  return result;
}

json Client::create(const ResourceType& type, std::string_view ns, const json& object,
                    std::string_view name, std::string_view subresource) {
  std::string object_name = std::string(name);
  if (object_name.empty() && object.contains("metadata")) {
    object_name = object["metadata"].value("name", "");
  }
  Operation op{"create", type.plural, object_name, std::string(ns), std::string(subresource)};
  return impl_->call_json(op, "POST", type.path(ns, name, subresource), object.dump(),
                          "application/json");
}

json Client::update(const ResourceType& type, std::string_view ns, std::string_view name,
                    const json& object, std::string_view subresource) {
  Operation op{"update", type.plural, std::string(name), std::string(ns), std::string(subresource)};
  return impl_->call_json(op, "PUT", type.path(ns, name, subresource), object.dump(),
                          "application/json");
}

json Client::patch(const ResourceType& type, std::string_view ns, std::string_view name,
                   const json& patch, PatchType kind, std::string_view subresource) {
  Operation op{"patch", type.plural, std::string(name), std::string(ns), std::string(subresource)};
  const char* content_type = kind == PatchType::Merge ? "application/merge-patch+json"
                             : kind == PatchType::StrategicMerge
                                 ? "application/strategic-merge-patch+json"
                                 : "application/json-patch+json";
  return impl_->call_json(op, "PATCH", type.path(ns, name, subresource), patch.dump(),
                          content_type);
}

std::optional<json> Client::remove(const ResourceType& type, std::string_view ns,
                                   std::string_view name, const DeleteOptions& options) {
  Operation op{"delete", type.plural, std::string(name), std::string(ns), ""};
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  auto a = impl_->call("DELETE", type.path(ns, name), body.dump(), "application/json");
  if (a.status == 404) return std::nullopt;
  if (a.status < 200 || a.status >= 300) Impl::throw_error(op, a);
  return json::parse(a.body, nullptr, false);
}

void Client::evict(std::string_view ns, std::string_view pod) {
  json eviction = {{"apiVersion", "policy/v1"},
                   {"kind", "Eviction"},
                   {"metadata", {{"name", pod}, {"namespace", ns}}}};
  create(resources::pods, ns, eviction, pod, "eviction");
}

std::string Client::logs(std::string_view ns, std::string_view pod, std::string_view container) {
  LogOptions o;
  o.container = std::string(container);
  return logs(ns, pod, o);
}

std::string Client::logs(std::string_view ns, std::string_view pod, const LogOptions& options) {
  Operation op{"get", "pods", std::string(pod), std::string(ns), "log"};
  std::string query;
  auto add = [&query](const std::string& key, const std::string& value) {
    query += (query.empty() ? "?" : "&") + key + "=" + query_escape(value);
  };
  if (!options.container.empty()) add("container", options.container);
  if (options.tail_lines) add("tailLines", std::to_string(*options.tail_lines));
  if (options.limit_bytes) add("limitBytes", std::to_string(*options.limit_bytes));
  if (options.since_seconds) add("sinceSeconds", std::to_string(*options.since_seconds));
  if (options.previous) add("previous", "true");
  const std::string path = resources::pods.path(ns, pod, "log") + query;
  auto a = impl_->call("GET", path);
  if (a.status < 200 || a.status >= 300) Impl::throw_error(op, a);
  return a.body;
}

json Client::raw_get(const std::string& path) {
  Operation op{"get", path, "", "", ""};
  return impl_->call_json(op, "GET", path);
}

void Client::watch(const ResourceType& type, std::string_view ns, const WatchOptions& options,
                   const std::function<bool(const WatchEvent&)>& handler,
                   const std::atomic<bool>* stop) {
  auto stopped = [&] { return stop && stop->load(); };
  std::string rv = options.resource_version;
  auto relist = [&]() -> bool {
    ListOptions lo;
    lo.label_selector = options.label_selector;
    lo.field_selector = options.field_selector;
    json list = this->list(type, ns, lo);
    rv = list["metadata"].value("resourceVersion", "");
    return handler(WatchEvent{"RELIST", std::move(list)});
  };
  if (rv.empty() && !relist()) return;

  Operation op{"watch", type.plural, "", std::string(ns), ""};
  int failures = 0;
  while (!stopped()) {
    std::string q = "?watch=1&resourceVersion=" + query_escape(rv) +
                    "&timeoutSeconds=" + std::to_string(options.timeout_seconds);
    if (options.bookmarks) q += "&allowWatchBookmarks=true";
    if (!options.label_selector.empty())
      q += "&labelSelector=" + query_escape(options.label_selector);
    if (!options.field_selector.empty())
      q += "&fieldSelector=" + query_escape(options.field_selector);

    bool gone = false, handler_done = false, got_event = false;
    json stream_error;  // an ERROR event other than 410
    std::string pending;
    auto on_body = [&](std::string_view chunk) {
      if (stopped()) return false;
      pending.append(chunk);
      std::size_t start = 0, nl;
      while ((nl = pending.find('\n', start)) != std::string::npos) {
        std::string_view line(pending.data() + start, nl - start);
        start = nl + 1;
        if (line.empty()) continue;
        json ev = json::parse(line, nullptr, false);
        if (!ev.is_object()) continue;
        WatchEvent event{ev.value("type", ""), std::move(ev["object"])};
        if (event.type == "ERROR") {
          // The stream's own error: 410 means our resourceVersion is too old to resume from.
          if (event.object.is_object() && event.object.value("code", 0) == 410) {
            gone = true;
          } else {
            stream_error = event.object;
          }
          return false;
        }
        got_event = true;
        if (event.object.contains("metadata")) {
          rv = event.object["metadata"].value("resourceVersion", rv);
        }
        if (!handler(event)) {
          handler_done = true;
          return false;
        }
      }
      pending.erase(0, start);
      return true;
    };

    http::Response res;
    try {
      std::unique_ptr<http::Client> stream_client;
      http::Request req;
      {
        std::lock_guard lock(impl_->mutex);
        impl_->refresh_credentials(false);
        stream_client = std::make_unique<http::Client>(impl_->http_options());
        req = impl_->make_request("GET", type.path(ns) + q, "", "");
      }
      res = stream_client->stream(req, on_body, options.idle_timeout);
    } catch (const http::TransportError& e) {
      if (e.kind() == http::ErrorKind::Interrupted) throw;
      if (got_event) failures = 0;
      if (++failures > impl_->options.max_retries) throw;
      std::this_thread::sleep_for(impl_->backoff(failures, nullptr));
      continue;  // a dropped stream: resume from rv
    }
    if (handler_done) return;
    if (res.status == 410) gone = true;
    if (gone) {
      if (!relist()) return;
      failures = 0;
      continue;
    }
    if (res.status < 200 || res.status >= 300) {
      if (retryable_status(res.status) && ++failures <= impl_->options.max_retries) {
        std::this_thread::sleep_for(impl_->backoff(failures, &res.headers));
        continue;
      }
      Impl::Answer a{res.status, res.body, res.headers};
      Impl::throw_error(op, a);
    }
    if (!stream_error.is_null()) {
      // Any other error in the stream: back off and resume, bounded like transport failures.
      if (++failures > impl_->options.max_retries) {
        Impl::Answer a{stream_error.is_object() ? stream_error.value("code", 500) : 500,
                       stream_error.dump(),
                       {}};
        Impl::throw_error(op, a);
      }
      std::this_thread::sleep_for(impl_->backoff(failures, nullptr));
      continue;
    }
    failures = 0;  // the server ended the stream (timeoutSeconds): resume
  }
}

}  // namespace kgate::kube
