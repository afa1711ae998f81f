// Every rule fires on its one planted defect and stays quiet on the corrected twin; the good
// application passes every rule with every rule having something to inspect.
#include <gtest/gtest.h>

#include <set>

#include "audit/corpus.hpp"
#include "kgate/audit/load.hpp"
#include "kgate/audit/rules.hpp"

namespace kgate::audit {
namespace {

using test::Defect;

std::string plant(const std::string& base, const Defect& d) {
  std::string out;
  int hits = 0;
  std::size_t pos = 0;
  while (pos < base.size()) {
    std::size_t end = base.find('\n', pos);
    if (end == std::string::npos) end = base.size();
    std::string line = base.substr(pos, end - pos);
    std::size_t anchor = line.find("  " + d.anchor);
    if (anchor != std::string::npos && anchor + 2 + d.anchor.size() == line.size()) {
      ++hits;
      if (!d.replacement.empty()) out += d.replacement + "\n";
    } else {
      out += line + "\n";
    }
    pos = end + 1;
  }
  EXPECT_EQ(hits, 1) << "anchor " << d.anchor << " must name exactly one line";
  return out;
}

std::set<std::string> firing(const std::vector<RuleOutcome>& outcomes) {
  std::set<std::string> out;
  for (const auto& o : outcomes)
    if (o.active() > 0) out.insert(o.rule->id);
  return out;
}

std::string describe(const std::vector<RuleOutcome>& outcomes) {
  std::string s;
  for (const auto& o : outcomes)
    for (const auto& f : o.findings) s += "  " + f.rule + ": " + f.object + ": " + f.message + "\n";
  return s;
}

TEST(AuditRules, TheGoodApplicationPassesEveryRule) {
  auto objects = parse_manifests(test::good_app(), "good.yaml");
  ASSERT_EQ(objects.size(), 13u);
  auto outcomes = run_audit(objects, {});
  EXPECT_EQ(firing(outcomes), std::set<std::string>{}) << describe(outcomes);
  for (const auto& o : outcomes) {
    std::string group = o.rule->group;
    if (group == "images") continue;  // they need reports (ImageScan tests)
    EXPECT_GT(o.inspected, 0) << o.rule->id << " inspected nothing: its twin proves nothing";
  }
}

TEST(AuditRules, EachRuleFiresOnItsDefectAndOnlyThere) {
  for (const auto& d : test::defects()) {
    SCOPED_TRACE(d.rule);
    auto objects = parse_manifests(plant(test::good_app(), d), "defect.yaml");
    auto outcomes = run_audit(objects, {});
    std::set<std::string> expected = {d.rule};
    expected.insert(d.also.begin(), d.also.end());
    EXPECT_EQ(firing(outcomes), expected) << describe(outcomes);
  }
}

TEST(AuditRules, EveryRuleHasACaseAndStableMetadata) {
  std::set<std::string> covered;
  for (const auto& d : test::defects()) covered.insert(d.rule);
  covered.insert({"image-vulnerabilities", "image-scan-unmatched"});  // image_scan_test.cpp
  std::set<std::string> ids;
  for (const auto& r : all_rules()) {
    EXPECT_TRUE(ids.insert(r.id).second) << "duplicate id " << r.id;
    EXPECT_TRUE(covered.count(r.id)) << r.id << " has no failing/passing case";
    for (const char* text : {r.group, r.title, r.reference, r.description, r.remediation})
      EXPECT_NE(std::string(text), "") << r.id;
    EXPECT_EQ(std::string(r.id).find_first_not_of("abcdefghijklmnopqrstuvwxyz-"), std::string::npos)
        << r.id;
  }
  EXPECT_EQ(ids.size(), covered.size());
}

TEST(AuditRules, FindingsNameTheKeyNeverTheValue) {
  for (const auto& d : test::defects()) {
    auto outcomes = run_audit(parse_manifests(plant(test::good_app(), d), "x.yaml"), {});
    for (const auto& o : outcomes)
      for (const auto& f : o.findings)
        for (const auto& planted :
             {test::kPlantedSecret, test::kPlantedEnv, test::kPlantedConfigMap})
          EXPECT_EQ(f.message.find(planted), std::string::npos) << f.message;
  }
  auto env = test::defects()[10];
  ASSERT_EQ(env.rule, "secret-in-env");
  auto outcomes = run_audit(parse_manifests(plant(test::good_app(), env), "x.yaml"), {});
  for (const auto& o : outcomes)
    if (o.rule->id == std::string("secret-in-env")) {
      ASSERT_EQ(o.findings.size(), 1u);
      EXPECT_NE(o.findings[0].message.find("env 'DB_PASSWORD'"), std::string::npos);
    }
}

TEST(AuditRules, FindingsPointAtTheLine) {
  Defect d{"probe-port-exists", "#c-live",
           "          livenessProbe: {httpGet: {path: /h, port: 8000}}"};
  std::string text = plant(test::good_app(), d);
  auto outcomes = run_audit(parse_manifests(text, "app.yaml"), {});
  int expected_line = 0, n = 0;
  for (std::size_t pos = 0; pos < text.size(); pos = text.find('\n', pos) + 1) {
    ++n;
    if (text.compare(pos, 24, "          livenessProbe:") == 0) expected_line = n;
  }
  for (const auto& o : outcomes)
    if (o.rule->id == std::string("probe-port-exists")) {
      ASSERT_EQ(o.findings.size(), 1u);
      EXPECT_EQ(o.findings[0].location.file, "app.yaml");
      EXPECT_EQ(o.findings[0].location.line, expected_line);
      EXPECT_EQ(o.findings[0].path, "spec.template.spec.containers[0].livenessProbe.httpGet.port");
      EXPECT_NE(o.findings[0].message.find("8080 (http)"), std::string::npos)
          << o.findings[0].message;
    }
}

// The sidecar case: a live pod carries a container its template lacks (an injector added it),
// and the HPA's Utilization metric needs a request from it too.
TEST(AuditRules, HpaRequestsCoverContainersInjectedIntoLivePods) {
  auto objects = parse_manifests(test::good_app(), "good.yaml");
  for (auto& o : objects) o.live = true;
  Object rs;
  rs.live = true;
  rs.body = {
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata",
       {{"name", "web-5d4f"},
        {"namespace", "shop"},
        {"ownerReferences", {{{"kind", "Deployment"}, {"name", "web"}, {"controller", true}}}}}},
      {"spec", objects[1].body["spec"]}};
  Object pod;
  pod.live = true;
  pod.body = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"name", "web-5d4f-x2x"},
                {"namespace", "shop"},
                {"labels", {{"app", "web"}}},
                {"ownerReferences",
                 {{{"kind", "ReplicaSet"}, {"name", "web-5d4f"}, {"controller", true}}}}}},
              {"spec", objects[1].body["spec"]["template"]["spec"]}};
  auto sidecar = pod.body["spec"]["containers"][0];
  sidecar["name"] = "mesh-proxy";
  sidecar.erase("resources");
  sidecar.erase("readinessProbe");
  sidecar.erase("livenessProbe");
  sidecar.erase("lifecycle");
  sidecar.erase("env");
  pod.body["spec"]["containers"].push_back(sidecar);
  objects.push_back(rs);
  objects.push_back(pod);
  auto outcomes = run_audit(objects, {});
  EXPECT_EQ(firing(outcomes),
            (std::set<std::string>{"hpa-requests", "resource-requests", "memory-limit",
                                   "readiness-probe", "liveness-probe"}))
      << describe(outcomes);
  for (const auto& o : outcomes)
    for (const auto& f : o.findings) {
      EXPECT_EQ(f.object, "Pod/web-5d4f-x2x") << f.message;  // never the template's container
      EXPECT_NE(f.message.find("'mesh-proxy'"), std::string::npos) << f.message;
      EXPECT_EQ(f.location.file, "");  // live: no file
    }
}

}  // namespace
}  // namespace kgate::audit
