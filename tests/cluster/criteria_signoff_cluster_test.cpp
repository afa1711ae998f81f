// The sign-off's versions from a real API server (issue 20): with a `kubernetes:` section, the
// release criteria page names each container image of the release's Deployments, the chart and
// the app version, read with list/get only; a release that is not there is said, and the run
// goes on. kgate runs as CI would (in the cluster's network), against its embedded reference app.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include <kgate/kube/client.hpp>
#include <kgate/wait.hpp>
#include <nlohmann/json.hpp>

#include "framework/local_cluster.hpp"

namespace {

using namespace std::chrono_literals;
using kgate::testfw::kgate_binary;
using kgate::testfw::LocalCluster;
using kgate::testfw::read_file;
using nlohmann::json;

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(CriteriaSignoffCluster, VersionsComeFromTheReleasesDeployments) {
  LocalCluster c;
  // Zero replicas: the versions are read from the Deployment, no pod has to run.
  c.apply(R"(apiVersion: v1
kind: Namespace
metadata: {name: signoff}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel-backend
  namespace: signoff
  labels: {app.kubernetes.io/instance: rel, helm.sh/chart: todo-0.3.1, app.kubernetes.io/version: "1.2.3"}
spec:
  replicas: 0
  selector: {matchLabels: {app: rel-backend}}
  template:
    metadata: {labels: {app: rel-backend}}
    spec:
      containers:
      - {name: api, image: "ghcr.io/kgate/todo-app:1.2.3"}
)");

  char tmpl[] = "/tmp/kgate-signoff-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  write(dir + "/criteria.yaml",
        "criteria:\n  - id: tasks\n    text: \"Complete task\"\n"
        "    checks: [smoke.Tasks.FullTaskFlow]\n");
  auto run = [&](const std::string& release, const std::string& out) {
    write(dir + "/kgate.yaml", "kubernetes:\n  kubeconfig: " + c.kubeconfig() +
                                   "\n  namespace: signoff\n  release: " + release +
                                   "\n  request_timeout: 5s\n");
    auto r = c.command(kgate_binary(),
                       {"run", "--config", dir + "/kgate.yaml", "--criteria",
                        dir + "/criteria.yaml", "--suites", "smoke", "--report-dir", dir + out},
                       120s);
    std::cout << r.output.substr(0, r.output.find("\n  PASS")) << "\n";
    EXPECT_EQ(r.status, 0) << r.output;  // the versions never decide the gate
    return json::parse(read_file(dir + out + "/results.json"), nullptr, false);
  };

  const json found = run("rel", "/found");
  ASSERT_TRUE(found.is_object());
  const json& so = found["signoff"];
  EXPECT_EQ(so["versions_note"], "") << so.dump(1);
  const json want = json::array(
      {{{"name", "kgate"}, {"value", found["tool_version"]}},
       {{"name", "image signoff/rel-backend api"}, {"value", "ghcr.io/kgate/todo-app:1.2.3"}},
       {{"name", "chart"}, {"value", "todo-0.3.1"}},
       {{"name", "app version"}, {"value", "1.2.3"}}});
  EXPECT_EQ(so["versions"], want) << so.dump(1);
  EXPECT_EQ(so["config_sha256"].get<std::string>().size(), 64u);
  const std::string html = read_file(dir + "/found/report.html");
  EXPECT_NE(html.find("image signoff/rel-backend api: ghcr.io/kgate/todo-app:1.2.3"),
            std::string::npos);
  EXPECT_NE(html.find("chart: todo-0.3.1"), std::string::npos);

  const json missing = run("nope", "/missing");
  ASSERT_TRUE(missing.is_object());
  EXPECT_EQ(missing["signoff"]["versions"].size(), 1u);  // kgate's own only
  EXPECT_EQ(missing["signoff"]["versions_note"],
            "app versions unknown: no Deployments labelled app.kubernetes.io/instance=nope in "
            "namespace signoff");
}

}  // namespace
