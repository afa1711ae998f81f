#include <gtest/gtest.h>

#include "service_proxy.hpp"

namespace kgate::nodeagent {
namespace {

using nlohmann::json;

json service(const std::string& ns, const std::string& name, const std::string& cluster_ip,
             json ports) {
  return {{"metadata", {{"namespace", ns}, {"name", name}}},
          {"spec", {{"clusterIP", cluster_ip}, {"ports", std::move(ports)}}}};
}

json slice(const std::string& ns, const std::string& name, const std::string& service_name,
           json ports, json endpoints) {
  return {{"metadata",
           {{"namespace", ns},
            {"name", name},
            {"labels", {{"kubernetes.io/service-name", service_name}}}}},
          {"addressType", "IPv4"},
          {"ports", std::move(ports)},
          {"endpoints", std::move(endpoints)}};
}

json endpoint(const std::string& ip, json ready = nullptr) {
  json e = {{"addresses", {ip}}};
  if (!ready.is_null()) e["conditions"] = {{"ready", ready}};
  return e;
}

const ServiceRoute* find(const std::vector<ServiceRoute>& routes, const std::string& name) {
  for (const auto& r : routes) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

TEST(RoutesFrom, NamedPortsMatchByName) {
  std::vector<json> services = {service(
      "shop", "web", "10.96.0.10",
      json::array({{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}, {"targetPort", 8080}},
                   {{"name", "metrics"}, {"port", 9090}, {"targetPort", "metrics"}}}))};
  std::vector<json> slices = {
      slice("shop", "web-abc", "web",
            json::array({{{"name", "metrics"}, {"port", 9100}, {"protocol", "TCP"}},
                         {{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}),
            json::array({endpoint("10.244.1.5", true), endpoint("10.244.1.6")}))};
  auto routes = routes_from(services, slices);
  ASSERT_EQ(routes.size(), 2u);
  const auto* http = find(routes, "shop/web:http");
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->ip, "10.96.0.10");
  EXPECT_EQ(http->port, 80);
  EXPECT_EQ(http->backends,
            (std::vector<Backend>{{"10.244.1.5", 8080}, {"10.244.1.6", 8080}}));  // ready absent
  const auto* metrics = find(routes, "shop/web:metrics");
  ASSERT_NE(metrics, nullptr);
  EXPECT_EQ(metrics->port, 9090);
  EXPECT_EQ(metrics->backends, (std::vector<Backend>{{"10.244.1.5", 9100}, {"10.244.1.6", 9100}}));
}

TEST(RoutesFrom, UnnamedPortMatchesUnnamedSlicePort) {
  std::vector<json> services = {
      service("default", "api", "10.96.0.20", json::array({{{"port", 443}}}))};
  std::vector<json> slices = {
      // A slice port with a name does not serve the unnamed Service port.
      slice("default", "api-1", "api", json::array({{{"name", "other"}, {"port", 1}}}),
            json::array({endpoint("10.244.2.1")})),
      slice("default", "api-2", "api", json::array({{{"name", nullptr}, {"port", 8443}}}),
            json::array({endpoint("10.244.2.2")})),
      slice("default", "api-3", "api", json::array({{{"port", 8443}}}),
            json::array({endpoint("10.244.2.3"), endpoint("10.244.2.2")}))};
  auto routes = routes_from(services, slices);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].name, "default/api:443");
  EXPECT_EQ(routes[0].port, 443);
  // Backends from every matching slice, each once.
  EXPECT_EQ(routes[0].backends, (std::vector<Backend>{{"10.244.2.2", 8443}, {"10.244.2.3", 8443}}));
}

TEST(RoutesFrom, SkipsHeadlessUdpAndServicesWithoutClusterIp) {
  std::vector<json> services = {
      service("default", "headless", "None", json::array({{{"port", 80}}})),
      service("default", "external", "", json::array({{{"port", 80}}})),
      service("default", "dns", "10.96.0.53",
              json::array({{{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}},
                           {{"name", "dns-tcp"}, {"port", 53}, {"protocol", "TCP"}}}))};
  std::vector<json> slices = {
      slice("default", "headless-1", "headless", json::array({{{"port", 80}}}),
            json::array({endpoint("10.244.3.1")})),
      slice("default", "dns-1", "dns",
            json::array({{{"name", "dns"}, {"port", 5353}, {"protocol", "UDP"}},
                         {{"name", "dns-tcp"}, {"port", 5353}, {"protocol", "TCP"}}}),
            json::array({endpoint("10.244.3.2")}))};
  auto routes = routes_from(services, slices);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].name, "default/dns:dns-tcp");
  EXPECT_EQ(routes[0].backends, (std::vector<Backend>{{"10.244.3.2", 5353}}));
}

TEST(RoutesFrom, ExcludesNotReadyEndpoints) {
  std::vector<json> services = {service("ns", "s", "10.96.1.1", json::array({{{"port", 80}}}))};
  std::vector<json> slices = {
      slice("ns", "s-1", "s", json::array({{{"port", 8080}}}),
            json::array({endpoint("10.244.4.1", false), endpoint("10.244.4.2", true),
                         endpoint("10.244.4.3", false)}))};
  auto routes = routes_from(services, slices);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].backends, (std::vector<Backend>{{"10.244.4.2", 8080}}));

  // Nothing ready: the route stays, without backends (connections are refused).
  slices[0]["endpoints"] = json::array({endpoint("10.244.4.1", false)});
  routes = routes_from(services, slices);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_TRUE(routes[0].backends.empty());
}

// As the EndpointSlice controller writes a pod that is being deleted: never ready, serving as
// long as its readiness probe passes, terminating.
json terminating(const std::string& ip, bool serving) {
  return {{"addresses", {ip}},
          {"conditions", {{"ready", false}, {"serving", serving}, {"terminating", true}}}};
}

TEST(RoutesFrom, TerminatingEndpointsGetNoNewConnectionsWhileAnyIsReady) {
  std::vector<json> services = {service("ns", "s", "10.96.1.2", json::array({{{"port", 80}}}))};
  std::vector<json> slices = {
      slice("ns", "s-1", "s", json::array({{{"port", 8080}}}),
            json::array({terminating("10.244.4.1", true), endpoint("10.244.4.2", true),
                         terminating("10.244.4.3", false)}))};
  auto routes = routes_from(services, slices);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].backends, (std::vector<Backend>{{"10.244.4.2", 8080}}));

  // No ready endpoint left: kube-proxy falls back to those still serving while they terminate.
  slices[0]["endpoints"] =
      json::array({terminating("10.244.4.1", true), terminating("10.244.4.3", false)});
  routes = routes_from(services, slices);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].backends, (std::vector<Backend>{{"10.244.4.1", 8080}}));

  // None serving either: connections are refused.
  slices[0]["endpoints"] = json::array({terminating("10.244.4.3", false)});
  routes = routes_from(services, slices);
  EXPECT_TRUE(routes[0].backends.empty());
}

TEST(RoutesFrom, IgnoresSlicesOfOtherNamespacesAndServices) {
  std::vector<json> services = {service("a", "web", "10.96.2.1", json::array({{{"port", 80}}}))};
  std::vector<json> slices = {slice("b", "web-1", "web", json::array({{{"port", 8080}}}),
                                    json::array({endpoint("10.244.5.1")})),
                              slice("a", "other-1", "other", json::array({{{"port", 8080}}}),
                                    json::array({endpoint("10.244.5.2")})),
                              slice("a", "web-1", "web", json::array({{{"port", 8080}}}),
                                    json::array({endpoint("10.244.5.3")}))};
  auto routes = routes_from(services, slices);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].backends, (std::vector<Backend>{{"10.244.5.3", 8080}}));
}

TEST(RoutesFrom, ToleratesMalformedObjects) {
  std::vector<json> services = {json::object(), json{{"spec", "x"}},
                                service("a", "s", "10.96.3.1", json::array({{{"port", "80"}}})),
                                service("a", "t", "10.96.3.2", json::array({{{"port", 81}}}))};
  std::vector<json> slices = {json::array(), json{{"metadata", 1}},
                              slice("a", "t-1", "t", json::array({{{"port", 8081}}}),
                                    json::array({json::object(), endpoint("10.244.6.1")}))};
  auto routes = routes_from(services, slices);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].name, "a/t:81");
  EXPECT_EQ(routes[0].backends, (std::vector<Backend>{{"10.244.6.1", 8081}}));
}

}  // namespace
}  // namespace kgate::nodeagent
