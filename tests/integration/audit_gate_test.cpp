// kgate audit end to end: the project's chart passes at its defaults, a faulty values file fails
// with exactly the expected rules, the image-scan gate, suppressions through values, SARIF valid
// against the SARIF 2.1.0 schema, and planted secret values in no output. Needs helm
// ($KGATE_HELM or ~/.cache/kgate/bin/helm: scripts/install-helm.sh) and the venv's jsonschema.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "audit/corpus.hpp"
#include "integration/kgate_cli.hpp"
#include "kgate/process.hpp"

namespace kgate::test {
namespace {
namespace fs = std::filesystem;

std::string source_dir() {
  const char* s = std::getenv("KGATE_SOURCE_DIR");
  return s ? s : ".";
}
std::string chart() {
  return source_dir() + "/chart/todo";
}

std::map<std::string, std::string> helm_env() {
  std::map<std::string, std::string> env;
  if (!std::getenv("KGATE_HELM")) {
    std::string cached = std::string(std::getenv("HOME")) + "/.cache/kgate/bin/helm";
    if (fs::exists(cached)) env["KGATE_HELM"] = cached;
  }
  return env;
}

KgateRun audit(std::vector<std::string> args) {
  KgateOptions o;
  o.args = {"audit"};
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.env = helm_env();
  return run_kgate(o);
}

std::set<std::string> with_status(const KgateRun& r, const std::string& status) {
  std::set<std::string> out;
  if (!r.results.is_object()) return out;
  for (const auto& c : r.results["checks"])
    if (c.value("status", "") == status) out.insert(c.value("name", ""));
  return out;
}

// Runs the SARIF schema check (tests/audit/check_sarif.py) with the venv's python.
int validate_sarif(const std::string& path, std::string* output) {
  std::string venv = std::getenv("KGATE_VENV")
                         ? std::getenv("KGATE_VENV")
                         : std::string(std::getenv("HOME")) + "/.cache/kgate/venv";
  std::string log = path + ".check.log";
  ProcessSpec spec;
  spec.program = venv + "/bin/python";
  spec.args = {source_dir() + "/tests/audit/check_sarif.py", path};
  spec.log_path = log;
  ChildProcess p(spec);
  auto rc = p.wait(std::chrono::seconds(60));
  *output = slurp(log);
  return rc.value_or(-1);
}

TEST(AuditGate, TheProjectChartPassesAtItsDefaults) {
  auto r = audit({"--chart", chart(), "--release", "todo"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(with_status(r, "failed"), std::set<std::string>{}) << r.output;
  // The only warning: images pinned by tag (the reference images are built from this tree).
  EXPECT_EQ(with_status(r, "warning"), std::set<std::string>{"image-digest"}) << r.output;
  EXPECT_GE(with_status(r, "passed").size(), 25u);
  EXPECT_NE(r.junit.find("audit.PodSecurity"), std::string::npos);
  EXPECT_NE(r.html.find("run-as-non-root"), std::string::npos);
}

TEST(AuditGate, SarifValidatesAndPointsAtTemplateLines) {
  std::string dir = fs::path(write_temp_file("x", "")).parent_path().string();
  std::string sarif = dir + "/audit.sarif";
  auto r = audit({"--chart", chart(), "--release", "todo", "--sarif", sarif});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string out;
  EXPECT_EQ(validate_sarif(sarif, &out), 0) << out;
  auto log = nlohmann::json::parse(slurp(sarif));
  const auto& results = log["runs"][0]["results"];
  ASSERT_FALSE(results.empty());
  for (const auto& res : results) {
    const auto& loc = res["locations"][0]["physicalLocation"];
    std::string uri = loc["artifactLocation"]["uri"];
    EXPECT_EQ(uri.rfind("chart/todo/templates/", 0), 0u) << uri;  // relative to the repository
    int line = loc["region"]["startLine"];
    std::ifstream in(source_dir() + "/" + uri);
    std::string text;
    for (int i = 0; i < line; ++i) std::getline(in, text);
    EXPECT_NE(text.find("image:"), std::string::npos)
        << res["ruleId"] << " at " << uri << ":" << line << ": " << text;
  }
  // The validator can fail: a log that breaks the schema is refused.
  auto broken = log;
  broken["runs"][0]["results"][0]["level"] = "fatal";
  std::ofstream(dir + "/broken.sarif") << broken.dump();
  EXPECT_EQ(validate_sarif(dir + "/broken.sarif", &out), 1) << out;
}

TEST(AuditGate, AFaultyValuesFileFailsExactlyTheRulesItBreaks) {
  std::string values = write_temp_file("faulty.yaml", R"(image:
  tag: latest
networkPolicy:
  enabled: false
securityContext:
  runAsNonRoot: true
  runAsUser: 1000
  runAsGroup: 1000
  readOnlyRootFilesystem: false
  allowPrivilegeEscalation: false
  privileged: false
  capabilities: {drop: [ALL]}
  seccompProfile: {type: RuntimeDefault}
backend:
  autoscaling: {minReplicas: 1}
  strategy: {maxSurge: 1, maxUnavailable: 1}
  extraEnv:
    - {name: OPENAI_API_KEY, value: sk-planted0000000000000000000000}
frontend:
  pdb: {minAvailable: 2}
)");
  auto r = audit({"--chart", chart(), "--release", "todo", "-f", values});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(with_status(r, "failed"),
            (std::set<std::string>{"read-only-root-filesystem", "secret-in-env", "image-tag",
                                   "hpa-min-replicas", "network-policy", "rolling-update",
                                   "pdb-allows-disruption"}))
      << r.output;
  EXPECT_EQ(r.output.find("sk-planted"), std::string::npos);
  // A finding names the template line to change.
  auto c = r.check("audit.Reliability.rolling-update");
  EXPECT_NE(c.value("detail", "")
                .find("Deployment/todo-backend: with 1 replica(s) (the HPA's "
                      "minReplicas) and maxUnavailable 1"),
            std::string::npos)
      << c.dump(1);
  EXPECT_NE(c.value("detail", "").find("chart/todo/templates/_component.tpl:"), std::string::npos);

  // Suppressed through the chart's own podAnnotations (with a reason): reported, not failing.
  auto s =
      audit({"--chart", chart(), "--release", "todo", "-f", values, "--set",
             "backend.podAnnotations.kgate\\.io/skip=read-only-root-filesystem", "--set",
             "frontend.podAnnotations.kgate\\.io/skip=read-only-root-filesystem", "--set",
             "backend.podAnnotations.kgate\\.io/skip-reason=scratch files in the image", "--set",
             "frontend.podAnnotations.kgate\\.io/skip-reason=scratch files in the image"});
  auto ro = s.check("audit.PodSecurity.read-only-root-filesystem");
  // The helm test pod has no such annotation: it still fails, and only it.
  EXPECT_EQ(ro.value("status", ""), "failed") << ro.dump(1);
  EXPECT_NE(ro.value("message", "").find("1 finding: Pod/todo-kgate:"), std::string::npos)
      << ro.dump(1);
  EXPECT_EQ(ro["properties"].value("suppressed", ""), "4");  // app and init container, twice
  EXPECT_NE(ro.value("detail", "").find("suppressed (annotation kgate.io/skip: scratch files"),
            std::string::npos);
}

TEST(AuditGate, TheImageScanGateFailsOnFixableCriticalsOfImagesInUse) {
  std::string trivy = write_temp_file("trivy.json", R"json({"SchemaVersion": 2,
    "ArtifactName": "postgres:16.4-bookworm", "ArtifactType": "container_image",
    "Metadata": {"RepoTags": ["postgres:16.4-bookworm"]},
    "Results": [{"Target": "postgres:16.4-bookworm (debian 12.7)", "Class": "os-pkgs",
      "Type": "debian", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2024-45491", "PkgName": "libexpat1",
         "InstalledVersion": "2.5.0-1", "FixedVersion": "2.5.0-1+deb12u1", "Severity": "CRITICAL"},
        {"VulnerabilityID": "CVE-2024-2511", "PkgName": "libssl3", "InstalledVersion": "3.0.13-1",
         "FixedVersion": "3.0.14-1", "Severity": "HIGH"}]}]})json");
  std::string grype = write_temp_file("grype.json", R"({"matches": [],
    "source": {"type": "image", "target": {"userInput": "redis:7.2", "tags": ["redis:7.2"]}},
    "descriptor": {"name": "grype"}})");
  auto r = audit(
      {"--chart", chart(), "--release", "todo", "--image-scan", trivy, "--image-scan", grype});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(with_status(r, "failed"), std::set<std::string>{"image-vulnerabilities"}) << r.output;
  EXPECT_EQ(with_status(r, "warning"),
            (std::set<std::string>{"image-digest", "image-scan-unmatched"}));
  auto c = r.check("audit.Images.image-vulnerabilities");
  // postgres runs in the StatefulSet and in both roles' wait-for-database init containers.
  EXPECT_EQ(c["properties"].value("findings", ""), "3") << c.dump(1);
  EXPECT_EQ(c.value("detail", "").find("CVE-2024-2511"), std::string::npos) << "HIGH: below";
  // --image-severity high brings the HIGH one in.
  auto h = audit(
      {"--chart", chart(), "--release", "todo", "--image-scan", trivy, "--image-severity", "high"});
  EXPECT_NE(h.check("audit.Images.image-vulnerabilities").value("detail", "").find("CVE-2024-2511"),
            std::string::npos);
}

TEST(AuditGate, PlantedSecretValuesAppearInNoOutput) {
  using audit::test::good_app;
  std::string text = good_app();
  text.replace(text.find("  FEATURE_FLAGS"), 0,
               "  DB_PASSWORD: " + audit::test::kPlantedConfigMap + "\n");
  text.replace(text.find("            - {name: LOG_LEVEL"), 0,
               "            - {name: ADMIN_PASSWORD, value: " + audit::test::kPlantedEnv + "}\n");
  std::string manifests = write_temp_file("app.yaml", text);
  std::string dir = fs::path(manifests).parent_path().string();
  auto r = audit({"--manifests", manifests, "--sarif", dir + "/audit.sarif", "-v"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(with_status(r, "failed"),
            (std::set<std::string>{"secret-in-env", "secret-in-configmap"}));
  std::map<std::string, std::string> outputs = {{"console", r.output},
                                                {"junit", r.junit},
                                                {"html", r.html},
                                                {"json", r.results.dump()},
                                                {"sarif", slurp(dir + "/audit.sarif")}};
  for (const auto& [name, content] : outputs) {
    ASSERT_FALSE(content.empty()) << name;
    for (const auto& planted :
         {audit::test::kPlantedSecret, audit::test::kPlantedEnv, audit::test::kPlantedConfigMap})
      EXPECT_EQ(content.find(planted), std::string::npos) << planted << " in " << name;
  }
  EXPECT_NE(r.output.find("env 'ADMIN_PASSWORD'"), std::string::npos);  // the key is named
  EXPECT_NE(r.output.find("ConfigMap key 'DB_PASSWORD'"), std::string::npos);
}

TEST(AuditGate, BadInputIsAUsageErrorNamingThePlace) {
  std::string bad = write_temp_file("bad.yaml", "apiVersion: v1\nkind: Pod\n---\nkind: a: b\n");
  auto r = audit({"--manifests", bad});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(bad + ":4:8: invalid YAML"), std::string::npos) << r.output;
  r = audit({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("give one input"), std::string::npos) << r.output;
  KgateOptions o;
  o.args = {"audit", "--chart", chart()};
  o.env = {{"KGATE_HELM", "/nonexistent/helm"}};
  r = run_kgate(o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("KGATE_HELM=/nonexistent/helm is not an executable file"),
            std::string::npos)
      << r.output;
  r = audit({"--chart", chart(), "--set", "backend.autoscaling.minReplicas=many"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("helm template"), std::string::npos) << r.output;
  r = audit({"--manifests", bad, "--fail-on", "severe"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace kgate::test
