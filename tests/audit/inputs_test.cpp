// Loaders (lines, "# Source:", errors that name the place), chart template locations,
// suppressions, image-scan reports and SARIF.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "audit/corpus.hpp"
#include "kgate/audit/chart.hpp"
#include "kgate/audit/image_scan.hpp"
#include "kgate/audit/load.hpp"
#include "kgate/audit/rules.hpp"
#include "kgate/audit/sarif.hpp"

namespace kgate::audit {
namespace {
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "kgate-audit-test-XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& rel, const std::string& text) const {
    fs::path p = fs::path(path_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(AuditLoad, DocumentsKeepTheirLinesAndSources) {
  std::string text =
      "# leading comment\n"
      "---\n"
      "# Source: app/templates/a.yaml\n"
      "apiVersion: v1\n"                    // 4
      "kind: ConfigMap\n"                   // 5
      "metadata:\n"                         // 6
      "  name: a\n"                         // 7
      "data:\n"                             // 8
      "  key: \"007\"\n"                    // 9
      "  n: 007\n"                          // 10
      "---\n"                               // 11
      "---\n"                               // 12 (empty document)
      "apiVersion: v1\n"                    // 13
      "kind: List\n"                        // 14
      "items:\n"                            // 15
      "  - apiVersion: v1\n"                // 16
      "    kind: Service\n"                 // 17
      "    metadata: {name: b}\n"           // 18
      "    spec: {ports: [{port: 80}]}\n";  // 19
  auto objects = parse_manifests(text, "in.yaml");
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0].template_path, "app/templates/a.yaml");
  EXPECT_EQ(objects[0].document_line, 4);
  EXPECT_EQ(objects[0].origin(), "app/templates/a.yaml");
  EXPECT_EQ(objects[0].locate("/data/key").line, 9);
  EXPECT_EQ(objects[0].locate("/data/missing/deeper").line, 8);  // the nearest ancestor
  EXPECT_EQ(objects[0].body["data"]["key"], "007");              // quoted: a string
  EXPECT_EQ(objects[0].body["data"]["n"], 7);                    // plain: YAML 1.2 core schema int
  EXPECT_EQ(objects[1].ref(), "Service/b");                      // a List's item
  EXPECT_EQ(objects[1].document_line, 16);
  EXPECT_EQ(objects[1].locate("/spec/ports/0").line, 19);
  EXPECT_EQ(objects[1].origin(), "in.yaml:16");
}

TEST(AuditLoad, ErrorsNameFileLineAndColumn) {
  std::string e =
      error_of([] { parse_manifests("apiVersion: v1\nkind: Pod\n---\nkind: a: b\n", "bad.yaml"); });
  EXPECT_EQ(e, "bad.yaml:4:8: invalid YAML: illegal map value");
  e = error_of([] { parse_manifests("---\n\nfoo: bar\n", "x.yaml"); });
  EXPECT_EQ(e, "x.yaml:3:1: not a Kubernetes object (no kind or apiVersion)");
  e = error_of([] { load_manifests("/nonexistent/k.yaml"); });
  EXPECT_NE(e.find("/nonexistent/k.yaml: cannot open"), std::string::npos) << e;
}

TEST(AuditLoad, DirectoriesAreReadInNameOrder) {
  TempDir d;
  d.write("b/svc.yml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
  d.write("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
  d.write("notes.txt", "not yaml: [");
  auto objects = load_manifests(d.path());
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0].ref(), "ConfigMap/c");
  EXPECT_EQ(objects[1].ref(), "Service/s");
  EXPECT_EQ(objects[1].file, d.path() + "/b/svc.yml");
}

TEST(AuditLoad, HelmIsLookedForAndItsAbsenceSaysWhere) {
  ::setenv("KGATE_HELM", "/nonexistent/helm", 1);
  std::string e = error_of([] { find_helm(); });
  ::unsetenv("KGATE_HELM");
  EXPECT_EQ(e, "KGATE_HELM=/nonexistent/helm is not an executable file");
}

// A chart whose template only includes a named template: findings land in the define's file,
// on the key the finding is about (as far as the template spells it out).
TEST(AuditChart, LocationsFollowIncludesAndKeys) {
  TempDir d;
  d.write("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
  d.write("c/templates/app.yaml",
          "{{- $x := dict \"ctx\" . }}\n"
          "{{ include \"c.deployment\" $x }}\n"
          "---\n"
          "apiVersion: v1\n"
          "kind: Service\n"
          "metadata:\n"
          "  name: one\n"
          "---\n"
          "apiVersion: v1\n"
          "kind: Service\n"
          "metadata:\n"
          "  name: two\n"
          "spec:\n"
          "  selector:\n"
          "    app: x\n");
  d.write("c/templates/_helpers.tpl",
          "{{- define \"c.other\" -}}\nkind: Secret\n{{- end }}\n"
          "{{- define \"c.deployment\" -}}\n"             // 4
          "apiVersion: apps/v1\n"                         // 5
          "kind: Deployment\n"                            // 6
          "spec:\n"                                       // 7
          "  template:\n"                                 // 8
          "    spec:\n"                                   // 9
          "      {{- if .x }}\n"                          // 10
          "      hostNetwork: true\n"                     // 11
          "      {{- end }}\n"                            // 12
          "      containers:\n"                           // 13
          "        - name: a\n"                           // 14
          "          image: a:1\n"                        // 15
          "        - name: b\n"                           // 16
          "          securityContext:\n"                  // 17
          "            {{- toYaml .sc | nindent 12 }}\n"  // 18
          "          image: b:1\n"                        // 19
          "{{- end }}\n");
  ChartSources s(d.path() + "/c");
  auto at = [&](const std::string& kind, int nth, const std::string& ptr) {
    auto l = s.locate("c/templates/app.yaml", kind, nth, ptr);
    return fs::path(l.file).filename().string() + ":" + std::to_string(l.line);
  };
  EXPECT_EQ(at("Deployment", 0, ""), "_helpers.tpl:6");
  EXPECT_EQ(at("Deployment", 0, "/spec/template/spec/hostNetwork"), "_helpers.tpl:11");
  EXPECT_EQ(at("Deployment", 0, "/spec/template/spec/containers/1/image"), "_helpers.tpl:19");
  EXPECT_EQ(at("Deployment", 0, "/spec/template/spec/containers/0/image"), "_helpers.tpl:15");
  // toYaml inserts the fields: the key that receives them.
  EXPECT_EQ(at("Deployment", 0, "/spec/template/spec/containers/1/securityContext/runAsUser"),
            "_helpers.tpl:17");
  EXPECT_EQ(at("Service", 1, "/spec/selector"), "app.yaml:14");
  EXPECT_EQ(at("Service", 0, "/metadata/name"), "app.yaml:7");
}

TEST(AuditSuppressions, AnnotationsNeedAReasonAndStayVisible) {
  std::string base =
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
      "    kgate.io/skip: \"image-digest, image-tag\"\n%REASON%"
      "spec:\n  containers: [{name: c, image: nginx}]\n";
  auto run = [&](const std::string& reason) {
    std::string text = base;
    text.replace(text.find("%REASON%"), 8, reason);
    return run_audit(parse_manifests(text, "p.yaml"), {});
  };
  for (const auto& o : run("    kgate.io/skip-reason: vendored image, pinned by the registry\n")) {
    std::string id = o.rule->id;
    if (id != "image-digest" && id != "image-tag") continue;
    ASSERT_EQ(o.findings.size(), 1u) << id;
    EXPECT_TRUE(o.findings[0].suppressed);
    EXPECT_EQ(o.findings[0].suppression,
              "annotation kgate.io/skip: vendored image, pinned by the registry");
    EXPECT_EQ(o.active(), 0);
  }
  for (const auto& o : run("")) {
    if (std::string(o.rule->id) != "image-tag") continue;
    ASSERT_EQ(o.findings.size(), 1u);
    EXPECT_FALSE(o.findings[0].suppressed);
    EXPECT_NE(o.findings[0].message.find("without kgate.io/skip-reason it is not suppressed"),
              std::string::npos);
  }
}

TEST(AuditSuppressions, ConfigListMatchesRuleAndObjectPattern) {
  TempDir d;
  std::string path = d.write("s.yaml",
                             "suppressions:\n"
                             "  - rule: image-digest\n"
                             "    object: Deployment/w*\n"
                             "    reason: built in this repository\n");
  AuditOptions options;
  options.suppressions = load_suppressions(path);
  ASSERT_EQ(options.suppressions.size(), 1u);
  std::string text = test::good_app();
  text.replace(
      text.find("image: registry.example.com/shop/web:1.4.2@"),
      std::string("image: registry.example.com/shop/web:1.4.2@").size() + test::kDigest.size(),
      "image: registry.example.com/shop/web:1.4.2");
  for (const auto& o : run_audit(parse_manifests(text, "a.yaml"), options))
    if (std::string(o.rule->id) == "image-digest") {
      ASSERT_EQ(o.findings.size(), 1u);
      EXPECT_TRUE(o.findings[0].suppressed);
      EXPECT_EQ(o.findings[0].suppression, "suppressions " + path + ":2: built in this repository");
    }
  std::string bad = d.write("bad.yaml", "suppressions:\n  - rule: image-digets\n    reason: x\n");
  EXPECT_EQ(error_of([&] { load_suppressions(bad); }),
            bad + ":2:11: rule: unknown rule 'image-digets'");
  std::string no_reason = d.write("nr.yaml", "suppressions:\n  - rule: image-digest\n");
  EXPECT_EQ(error_of([&] { load_suppressions(no_reason); }),
            no_reason + ":2:5: reason: every suppression needs a reason");
}

const char* kTrivy = R"json({
  "SchemaVersion": 2,
  "ArtifactName": "registry.example.com/shop/web:1.4.2",
  "ArtifactType": "container_image",
  "Metadata": {
    "OS": {"Family": "debian", "Name": "12.7"},
    "RepoTags": ["registry.example.com/shop/web:1.4.2"],
    "RepoDigests": ["registry.example.com/shop/web@%DIGEST%"]
  },
  "Results": [
    {"Target": "registry.example.com/shop/web:1.4.2 (debian 12.7)", "Class": "os-pkgs", "Type": "debian",
     "Vulnerabilities": [
       {"VulnerabilityID": "CVE-2024-45491", "PkgName": "libexpat1", "InstalledVersion": "2.5.0-1",
        "FixedVersion": "2.5.0-1+deb12u1", "Severity": "CRITICAL", "Title": "integer overflow"},
       {"VulnerabilityID": "CVE-2023-52425", "PkgName": "libexpat1", "InstalledVersion": "2.5.0-1",
        "Severity": "CRITICAL", "Status": "affected"},
       {"VulnerabilityID": "CVE-2024-2511", "PkgName": "libssl3", "InstalledVersion": "3.0.13-1",
        "FixedVersion": "3.0.14-1", "Severity": "HIGH"}
     ]},
    {"Target": "app/requirements.txt", "Class": "lang-pkgs", "Type": "pip"}
  ]
})json";

const char* kGrype = R"json({
  "matches": [
    {"vulnerability": {"id": "GHSA-9wx4-h78v-vm56", "severity": "Critical",
                       "fix": {"versions": ["2.32.0"], "state": "fixed"}},
     "artifact": {"name": "requests", "version": "2.31.0", "type": "python"}}
  ],
  "source": {"type": "image", "target": {"userInput": "nginx:1.25", "imageID": "sha256:0f",
             "tags": ["nginx:1.25"], "repoDigests": ["nginx@sha256:aa"]}},
  "descriptor": {"name": "grype", "version": "0.74.0"}
})json";

std::string with_digest(std::string s) {
  auto p = s.find("%DIGEST%");
  if (p != std::string::npos) s.replace(p, 8, test::kDigest);
  return s;
}

TEST(AuditImageScan, ReportsParseAndNamesNormalise) {
  TempDir d;
  auto trivy = load_image_scan(d.write("t.json", with_digest(kTrivy)));
  EXPECT_EQ(trivy.format, "trivy");
  EXPECT_EQ(trivy.vulnerabilities.size(), 3u);
  EXPECT_EQ(trivy.vulnerabilities[0].fixed, "2.5.0-1+deb12u1");
  EXPECT_EQ(trivy.vulnerabilities[1].fixed, "");
  EXPECT_EQ(trivy.vulnerabilities[0].severity, "critical");
  auto grype = load_image_scan(d.write("g.json", kGrype));
  EXPECT_EQ(grype.format, "grype");
  EXPECT_EQ(grype.vulnerabilities.at(0).fixed, "2.32.0");
  EXPECT_TRUE(image_matches(grype, "docker.io/library/nginx:1.25"));
  EXPECT_TRUE(image_matches(grype, "nginx@sha256:aa"));
  EXPECT_FALSE(image_matches(grype, "nginx:1.26"));
  EXPECT_EQ(normalize_image("postgres"), "docker.io/library/postgres:latest");
  EXPECT_EQ(normalize_image("localhost:5000/app:1"), "localhost:5000/app:1");
  EXPECT_EQ(normalize_image("ghcr.io/o/app@sha256:ab"), "ghcr.io/o/app@sha256:ab");
  std::string e = error_of([&] { load_image_scan(d.write("x.json", "{\"a\": 1}")); });
  EXPECT_NE(e.find("neither a Trivy report"), std::string::npos) << e;
  e = error_of([&] { load_image_scan(d.write("y.json", "{\"a\": ")); });
  EXPECT_NE(e.find("not JSON"), std::string::npos) << e;
}

std::set<std::string> firing(const std::vector<RuleOutcome>& outcomes) {
  std::set<std::string> out;
  for (const auto& o : outcomes)
    if (o.active() > 0) out.insert(o.rule->id);
  return out;
}

TEST(AuditImageScan, FixableFindingsAtTheSeverityFailMatchedImagesOnly) {
  TempDir d;
  auto objects = parse_manifests(test::good_app(), "good.yaml");
  AuditOptions o;
  o.scans = {load_image_scan(d.write("t.json", with_digest(kTrivy)))};  // matches by digest
  auto outcomes = run_audit(objects, o);
  EXPECT_EQ(firing(outcomes), std::set<std::string>{"image-vulnerabilities"});
  for (const auto& r : outcomes)
    if (std::string(r.rule->id) == "image-vulnerabilities") {
      ASSERT_EQ(r.findings.size(), 1u);
      const auto& m = r.findings[0].message;
      EXPECT_NE(m.find("1 fixable vulnerability at or above critical: CVE-2024-45491"),
                std::string::npos)
          << m;
      EXPECT_EQ(m.find("CVE-2023-52425"), std::string::npos) << "no fix: not gated";
      EXPECT_EQ(r.findings[0].object, "Deployment/web");
    }
  // The corrected twin: the fixed package version is what the image has now.
  std::string fixed = with_digest(kTrivy);
  fixed.replace(fixed.find("\"FixedVersion\": \"2.5.0-1+deb12u1\", "), 35, "");
  o.scans = {load_image_scan(d.write("fixed.json", fixed))};
  EXPECT_EQ(firing(run_audit(objects, o)), std::set<std::string>{});
  // A lower floor catches the HIGH one too.
  o.image_severity = Severity::High;
  EXPECT_EQ(firing(run_audit(objects, o)), std::set<std::string>{"image-vulnerabilities"});
}

TEST(AuditImageScan, AReportForAnImageNothingRunsIsReported) {
  TempDir d;
  AuditOptions o;
  o.scans = {load_image_scan(d.write("g.json", kGrype))};
  auto outcomes = run_audit(parse_manifests(test::good_app(), "good.yaml"), o);
  EXPECT_EQ(firing(outcomes), std::set<std::string>{"image-scan-unmatched"});
  for (const auto& r : outcomes)
    if (std::string(r.rule->id) == "image-scan-unmatched") {
      ASSERT_EQ(r.findings.size(), 1u);
      EXPECT_EQ(r.rule->severity, Severity::Info);  // a warning, never a failure
      EXPECT_NE(r.findings[0].message.find("nginx:1.25 matches no image"), std::string::npos);
    }
  // The twin: the manifests run that image.
  std::string text = test::good_app();
  text +=
      "---\napiVersion: v1\nkind: Pod\nmetadata: {name: n, namespace: shop}\n"
      "spec: {restartPolicy: Never, containers: [{name: n, image: nginx:1.25}]}\n";
  EXPECT_EQ(firing(run_audit(parse_manifests(text, "good.yaml"), o)).count("image-scan-unmatched"),
            0u);
}

TEST(AuditSarif, RulesResultsLocationsAndSuppressions) {
  TempDir d;
  std::string text = test::good_app();
  text.replace(text.find("runAsUser: 1000  #pod-uid"), 25, "runAsUser: 0");
  std::string file = d.write("deploy/app.yaml", text);
  auto objects = load_manifests(file);
  auto outcomes = run_audit(objects, {});
  SarifOptions so;
  so.root = d.path();
  so.tool_version = "0.1.0";
  auto sarif = to_sarif(outcomes, so);
  EXPECT_EQ(sarif["version"], "2.1.0");
  const auto& run = sarif["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), all_rules().size());
  const auto& rule0 = run["tool"]["driver"]["rules"][0];
  EXPECT_EQ(rule0["id"], "run-as-non-root");
  EXPECT_EQ(rule0["name"], "RunAsNonRoot");
  EXPECT_EQ(rule0["properties"]["severity"], "high");
  EXPECT_EQ(rule0["properties"]["security-severity"], "8.0");
  ASSERT_EQ(run["results"].size(), 1u);
  const auto& r = run["results"][0];
  EXPECT_EQ(r["ruleId"], "run-as-non-root");
  EXPECT_EQ(r["level"], "error");
  const auto& loc = r["locations"][0]["physicalLocation"];
  EXPECT_EQ(loc["artifactLocation"]["uri"], "deploy/app.yaml");
  EXPECT_EQ(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
  int line = loc["region"]["startLine"];
  std::ifstream in(file);
  std::string l;
  for (int i = 0; i < line; ++i) std::getline(in, l);
  EXPECT_NE(l.find("securityContext:"), std::string::npos) << "line " << line << ": " << l;
  EXPECT_EQ(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "shop/Deployment/web:spec.template.spec.containers[0].securityContext");
  // Suppressed findings stay in the log, marked.
  for (auto& o : outcomes)
    for (auto& f : o.findings) {
      f.suppressed = true;
      f.suppression = "annotation kgate.io/skip: test";
    }
  auto s2 = to_sarif(outcomes, so);
  EXPECT_EQ(s2["runs"][0]["results"][0]["suppressions"][0]["kind"], "inSource");
}

}  // namespace
}  // namespace kgate::audit

namespace kgate::audit {
namespace {

TEST(AuditRobustness, AMalformedObjectIsAFindingNotACrash) {
  auto objects = parse_manifests(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
      "spec: {containers: [{name: c, image: a:1, ports: [\"http\"],\n"
      "  readinessProbe: {httpGet: {port: http}}}]}\n",
      "m.yaml");
  auto outcomes = run_audit(objects, {});
  bool reported = false;
  for (const auto& o : outcomes)
    for (const auto& f : o.findings)
      reported = reported || f.message.find("malformed object") != std::string::npos;
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace kgate::audit

namespace kgate::audit {
namespace {

TEST(AuditLoad, StandardInputIsDash) {
  std::istringstream in("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
  auto* saved = std::cin.rdbuf(in.rdbuf());
  auto objects = load_manifests("-");
  std::cin.rdbuf(saved);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].origin(), "<stdin>:1");
  EXPECT_EQ(objects[0].locate("/metadata/name").file, "<stdin>");
}

}  // namespace
}  // namespace kgate::audit
