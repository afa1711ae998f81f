#include "kgate/kube/client.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/test_server.hpp"
#include "kgate/http.hpp"

namespace kgate::kube {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::RawRequest;
using test::Reply;
using test::TestServer;
using Clock = std::chrono::steady_clock;

// --- replies --------------------------------------------------------------------------------

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 410:
      return "Gone";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Whatever";
  }
}

// A complete answer with Content-Length (the connection stays usable).
Reply answer(int status, const std::string& body, const std::string& extra_headers = "",
             const std::string& content_type = "application/json") {
  return TestServer::raw("HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
                         "\r\nContent-Type: " + content_type + "\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body);
}
Reply answer(int status, const json& body, const std::string& extra_headers = "") {
  return answer(status, body.dump(), extra_headers);
}

json status_object(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"},          {"apiVersion", "v1"}, {"status", "Failure"},
          {"message", message},        {"reason", reason},   {"code", code},
          {"metadata", json::object()}};
}
json success_status() {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}, {"code", 200}};
}
Reply status_reply(int code, const std::string& reason, const std::string& message) {
  return answer(code, status_object(code, reason, message));
}

json pod(const std::string& name, const std::string& rv) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "x"}, {"resourceVersion", rv}}}};
}

json pod_list(const std::string& rv, std::vector<json> items, const std::string& cont = "") {
  json meta = {{"resourceVersion", rv}};
  if (!cont.empty()) meta["continue"] = cont;
  return {{"apiVersion", "v1"}, {"kind", "PodList"}, {"metadata", meta}, {"items", items}};
}

json event(const std::string& type, const json& object) {
  return {{"type", type}, {"object", object}};
}

// A watch stream as the API server sends it: no Content-Length, one JSON event per line. With
// close_after the connection ends after the events; without it the stream stays open and quiet
// (the test server then waits for another request the client never sends).
Reply stream_reply(const std::vector<json>& events, bool close_after = true) {
  std::string raw =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
  for (const auto& e : events) raw += e.dump() + "\n";
  return TestServer::raw(raw, close_after);
}

// --- request inspection ---------------------------------------------------------------------

struct Target {
  std::string path;
  std::map<std::string, std::string> query;  // values as sent (still percent-encoded)
};

Target split(const std::string& target) {
  Target t;
  const auto q = target.find('?');
  t.path = target.substr(0, q);
  if (q == std::string::npos) return t;
  std::stringstream ss(target.substr(q + 1));
  std::string kv;
  while (std::getline(ss, kv, '&')) {
    const auto eq = kv.find('=');
    t.query[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  return t;
}

bool is_watch(const RawRequest& r) {
  return split(r.target).query.count("watch") != 0;
}

// --- fixture --------------------------------------------------------------------------------

class KubeClient : public ::testing::Test {
 protected:
  using Script = std::function<Reply(const RawRequest&, int index)>;

  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "kgate-kube-client-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    server_ = std::make_unique<TestServer>([this](const RawRequest& req) {
      Script script;
      int index;
      {
        std::lock_guard lock(mutex_);
        index = static_cast<int>(received_.size());
        received_.push_back(req);
        script = script_;
      }
      if (!script) return status_reply(400, "BadRequest", "no script");
      return script(req, index);
    });
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  // Replies in order; requests beyond the list get a 400 (not retried) so a test fails fast.
  void serve(std::vector<Reply> replies) {
    std::lock_guard lock(mutex_);
    script_ = [replies = std::move(replies)](const RawRequest&, int index) {
      if (index < static_cast<int>(replies.size())) return replies[static_cast<size_t>(index)];
      return status_reply(400, "BadRequest", "unexpected request");
    };
  }
  void serve(Script script) {
    std::lock_guard lock(mutex_);
    script_ = std::move(script);
  }

  std::vector<RawRequest> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

  ClusterConfig cluster() const {
    ClusterConfig c;
    c.server = server_->url("");  // http://127.0.0.1:PORT, no trailing slash
    c.source = "test";
    return c;
  }
  static ClientOptions fast() {
    ClientOptions o;
    o.connect_timeout = 2s;
    o.request_timeout = 5s;
    o.max_retries = 3;
    o.backoff_base = 1ms;
    o.backoff_cap = 20ms;
    return o;
  }

  std::string write(const std::string& name, const std::string& text, bool executable = false) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    if (executable) ::chmod(p.c_str(), 0755);
    return p.string();
  }
  std::string read(const std::string& name) const {
    std::ifstream in(dir_ / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path dir_;
  std::unique_ptr<TestServer> server_;
  std::mutex mutex_;
  std::vector<RawRequest> received_;
  Script script_;
};

// --- paths and verbs ------------------------------------------------------------------------

TEST(ResourceTypePath, CoreGroupedClusterScoped) {
  EXPECT_EQ(resources::pods.path("x"), "/api/v1/namespaces/x/pods");
  EXPECT_EQ(resources::pods.path(""), "/api/v1/pods");
  EXPECT_EQ(resources::pods.path("x", "p", "status"), "/api/v1/namespaces/x/pods/p/status");
  EXPECT_EQ(resources::deployments.path("x", "d", "scale"),
            "/apis/apps/v1/namespaces/x/deployments/d/scale");
  EXPECT_EQ(resources::nodes.path("ignored", "n1"), "/api/v1/nodes/n1");
  EXPECT_EQ(resources::horizontal_pod_autoscalers.group_version(), "autoscaling/v2");
  EXPECT_EQ(resources::pods.group_version(), "v1");
}

TEST(QueryEscape, ReservedCharacters) {
  EXPECT_EQ(query_escape("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(query_escape("app in (a,b),x=y"), "app%20in%20%28a%2Cb%29%2Cx%3Dy");
  EXPECT_EQ(query_escape("k!=v&z/+"), "k%21%3Dv%26z%2F%2B");
}

TEST_F(KubeClient, GetCorePodSendsHeadersAndReturnsObject) {
  serve({answer(200, pod("p", "5"))});
  Client client(cluster(), fast());
  json got = client.get(resources::pods, "x", "p");
  EXPECT_EQ(got, pod("p", "5"));
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/x/pods/p");
  EXPECT_EQ(reqs[0].header("Accept"), "application/json");
  EXPECT_EQ(reqs[0].header("User-Agent"), "kgate");
  EXPECT_EQ(reqs[0].header("Authorization"), "");
  EXPECT_EQ(reqs[0].header("Content-Type"), "");
  EXPECT_EQ(reqs[0].body, "");
}

TEST_F(KubeClient, GetGroupedClusterScopedAndRaw) {
  serve([](const RawRequest& r, int) { return answer(200, json{{"path", r.target}}); });
  ClientOptions o = fast();
  o.user_agent = "kgate-test/1";
  Client client(cluster(), o);
  EXPECT_EQ(client.get(resources::deployments, "x", "d")["path"],
            "/apis/apps/v1/namespaces/x/deployments/d");
  EXPECT_EQ(client.get(resources::nodes, "", "n1")["path"], "/api/v1/nodes/n1");
  EXPECT_EQ(client.get(resources::deployments, "x", "d", "scale")["path"],
            "/apis/apps/v1/namespaces/x/deployments/d/scale");
  EXPECT_EQ(client.raw_get("/apis/metrics.k8s.io/v1beta1/nodes")["path"],
            "/apis/metrics.k8s.io/v1beta1/nodes");
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 4u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.header("User-Agent"), "kgate-test/1");
  }
  EXPECT_EQ(server_->connections(), 1);  // kept alive
}

TEST_F(KubeClient, CreateAndUpdate) {
  const json dep = {{"apiVersion", "apps/v1"},
                    {"kind", "Deployment"},
                    {"metadata", {{"name", "d"}}},
                    {"spec", {{"replicas", 2}}}};
  serve({answer(201, pod("p", "1")), answer(200, dep), answer(200, dep)});
  Client client(cluster(), fast());
  EXPECT_EQ(client.create(resources::pods, "x", pod("p", "")), pod("p", "1"));
  EXPECT_EQ(client.update(resources::deployments, "x", "d", dep), dep);
  EXPECT_EQ(client.update(resources::nodes, "", "n1", dep), dep);
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/x/pods");
  EXPECT_EQ(reqs[0].header("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(reqs[0].body), pod("p", ""));
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[1].target, "/apis/apps/v1/namespaces/x/deployments/d");
  EXPECT_EQ(reqs[1].header("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(reqs[1].body), dep);
  EXPECT_EQ(reqs[2].method, "PUT");
  EXPECT_EQ(reqs[2].target, "/api/v1/nodes/n1");
}

TEST_F(KubeClient, PatchContentTypes) {
  serve([](const RawRequest&, int) { return answer(200, pod("p", "2")); });
  Client client(cluster(), fast());
  const json merge = {{"metadata", {{"labels", {{"a", "b"}}}}}};
  const json json_patch = json::array({{{"op", "add"}, {"path", "/spec/replicas"}, {"value", 3}}});
  client.patch(resources::pods, "x", "p", merge);  // Merge is the default
  client.patch(resources::deployments, "x", "d", merge, PatchType::StrategicMerge);
  client.patch(resources::nodes, "", "n1", json_patch, PatchType::Json);
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  for (const auto& r : reqs) EXPECT_EQ(r.method, "PATCH");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/x/pods/p");
  EXPECT_EQ(reqs[0].header("Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(json::parse(reqs[0].body), merge);
  EXPECT_EQ(reqs[1].target, "/apis/apps/v1/namespaces/x/deployments/d");
  EXPECT_EQ(reqs[1].header("Content-Type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(reqs[2].target, "/api/v1/nodes/n1");
  EXPECT_EQ(reqs[2].header("Content-Type"), "application/json-patch+json");
  EXPECT_EQ(json::parse(reqs[2].body), json_patch);
}

TEST_F(KubeClient, Subresources) {
  serve([](const RawRequest&, int) { return answer(200, json{{"kind", "Whatever"}}); });
  Client client(cluster(), fast());
  const json status = {{"status", {{"phase", "Running"}}}};
  const json scale = {{"kind", "Scale"}, {"spec", {{"replicas", 4}}}};
  const json binding = {{"apiVersion", "v1"},
                        {"kind", "Binding"},
                        {"metadata", {{"name", "p"}}},
                        {"target", {{"kind", "Node"}, {"name", "n1"}}}};
  client.update(resources::pods, "x", "p", status, "status");
  client.patch(resources::deployments, "x", "d", status, PatchType::Merge, "status");
  client.update(resources::deployments, "x", "d", scale, "scale");
  client.create(resources::pods, "x", binding, "p", "binding");
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].method + " " + reqs[0].target, "PUT /api/v1/namespaces/x/pods/p/status");
  EXPECT_EQ(reqs[1].method + " " + reqs[1].target,
            "PATCH /apis/apps/v1/namespaces/x/deployments/d/status");
  EXPECT_EQ(reqs[2].method + " " + reqs[2].target,
            "PUT /apis/apps/v1/namespaces/x/deployments/d/scale");
  EXPECT_EQ(json::parse(reqs[2].body), scale);
  EXPECT_EQ(reqs[3].method + " " + reqs[3].target, "POST /api/v1/namespaces/x/pods/p/binding");
  EXPECT_EQ(json::parse(reqs[3].body), binding);
}

TEST_F(KubeClient, EvictPostsEviction) {
  serve({answer(201, success_status())});
  Client client(cluster(), fast());
  client.evict("x", "p");
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/x/pods/p/eviction");
  EXPECT_EQ(reqs[0].header("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(reqs[0].body), (json{{"apiVersion", "policy/v1"},
                                             {"kind", "Eviction"},
                                             {"metadata", {{"name", "p"}, {"namespace", "x"}}}}));
}

TEST_F(KubeClient, EvictBlockedByBudgetThrows) {
  serve({status_reply(429, "TooManyRequests",
                      "Cannot evict pod as it would violate the pod's "
                      "disruption budget.")});
  ClientOptions o = fast();
  o.max_retries = 0;
  Client client(cluster(), o);
  try {
    client.evict("x", "p");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 429);
    EXPECT_EQ(e.reason(), "TooManyRequests");
    EXPECT_EQ(std::string(e.what()),
              "create pods/eviction \"p\" in namespace \"x\" failed (HTTP 429 TooManyRequests): "
              "Cannot evict pod as it would violate the pod's disruption budget.");
  }
}

TEST_F(KubeClient, LogsWithAndWithoutContainer) {
  serve([](const RawRequest&, int) {
    return answer(200, std::string("line 1\nline 2\n"), "", "text/plain");
  });
  Client client(cluster(), fast());
  EXPECT_EQ(client.logs("x", "p", "app"), "line 1\nline 2\n");
  EXPECT_EQ(client.logs("x", "p"), "line 1\nline 2\n");
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/x/pods/p/log?container=app");
  EXPECT_EQ(reqs[1].target, "/api/v1/namespaces/x/pods/p/log");
}

TEST_F(KubeClient, RemoveSendsDeleteOptions) {
  const json gone = success_status();
  serve({answer(200, pod("p", "9")), answer(200, gone), answer(200, gone)});
  Client client(cluster(), fast());
  DeleteOptions opts;
  opts.grace_period_seconds = 0;
  opts.propagation_policy = "Foreground";
  opts.precondition_uid = "uid-1";
  opts.precondition_resource_version = "42";
  EXPECT_EQ(client.remove(resources::pods, "x", "p", opts), pod("p", "9"));
  EXPECT_EQ(client.remove(resources::deployments, "x", "d"), gone);
  DeleteOptions orphan;
  orphan.propagation_policy = "Orphan";
  EXPECT_EQ(client.remove(resources::nodes, "", "n1", orphan), gone);

  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "DELETE");
    EXPECT_EQ(r.header("Content-Type"), "application/json");
  }
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/x/pods/p");
  EXPECT_EQ(json::parse(reqs[0].body),
            (json{{"kind", "DeleteOptions"},
                  {"apiVersion", "v1"},
                  {"gracePeriodSeconds", 0},
                  {"propagationPolicy", "Foreground"},
                  {"preconditions", {{"uid", "uid-1"}, {"resourceVersion", "42"}}}}));
  EXPECT_EQ(reqs[1].target, "/apis/apps/v1/namespaces/x/deployments/d");
  EXPECT_EQ(json::parse(reqs[1].body), (json{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}}));
  EXPECT_EQ(reqs[2].target, "/api/v1/nodes/n1");
  EXPECT_EQ(
      json::parse(reqs[2].body),
      (json{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Orphan"}}));
}

TEST_F(KubeClient, NotFoundIsNulloptForFindAndRemove) {
  serve({status_reply(404, "NotFound", "pods \"p\" not found"), answer(200, pod("q", "3")),
         status_reply(404, "NotFound", "pods \"p\" not found")});
  Client client(cluster(), fast());
  EXPECT_EQ(client.find(resources::pods, "x", "p"), std::nullopt);
  EXPECT_EQ(client.find(resources::pods, "x", "q"), pod("q", "3"));
  EXPECT_EQ(client.remove(resources::pods, "x", "p"), std::nullopt);
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);  // a 404 is not retried
  EXPECT_EQ(reqs[0].method + " " + reqs[0].target, "GET /api/v1/namespaces/x/pods/p");
  EXPECT_EQ(reqs[2].method + " " + reqs[2].target, "DELETE /api/v1/namespaces/x/pods/p");
}

TEST_F(KubeClient, FindAndRemoveStillThrowOtherErrors) {
  serve({status_reply(403, "Forbidden", "no"), status_reply(409, "Conflict", "precondition")});
  Client client(cluster(), fast());
  EXPECT_THROW(client.find(resources::pods, "x", "p"), ApiError);
  try {
    client.remove(resources::pods, "x", "p");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 409);
    EXPECT_EQ(e.reason(), "Conflict");
    EXPECT_EQ(std::string(e.what()),
              "delete pods \"p\" in namespace \"x\" failed (HTTP 409 Conflict): precondition");
  }
}

// --- list paging ----------------------------------------------------------------------------

TEST_F(KubeClient, ListFollowsContinueAndEncodesSelectors) {
  serve({answer(200, pod_list("7", {pod("a", "1"), pod("b", "2")}, "tok/1+==")),
         answer(200, pod_list("7", {pod("c", "3")}, "tok 2")),
         answer(200, pod_list("7", {pod("d", "4")}))});
  Client client(cluster(), fast());
  ListOptions lo;
  lo.page_size = 2;
  lo.label_selector = "app in (a,b),tier=web";
  lo.field_selector = "status.phase!=Running";
  lo.resource_version = "0";
  json list = client.list(resources::pods, "x", lo);
  ASSERT_EQ(list["items"].size(), 4u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "a");
  EXPECT_EQ(list["items"][1]["metadata"]["name"], "b");
  EXPECT_EQ(list["items"][2]["metadata"]["name"], "c");
  EXPECT_EQ(list["items"][3]["metadata"]["name"], "d");
  EXPECT_EQ(list["kind"], "PodList");
  EXPECT_EQ(list["metadata"]["resourceVersion"], "7");
  EXPECT_FALSE(list["metadata"].contains("continue"));

  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target,
            "/api/v1/namespaces/x/pods?limit=2&labelSelector=app%20in%20%28a%2Cb%29%2Ctier%3Dweb"
            "&fieldSelector=status.phase%21%3DRunning&resourceVersion=0");
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    Target t = split(reqs[i].target);
    EXPECT_EQ(reqs[i].method, "GET");
    EXPECT_EQ(t.path, "/api/v1/namespaces/x/pods");
    EXPECT_EQ(t.query["limit"], "2");
    EXPECT_EQ(t.query["labelSelector"], "app%20in%20%28a%2Cb%29%2Ctier%3Dweb");
    EXPECT_EQ(t.query["fieldSelector"], "status.phase%21%3DRunning");
    EXPECT_EQ(t.query.count("watch"), 0u);
  }
  // A continue page carries the token, never resourceVersion (the API rejects both).
  EXPECT_EQ(split(reqs[1].target).query["continue"], "tok%2F1%2B%3D%3D");
  EXPECT_EQ(split(reqs[1].target).query.count("resourceVersion"), 0u);
  EXPECT_EQ(split(reqs[2].target).query["continue"], "tok%202");
}

TEST_F(KubeClient, ListClusterScopedAndNullItems) {
  json empty = pod_list("3", {});
  empty["items"] = nullptr;
  serve({answer(200, empty)});
  Client client(cluster(), fast());
  json list = client.list(resources::nodes, "");
  EXPECT_EQ(list["items"], json::array());
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/api/v1/nodes?limit=500");
}

TEST_F(KubeClient, ListRestartsWhenContinueTokenExpires) {
  serve({answer(200, pod_list("7", {pod("a", "1")}, "t1")),
         status_reply(410, "Expired", "The provided continue parameter is too old"),
         answer(200, pod_list("9", {pod("x1", "8")}, "t2")),
         answer(200, pod_list("9", {pod("x2", "9")}))});
  Client client(cluster(), fast());
  ListOptions lo;
  lo.page_size = 1;
  json list = client.list(resources::pods, "x", lo);
  ASSERT_TRUE(list.is_object()) << list.dump();
  ASSERT_EQ(list["items"].size(), 2u) << list.dump();
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "x1");
  EXPECT_EQ(list["items"][1]["metadata"]["name"], "x2");
  EXPECT_EQ(list["metadata"]["resourceVersion"], "9");
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/x/pods?limit=1");
  EXPECT_EQ(reqs[1].target, "/api/v1/namespaces/x/pods?limit=1&continue=t1");
  EXPECT_EQ(reqs[2].target, "/api/v1/namespaces/x/pods?limit=1");  // from the beginning
  EXPECT_EQ(reqs[3].target, "/api/v1/namespaces/x/pods?limit=1&continue=t2");
}

TEST_F(KubeClient, ListGoneOnFirstPageThrows) {
  serve({status_reply(410, "Expired", "too old resource version")});
  Client client(cluster(), fast());
  ListOptions lo;
  lo.resource_version = "1";
  try {
    client.list(resources::pods, "x", lo);
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 410);
  }
  EXPECT_EQ(received().size(), 1u);
}

// --- errors ---------------------------------------------------------------------------------

TEST_F(KubeClient, NotFoundStatusBecomesApiError) {
  serve({status_reply(404, "NotFound", "pods \"p\" not found")});
  Client client(cluster(), fast());
  try {
    client.get(resources::pods, "x", "p");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 404);
    EXPECT_EQ(e.reason(), "NotFound");
    EXPECT_EQ(e.status()["kind"], "Status");
    EXPECT_EQ(e.status()["code"], 404);
    EXPECT_EQ(std::string(e.what()),
              "get pods \"p\" in namespace \"x\" failed (HTTP 404 NotFound): pods \"p\" not found");
  }
}

TEST_F(KubeClient, ForbiddenNamesVerbResourceAndNamespace) {
  const std::string msg =
      "pods is forbidden: User \"system:serviceaccount:x:kgate\" cannot list resource \"pods\" in "
      "API group \"\" in the namespace \"x\"";
  serve({status_reply(403, "Forbidden", msg)});
  Client client(cluster(), fast());
  try {
    client.list(resources::pods, "x");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 403);
    EXPECT_EQ(e.reason(), "Forbidden");
    EXPECT_EQ(std::string(e.what()),
              "forbidden: kgate may not list pods in namespace \"x\"; grant it with RBAC "
              "(HTTP 403 Forbidden): " +
                  msg);
  }
  EXPECT_EQ(received().size(), 1u);  // not retried
}

TEST_F(KubeClient, UnauthorizedWithStaticTokenIsNotRetried) {
  serve({status_reply(401, "Unauthorized", "Unauthorized")});
  ClusterConfig c = cluster();
  c.token = "static-token";
  Client client(c, fast());
  try {
    client.get(resources::pods, "x", "p");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 401);
    EXPECT_EQ(std::string(e.what()),
              "unauthorized: the API server rejected kgate's credentials to get pods \"p\" in "
              "namespace \"x\"; check the kubeconfig user (HTTP 401 Unauthorized): Unauthorized");
    EXPECT_EQ(std::string(e.what()).find("static-token"), std::string::npos);
  }
  EXPECT_EQ(received().size(), 1u);
}

TEST_F(KubeClient, NonJsonErrorBody) {
  serve({answer(500, std::string("upstream connect error"), "", "text/plain")});
  Client client(cluster(), fast());
  try {
    client.create(resources::pods, "x", pod("p", ""));
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 500);
    EXPECT_EQ(e.reason(), "");
    EXPECT_TRUE(e.status().is_null());
    EXPECT_EQ(std::string(e.what()),
              "create pods \"p\" in namespace \"x\" failed (HTTP 500): upstream connect error");
  }
}

TEST_F(KubeClient, NonJsonSuccessBodyIsAnError) {
  serve({answer(200, std::string("<html>proxy</html>"), "", "text/html")});
  Client client(cluster(), fast());
  try {
    client.get(resources::deployments, "x", "d");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 200);
    EXPECT_EQ(std::string(e.what()),
              "get deployments \"d\" in namespace \"x\": the API server's answer is not JSON");
  }
}

TEST(DescribeError, ClusterScopedSubresourcesAndBodies) {
  const std::string forbidden = status_object(403, "Forbidden", "nodes is forbidden").dump();
  EXPECT_EQ(describe_error({"list", "nodes", "", "", ""}, 403, forbidden),
            "forbidden: kgate may not list nodes (cluster-wide); grant it with RBAC "
            "(HTTP 403 Forbidden): nodes is forbidden");
  EXPECT_EQ(describe_error({"get", "nodes", "n1", "", ""}, 404,
                           status_object(404, "NotFound", "nodes \"n1\" not found").dump()),
            "get nodes \"n1\" failed (HTTP 404 NotFound): nodes \"n1\" not found");
  EXPECT_EQ(describe_error({"patch", "nodes", "n1", "", "status"}, 401, "Unauthorized"),
            "unauthorized: the API server rejected kgate's credentials to patch nodes/status "
            "\"n1\"; check the kubeconfig user (HTTP 401): Unauthorized");
  EXPECT_EQ(describe_error({"update", "deployments", "d", "x", "scale"}, 403, forbidden),
            "forbidden: kgate may not update deployments/scale in namespace \"x\"; grant it with "
            "RBAC (HTTP 403 Forbidden): nodes is forbidden");
  // JSON that is not a Status is shown as it came; long bodies are cut.
  EXPECT_EQ(describe_error({"delete", "namespaces", "ns1", "", ""}, 500, R"({"error":"boom"})"),
            "delete namespaces \"ns1\" failed (HTTP 500): {\"error\":\"boom\"}");
  const std::string long_body(1000, 'z');
  EXPECT_EQ(describe_error({"get", "nodes", "", "", ""}, 502, long_body),
            "get nodes failed (HTTP 502): " + std::string(300, 'z'));
  EXPECT_EQ(describe_error({"get", "nodes", "", "", ""}, 502, ""), "get nodes failed (HTTP 502)");
}

// --- retries --------------------------------------------------------------------------------

TEST_F(KubeClient, TooManyRequestsHonoursRetryAfter) {
  serve({answer(429, status_object(429, "TooManyRequests", "slow down"), "Retry-After: 0\r\n"),
         answer(200, pod("p", "1"))});
  ClientOptions o = fast();
  o.backoff_base = 10s;  // would show as a slow test: Retry-After must win over the backoff
  o.backoff_cap = 10s;
  Client client(cluster(), o);
  const auto start = Clock::now();
  EXPECT_EQ(client.get(resources::pods, "x", "p"), pod("p", "1"));
  EXPECT_LT(Clock::now() - start, 2s);
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, reqs[1].target);
}

TEST_F(KubeClient, UnavailableBeyondMaxRetriesThrows) {
  serve([](const RawRequest&, int) {
    return status_reply(503, "ServiceUnavailable", "etcd is down");
  });
  ClientOptions o = fast();
  o.max_retries = 2;
  Client client(cluster(), o);
  try {
    client.list(resources::deployments, "x");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 503);
    EXPECT_EQ(e.reason(), "ServiceUnavailable");
  }
  EXPECT_EQ(received().size(), 3u);  // max_retries + 1
}

TEST_F(KubeClient, IdempotentVerbsRetryServerErrors) {
  serve({status_reply(500, "InternalError", "x"), answer(200, pod("p", "1")),
         status_reply(502, "", "bad gateway"), answer(200, pod("p", "2")),
         status_reply(501, "", "not implemented")});
  Client client(cluster(), fast());
  EXPECT_EQ(client.get(resources::pods, "x", "p"), pod("p", "1"));
  EXPECT_EQ(client.update(resources::pods, "x", "p", pod("p", "1")), pod("p", "2"));
  EXPECT_THROW(client.get(resources::pods, "x", "p"), ApiError);  // 501 is final
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[2].method, "PUT");
  EXPECT_EQ(reqs[3].method, "PUT");
  EXPECT_EQ(reqs[2].body, reqs[3].body);
}

TEST_F(KubeClient, CreateIsNotRetriedOnServerError) {
  serve({status_reply(500, "InternalError", "maybe created")});
  Client client(cluster(), fast());
  try {
    client.create(resources::pods, "x", pod("p", ""));
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 500);
  }
  EXPECT_EQ(received().size(), 1u);
}

TEST_F(KubeClient, CreateIsRetriedOn429And503) {
  serve({status_reply(429, "TooManyRequests", "x"), status_reply(503, "ServiceUnavailable", "x"),
         answer(201, pod("p", "1"))});
  Client client(cluster(), fast());
  EXPECT_EQ(client.create(resources::pods, "x", pod("p", "")), pod("p", "1"));
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(json::parse(r.body), pod("p", ""));
  }
}

TEST_F(KubeClient, GetRetriesAConnectionClosedBeforeAnswer) {
  serve({TestServer::raw("", true), answer(200, pod("p", "1"))});
  Client client(cluster(), fast());
  EXPECT_EQ(client.get(resources::pods, "x", "p"), pod("p", "1"));
  EXPECT_EQ(received().size(), 2u);
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(KubeClient, CreateIsNotRetriedAfterTheRequestWasSent) {
  serve({TestServer::raw("", true), answer(201, pod("p", "1"))});
  Client client(cluster(), fast());
  EXPECT_THROW(client.create(resources::pods, "x", pod("p", "")), http::TransportError);
  EXPECT_EQ(received().size(), 1u);
}

TEST_F(KubeClient, ConnectionFailuresBeyondMaxRetriesThrow) {
  serve([](const RawRequest&, int) { return TestServer::raw("", true); });
  ClientOptions o = fast();
  o.max_retries = 2;
  Client client(cluster(), o);
  EXPECT_THROW(client.get(resources::pods, "x", "p"), http::TransportError);
  EXPECT_EQ(received().size(), 3u);
}

// --- auth -----------------------------------------------------------------------------------

TEST_F(KubeClient, StaticTokenIsABearerHeader) {
  serve([](const RawRequest&, int) { return answer(200, pod("p", "1")); });
  ClusterConfig c = cluster();
  c.token = "tok-123";
  Client client(c, fast());
  client.get(resources::pods, "x", "p");
  client.create(resources::pods, "x", pod("p", ""));
  for (const auto& r : received()) EXPECT_EQ(r.header("Authorization"), "Bearer tok-123");
}

TEST_F(KubeClient, TokenFileIsReReadAfter401) {
  const std::string file = write("token", "old-token\n");
  serve([file](const RawRequest& r, int) {
    if (r.header("Authorization") == "Bearer old-token") {
      std::ofstream(file, std::ios::trunc) << "new-token\n";  // the kubelet rotated it
      return status_reply(401, "Unauthorized", "Unauthorized");
    }
    return answer(200, pod("p", "1"));
  });
  ClusterConfig c = cluster();
  c.token_file = file;
  Client client(c, fast());
  EXPECT_EQ(client.get(resources::pods, "x", "p"), pod("p", "1"));
  EXPECT_EQ(client.get(resources::pods, "x", "p"), pod("p", "1"));
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].header("Authorization"), "Bearer old-token");
  EXPECT_EQ(reqs[1].header("Authorization"), "Bearer new-token");
  EXPECT_EQ(reqs[2].header("Authorization"), "Bearer new-token");
}

TEST_F(KubeClient, TokenFileReauthenticatesOncePerCall) {
  const std::string file = write("token", "bad-token\n");
  serve([](const RawRequest&, int) { return status_reply(401, "Unauthorized", "Unauthorized"); });
  ClusterConfig c = cluster();
  c.token_file = file;
  Client client(c, fast());
  try {
    client.get(resources::pods, "x", "p");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 401);
  }
  EXPECT_EQ(received().size(), 2u);
}

TEST_F(KubeClient, ExecPluginTokenIsRefreshedAfter401) {
  const std::string counter = (dir_ / "runs").string();
  ExecConfig e;
  e.api_version = "client.authentication.k8s.io/v1";
  e.command =
      write("plugin.sh",
            "#!/bin/sh\n"
            "n=$(cat '" +
                counter +
                "' 2>/dev/null || echo 0)\n"
                "n=$((n + 1))\n"
                "echo $n > '" +
                counter +
                "'\n"
                "printf '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": "
                "\"ExecCredential\", \"status\": {\"token\": \"exec-token-%s\"}}\\n' \"$n\"\n",
            true);
  serve([](const RawRequest& r, int) {
    if (r.header("Authorization") == "Bearer exec-token-1") {
      return status_reply(401, "Unauthorized", "Unauthorized");
    }
    return answer(200, pod("p", "1"));
  });
  ClusterConfig c = cluster();
  c.exec = e;
  Client client(c, fast());
  EXPECT_EQ(client.get(resources::pods, "x", "p"), pod("p", "1"));
  EXPECT_EQ(client.get(resources::pods, "x", "p"), pod("p", "1"));
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].header("Authorization"), "Bearer exec-token-1");
  EXPECT_EQ(reqs[1].header("Authorization"), "Bearer exec-token-2");
  EXPECT_EQ(reqs[2].header("Authorization"), "Bearer exec-token-2");  // cached, not re-run
  EXPECT_EQ(read("runs"), "2\n");
}

// --- watch ----------------------------------------------------------------------------------

struct Collected {
  std::mutex mutex;
  std::vector<WatchEvent> events;
  void add(const WatchEvent& e) {
    std::lock_guard lock(mutex);
    events.push_back(e);
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
  std::vector<std::string> types() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.type);
    return out;
  }
};

using Types = std::vector<std::string>;

TEST_F(KubeClient, WatchListsFirstThenStreamsEventsInOrder) {
  serve({answer(200, pod_list("100", {pod("p1", "90")})),
         stream_reply({event("ADDED", pod("p2", "101")), event("MODIFIED", pod("p2", "102")),
                       event("DELETED", pod("p1", "103"))})});
  Client client(cluster(), fast());
  WatchOptions wo;
  wo.label_selector = "app=web";
  Collected got;
  client.watch(resources::pods, "x", wo, [&](const WatchEvent& e) {
    got.add(e);
    return e.type != "DELETED";
  });
  ASSERT_EQ(got.types(), (Types{"RELIST", "ADDED", "MODIFIED", "DELETED"}));
  EXPECT_EQ(got.events[0].object["kind"], "PodList");
  EXPECT_EQ(got.events[0].object["items"], json::array({pod("p1", "90")}));
  EXPECT_EQ(got.events[1].object, pod("p2", "101"));
  EXPECT_EQ(got.events[2].object, pod("p2", "102"));
  EXPECT_EQ(got.events[3].object, pod("p1", "103"));

  auto reqs = received();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/x/pods?limit=500&labelSelector=app%3Dweb");
  Target w = split(reqs[1].target);
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(w.path, "/api/v1/namespaces/x/pods");
  EXPECT_EQ(w.query["watch"], "1");
  EXPECT_EQ(w.query["resourceVersion"], "100");
  EXPECT_EQ(w.query["allowWatchBookmarks"], "true");
  EXPECT_EQ(w.query["timeoutSeconds"], "300");
  EXPECT_EQ(w.query["labelSelector"], "app%3Dweb");
  EXPECT_EQ(reqs[1].header("Accept"), "application/json");
}

TEST_F(KubeClient, WatchFromGivenVersionSkipsListAndBookmarksAreOptional) {
  serve({stream_reply({event("ADDED", pod("p", "6"))})});
  Client client(cluster(), fast());
  WatchOptions wo;
  wo.resource_version = "5";
  wo.bookmarks = false;
  wo.timeout_seconds = 7;
  wo.field_selector = "spec.nodeName=n1";
  Collected got;
  client.watch(resources::pods, "", wo, [&](const WatchEvent& e) {
    got.add(e);
    return false;
  });
  EXPECT_EQ(got.types(), (Types{"ADDED"}));
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target,
            "/api/v1/pods?watch=1&resourceVersion=5&timeoutSeconds=7&fieldSelector=spec."
            "nodeName%3Dn1");
}

TEST_F(KubeClient, WatchResumesDroppedStreamFromLastVersionAndBookmarks) {
  const json bookmark = {
      {"kind", "Pod"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "9"}}}};
  serve({stream_reply({event("ADDED", pod("p", "6"))}),  // then the connection drops
         stream_reply({event("BOOKMARK", bookmark)}),
         stream_reply({event("MODIFIED", pod("p", "10"))})});
  Client client(cluster(), fast());
  WatchOptions wo;
  wo.resource_version = "5";
  Collected got;
  client.watch(resources::deployments, "x", wo, [&](const WatchEvent& e) {
    got.add(e);
    return e.type != "MODIFIED";
  });
  EXPECT_EQ(got.types(), (Types{"ADDED", "BOOKMARK", "MODIFIED"}));
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  std::vector<std::string> rvs;
  for (const auto& r : reqs) {
    EXPECT_TRUE(is_watch(r)) << r.target;  // no relist
    EXPECT_EQ(split(r.target).path, "/apis/apps/v1/namespaces/x/deployments");
    rvs.push_back(split(r.target).query["resourceVersion"]);
  }
  EXPECT_EQ(rvs, (std::vector<std::string>{"5", "6", "9"}));
}

TEST_F(KubeClient, WatchResumesAfterStreamBrokenMidBody) {
  // Chunked, and the connection dies before the last chunk: a transport error, not an end.
  const std::string line = event("ADDED", pod("p", "6")).dump() + "\n";
  std::stringstream size;
  size << std::hex << line.size();
  serve({TestServer::raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n" +
                             size.str() + "\r\n" + line + "\r\n",
                         true),
         stream_reply({event("MODIFIED", pod("p", "7"))})});
  Client client(cluster(), fast());
  WatchOptions wo;
  wo.resource_version = "5";
  Collected got;
  client.watch(resources::pods, "x", wo, [&](const WatchEvent& e) {
    got.add(e);
    return e.type != "MODIFIED";
  });
  EXPECT_EQ(got.types(), (Types{"ADDED", "MODIFIED"}));
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(split(reqs[1].target).query["resourceVersion"], "6");
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(KubeClient, WatchErrorEventGoneRelists) {
  serve({stream_reply({event("ADDED", pod("p", "6")),
                       event("ERROR", status_object(410, "Expired", "too old resource version")),
                       event("ADDED", pod("never", "7"))}),
         answer(200, pod_list("20", {pod("p", "6"), pod("q", "19")})),
         stream_reply({event("ADDED", pod("r", "21"))})});
  Client client(cluster(), fast());
  WatchOptions wo;
  wo.resource_version = "5";
  Collected got;
  client.watch(resources::pods, "x", wo, [&](const WatchEvent& e) {
    got.add(e);
    return got.size() < 3;
  });
  ASSERT_EQ(got.types(), (Types{"ADDED", "RELIST", "ADDED"}));
  EXPECT_EQ(got.events[1].object["items"].size(), 2u);
  EXPECT_EQ(got.events[2].object, pod("r", "21"));
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(split(reqs[0].target).query["resourceVersion"], "5");
  EXPECT_EQ(reqs[1].target, "/api/v1/namespaces/x/pods?limit=500");  // a list, not a watch
  EXPECT_TRUE(is_watch(reqs[2]));
  EXPECT_EQ(split(reqs[2].target).query["resourceVersion"], "20");
}

TEST_F(KubeClient, WatchHttpGoneRelists) {
  serve({status_reply(410, "Expired", "too old resource version: 5 (30)"),
         answer(200, pod_list("30", {})), stream_reply({event("DELETED", pod("p", "31"))})});
  Client client(cluster(), fast());
  WatchOptions wo;
  wo.resource_version = "5";
  Collected got;
  client.watch(resources::pods, "x", wo, [&](const WatchEvent& e) {
    got.add(e);
    return e.type != "DELETED";
  });
  EXPECT_EQ(got.types(), (Types{"RELIST", "DELETED"}));
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_TRUE(is_watch(reqs[0]));
  EXPECT_FALSE(is_watch(reqs[1]));
  EXPECT_EQ(split(reqs[2].target).query["resourceVersion"], "30");
}

TEST_F(KubeClient, WatchHandlerReturningFalseStops) {
  serve({answer(200, pod_list("1", {})),
         stream_reply({event("ADDED", pod("a", "2")), event("ADDED", pod("b", "3"))})});
  Client client(cluster(), fast());
  int calls = 0;
  client.watch(resources::pods, "x", {}, [&](const WatchEvent&) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(received().size(), 2u);

  // Returning false on the RELIST stops before any watch request.
  Client second(cluster(), fast());
  serve({answer(200, pod_list("1", {}))});
  {
    std::lock_guard lock(mutex_);
    received_.clear();
  }
  calls = 0;
  second.watch(resources::pods, "x", {}, [&](const WatchEvent&) { return ++calls < 1; });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(received().size(), 1u);
}

TEST_F(KubeClient, WatchStopFlagEndsAQuietStream) {
  // One event, then the stream stays open and silent.
  serve({stream_reply({event("ADDED", pod("a", "2"))}, /*close_after=*/false)});
  Client client(cluster(), fast());
  WatchOptions wo;
  wo.resource_version = "1";
  wo.idle_timeout = 3s;  // if the stop flag were ignored, fail in seconds rather than minutes
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  Collected got;
  std::thread watcher([&] {
    try {
      client.watch(
          resources::pods, "x", wo,
          [&](const WatchEvent& e) {
            got.add(e);
            return true;
          },
          &stop);
    } catch (...) {
    }
    done = true;
  });
  auto deadline = Clock::now() + 5s;
  while (got.size() < 1 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(done.load());  // the stream is quiet, not over
  const auto stopped_at = Clock::now();
  stop = true;
  deadline = Clock::now() + 5s;
  while (!done && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  const auto took = Clock::now() - stopped_at;
  watcher.join();
  EXPECT_LT(took, 1s);
  EXPECT_EQ(received().size(), 1u);  // not resumed after the stop
}

TEST_F(KubeClient, WatchForbiddenThrows) {
  const std::string msg = "pods is forbidden: User \"u\" cannot watch resource \"pods\"";
  serve({status_reply(403, "Forbidden", msg)});
  Client client(cluster(), fast());
  WatchOptions wo;
  wo.resource_version = "1";
  try {
    client.watch(resources::pods, "x", wo, [](const WatchEvent&) { return true; });
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 403);
    EXPECT_EQ(e.reason(), "Forbidden");
    EXPECT_EQ(std::string(e.what()),
              "forbidden: kgate may not watch pods in namespace \"x\"; grant it with RBAC "
              "(HTTP 403 Forbidden): " +
                  msg);
  }
  EXPECT_EQ(received().size(), 1u);
}

TEST_F(KubeClient, WatchForbiddenClusterWide) {
  serve({status_reply(403, "Forbidden", "nodes is forbidden")});
  Client client(cluster(), fast());
  WatchOptions wo;
  wo.resource_version = "1";
  try {
    client.watch(resources::nodes, "", wo, [](const WatchEvent&) { return true; });
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(std::string(e.what()),
              "forbidden: kgate may not watch nodes (cluster-wide); grant it with RBAC "
              "(HTTP 403 Forbidden): nodes is forbidden");
  }
}

TEST_F(KubeClient, WatchGivesUpAfterMaxRetries) {
  serve([](const RawRequest&, int) {
    return status_reply(503, "ServiceUnavailable", "apiserver is shutting down");
  });
  ClientOptions o = fast();
  o.max_retries = 2;
  Client client(cluster(), o);
  WatchOptions wo;
  wo.resource_version = "1";
  try {
    client.watch(resources::pods, "x", wo, [](const WatchEvent&) { return true; });
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 503);
  }
  EXPECT_EQ(received().size(), 3u);
}

TEST_F(KubeClient, WatchErrorEventsOtherThanGoneAreBoundedFailures) {
  serve([](const RawRequest&, int) {
    return stream_reply({event("ERROR", status_object(500, "InternalError", "etcd is sad"))});
  });
  ClientOptions o = fast();
  o.max_retries = 2;
  Client client(cluster(), o);
  WatchOptions wo;
  wo.resource_version = "1";
  try {
    client.watch(resources::pods, "x", wo, [](const WatchEvent&) { return true; });
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 500);
    EXPECT_NE(std::string(e.what()).find("etcd is sad"), std::string::npos) << e.what();
  }
  EXPECT_EQ(received().size(), 3u);
}

TEST_F(KubeClient, ListRestartsAfterExpiredContinueAreBounded) {
  serve([](const RawRequest& r, int) {
    return r.target.find("continue=") == std::string::npos
               ? answer(200, pod_list("7", {pod("a", "1")}, "t1"))
               : status_reply(410, "Expired", "The provided continue parameter is too old");
  });
  Client client(cluster(), fast());
  ListOptions lo;
  lo.page_size = 1;
  EXPECT_THROW(client.list(resources::pods, "x", lo), ApiError);
  EXPECT_EQ(received().size(), 8u) << "4 first pages, 4 expired continues";
}

TEST_F(KubeClient, WatchCarriesTheBearerToken) {
  serve({stream_reply({event("ADDED", pod("a", "2"))})});
  ClusterConfig c = cluster();
  c.token = "watch-token";
  Client client(c, fast());
  WatchOptions wo;
  wo.resource_version = "1";
  client.watch(resources::pods, "x", wo, [](const WatchEvent&) { return false; });
  auto reqs = received();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("Authorization"), "Bearer watch-token");
}

}  // namespace
}  // namespace kgate::kube
