// kgate.yaml loading: defaults, the profile's variants, and every kind of error naming its place.
#include <gtest/gtest.h>

#include <cstdlib>

#include "kgate/config.hpp"

namespace kgate {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "kgate.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, EmptyFileGivesTheContractsDefaults) {
  Config c = parse_config("", "kgate.yaml");
  EXPECT_EQ(c.profile.tasks_path, "/api/{user_id}/tasks");
  EXPECT_EQ(c.auth.mode, "mint");
  EXPECT_EQ(c.auth.mint.secret_env, "BETTER_AUTH_SECRET");
  EXPECT_EQ(c.suites, (std::vector<std::string>{"smoke", "security"}));
  EXPECT_EQ(c.target.reachable_within.count(), 8000);
  EXPECT_EQ(c.security.fail_on, "medium");
  EXPECT_EQ(c.security.large_body_bytes, std::size_t{5} << 20);
}

TEST(Config, SecuritySeverityFloorMustBeASeverity) {
  try {
    parse_config("suites:\n  security:\n    fail_on: hihg\n", "kgate.yaml");
    FAIL() << "a misspelled severity must be rejected";
  } catch (const ConfigError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("kgate.yaml:3:14"), std::string::npos) << what;
    EXPECT_NE(what.find("suites.security.fail_on"), std::string::npos) << what;
    EXPECT_NE(what.find("did you mean 'high'"), std::string::npos) << what;
  }
  EXPECT_LT(severity_rank("low"), severity_rank("medium"));
  EXPECT_EQ(severity_rank(""), 0);
}

TEST(Config, StarterConfigIsValid) {
  setenv("KGATE_BACKEND_URL", "http://127.0.0.1:7860", 1);
  Config c = parse_config(starter_config(), "starter");
  EXPECT_EQ(c.target.backend, "http://127.0.0.1:7860");
  unsetenv("KGATE_BACKEND_URL");
  c = parse_config(starter_config(), "starter");
  EXPECT_EQ(c.target.backend, "http://localhost:7860");
}

TEST(Config, ProfileAbsorbsDrift) {
  Config c = parse_config(R"(
profile:
  tasks_path: /api/tasks
  task_path: /api/tasks/{id}
  task_id_format: uuid
  create_status: 200
  delete_status: [200, 204]
  complete_returns: partial
  health_ok_values: [ok]
auth:
  mode: mint
  mint: { secret_env: JWT_SECRET, user_claim: user_id, ttl: 5m }
)",
                          "kgate.yaml");
  EXPECT_EQ(c.profile.tasks_path, "/api/tasks");
  EXPECT_EQ(c.profile.create_status, std::vector<int>{200});
  EXPECT_EQ(c.profile.complete_returns, "partial");
  EXPECT_EQ(c.auth.mint.user_claim, "user_id");
  EXPECT_EQ(c.auth.mint.ttl.count(), 300000);
}

TEST(Config, UnknownKeyNamesLineColumnAndSuggests) {
  EXPECT_EQ(error_of("target:\n  backend: http://a:1\n  request_timout: 3s\n"),
            "kgate.yaml:3:3: unknown key 'target.request_timout' (did you mean "
            "'target.request_timeout'?)");
  EXPECT_EQ(error_of("tagret:\n  backend: http://a:1\n"),
            "kgate.yaml:1:1: unknown key 'tagret' (did you mean 'target'?)");
}

TEST(Config, BadValuesNameTheKey) {
  EXPECT_EQ(error_of("target:\n  connect_timeout: soon\n"),
            "kgate.yaml:2:20: key 'target.connect_timeout': invalid duration 'soon': expected a "
            "number and a unit, e.g. 250ms, 1.5s or 1m30s");
  EXPECT_NE(error_of("target:\n  backend: ftp://x\n").find("kgate.yaml:2:12: key 'target.backend'"),
            std::string::npos);
  EXPECT_NE(error_of("auth:\n  mode: mnt\n").find("(did you mean 'mint'?)"), std::string::npos);
  EXPECT_NE(error_of("profile:\n  create_status: [201, 999]\n").find("'999' is not an HTTP status"),
            std::string::npos);
  EXPECT_NE(error_of("profile:\n  tasks_path: api/tasks\n").find("must start with '/'"),
            std::string::npos);
  EXPECT_NE(error_of("run:\n  suites: [smoke, secuirty]\n")
                .find("unknown suite 'secuirty' (did you mean 'security'?)"),
            std::string::npos);
  EXPECT_NE(error_of("auth:\n  mode: tokens\n").find("needs auth.tokens"), std::string::npos);
  EXPECT_NE(error_of("auth:\n  tokens:\n    - { user_id: a, tokn: x }\n")
                .find("unknown key 'auth.tokens[0].tokn'"),
            std::string::npos);
}

TEST(Config, LoadTotalTimeout) {
  EXPECT_EQ(parse_config("", "kgate.yaml").load.total_timeout.count(), 0) << "off by default";
  Config c = parse_config("suites:\n  load:\n    total_timeout: 1.5s\n", "kgate.yaml");
  EXPECT_EQ(c.load.total_timeout.count(), 1500);
  EXPECT_EQ(error_of("suites:\n  load:\n    total_timeout: soon\n"),
            "kgate.yaml:3:20: key 'suites.load.total_timeout': invalid duration 'soon': expected a "
            "number and a unit, e.g. 250ms, 1.5s or 1m30s");
  EXPECT_EQ(parse_config("suites:\n  load:\n    total_timeout: 0s\n", "kgate.yaml")
                .load.total_timeout.count(),
            0)
      << "0s says off, as the default does";
  EXPECT_EQ(parse_config("suites:\n  load:\n    think: 0s\n", "kgate.yaml").load.think.count(), 0);
  EXPECT_EQ(error_of("suites:\n  load:\n    total_timeout: -1s\n")
                .find("kgate.yaml:3:20: key "
                      "'suites.load.total_timeout'"),
            0u);
}

TEST(Config, DurationsFollowTheOneGrammar) {
  Config c = parse_config(
      "target:\n  request_timeout: 1m30s\n  connect_timeout: 1.5s\nsuites:\n  load:\n"
      "    think: 0\n",
      "kgate.yaml");
  EXPECT_EQ(c.target.request_timeout.count(), 90'000);
  EXPECT_EQ(c.target.connect_timeout.count(), 1'500);
  EXPECT_EQ(c.load.think.count(), 0) << "a bare 0 needs no unit";
  // A bare number used to mean seconds here (and was an error in thresholds): now it is an error
  // that says what is missing.
  EXPECT_EQ(error_of("target:\n  request_timeout: 30\n"),
            "kgate.yaml:2:20: key 'target.request_timeout': invalid duration '30': '30' needs a "
            "unit: h, m, s, ms or us (e.g. 30s or 30ms); only 0 may stand alone");
  EXPECT_NE(
      error_of("target:\n  request_timeout: 30s1m\n").find("from the largest to the smallest"),
      std::string::npos);
}

TEST(Config, InvalidYamlNamesThePlace) {
  EXPECT_EQ(error_of("target: [1\n").rfind("kgate.yaml:2:1: invalid YAML", 0), 0u);
}

TEST(Config, EnvironmentInterpolation) {
  setenv("KGATE_TEST_HOST", "10.0.0.1", 1);
  Config c = parse_config(
      "target:\n  backend: http://${KGATE_TEST_HOST}:${KGATE_TEST_PORT:-7860}/\n", "k");
  EXPECT_EQ(c.target.backend, "http://10.0.0.1:7860");
  EXPECT_EQ(
      error_of("target:\n  backend: ${KGATE_TEST_UNSET_VAR}\n"),
      "kgate.yaml:2:12: key 'target.backend': environment variable KGATE_TEST_UNSET_VAR is not set "
      "(use ${KGATE_TEST_UNSET_VAR:-default} for a default)");
  c = parse_config("reports:\n  junit: cost$$1.xml\n", "k");
  EXPECT_EQ(c.reports.junit, "cost$1.xml");
}

TEST(Config, MissingFileIsAConfigError) {
  EXPECT_THROW(load_config("/nonexistent/kgate.yaml"), ConfigError);
}

TEST(Config, Suggest) {
  EXPECT_EQ(suggest("smok", {"smoke", "load"}), "smoke");
  EXPECT_EQ(suggest("zzzzzz", {"smoke", "load"}), "");
}

TEST(Config, HpaSuiteKeys) {
  const Config d = parse_config("", "kgate.yaml");
  EXPECT_TRUE(d.hpa.stages.empty());                       // derived from the HPA
  EXPECT_EQ(d.hpa.controller.sync_period.count(), 15000);  // the controller's defaults
  EXPECT_EQ(d.hpa.controller.downscale_stabilization.count(), 300000);
  EXPECT_EQ(d.hpa.controller.cpu_initialization.count(), 300000);
  EXPECT_EQ(d.hpa.controller.initial_readiness_delay.count(), 30000);
  EXPECT_DOUBLE_EQ(d.hpa.controller.tolerance, 0.1);
  EXPECT_TRUE(d.hpa.scale_down);

  const Config c = parse_config(R"(suites:
  hpa:
    scenario: request
    path: /health
    stages: 10s:100,30s:100
    target_replicas: 3
    scale_up_budget: 2m
    scale_down: false
    p95: 300ms
    max_error_rate: 0.5
    check_timeout: 20m
    controller: {sync_period: 1s, downscale_stabilization: 15s, tolerance: 0.05}
)",
                                "kgate.yaml");
  EXPECT_EQ(c.hpa.scenario, "request");
  EXPECT_EQ(c.hpa.stages, "10s:100,30s:100");
  EXPECT_EQ(c.hpa.target_replicas, 3);
  EXPECT_EQ(c.hpa.scale_up_budget.count(), 120000);
  EXPECT_FALSE(c.hpa.scale_down);
  EXPECT_EQ(c.hpa.p95.count(), 300);
  EXPECT_DOUBLE_EQ(c.hpa.max_error_rate, 0.5);
  EXPECT_EQ(c.hpa.controller.sync_period.count(), 1000);
  EXPECT_EQ(c.hpa.controller.downscale_stabilization.count(), 15000);
  EXPECT_DOUBLE_EQ(c.hpa.controller.tolerance, 0.05);
  EXPECT_EQ(c.suite_check_timeouts.at("hpa").count(), 20 * 60000);

  EXPECT_EQ(error_of("suites:\n  hpa:\n    stages: 10s:abc\n")
                .rfind("kgate.yaml:3:13: key "
                       "'suites.hpa.stages': ",
                       0),
            0u)
      << error_of("suites:\n  hpa:\n    stages: 10s:abc\n");
  EXPECT_NE(error_of("suites:\n  hpa:\n    scenario: mix\n").find("'mix' is not one of"),
            std::string::npos);
  EXPECT_NE(error_of("suites:\n  hpa:\n    controller:\n      sync: 1s\n")
                .find("kgate.yaml:4:7: unknown key 'suites.hpa.controller.sync'"),
            std::string::npos)
      << error_of("suites:\n  hpa:\n    controller:\n      sync: 1s\n");
  EXPECT_NE(error_of("suites:\n  hpa:\n    scale_downn: false\n")
                .find("did you mean 'suites.hpa.scale_down'"),
            std::string::npos);
  EXPECT_NE(error_of("suites:\n  hpa:\n    max_error_rate: 200\n")
                .find("key 'suites.hpa.max_error_rate': expected a number in [0, 100]"),
            std::string::npos);
}

}  // namespace
}  // namespace kgate

namespace kgate {
namespace {
TEST(Config, ADuplicateKeyIsAnErrorNotAQuietOverride) {
  try {
    parse_config("auth:\n  mode: login\nsuites: {}\nauth:\n  mode: mint\n", "kgate.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "kgate.yaml:4:1: key 'auth' appears twice (first at line 1)");
  }
}
}  // namespace
}  // namespace kgate

namespace kgate {
namespace {
TEST(Config, KubernetesTargetNeedsAWayToFindTheApp) {
  Config none = parse_config("", "kgate.yaml");
  EXPECT_FALSE(none.kubernetes.configured);
  Config c = parse_config(
      "kubernetes:\n  context: kind-kgate\n  namespace: todo\n  release: todo\n", "kgate.yaml");
  EXPECT_TRUE(c.kubernetes.configured);
  EXPECT_EQ(c.kubernetes.namespace_, "todo");
  EXPECT_EQ(c.kubernetes.disruption_label, "kgate.io/disruption");
  try {
    parse_config("kubernetes:\n  namespace: todo\n", "kgate.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("kgate.yaml:2:3: key 'kubernetes': say how to find"),
              std::string::npos)
        << e.what();
  }
}
TEST(Config, DistributedLoadNeedsAClusterAndTakesKubernetesQuantities) {
  const std::string k8s = "kubernetes:\n  namespace: todo\n  release: todo\n";
  Config c = parse_config(k8s +
                              "suites:\n  load:\n    workers: 4\n    distributed:\n"
                              "      image: registry.example/kgate:1.0\n"
                              "      resources: {requests: {cpu: 500m, memory: 128Mi}}\n"
                              "      start_timeout: 30s\n      allow_partial: true\n",
                          "kgate.yaml");
  EXPECT_EQ(c.load.workers, 4);
  EXPECT_EQ(c.load.distributed.image, "registry.example/kgate:1.0");
  EXPECT_EQ(c.load.distributed.requests.at("cpu"), "500m");
  EXPECT_EQ(c.load.distributed.limits.at("memory"), "512Mi");  // the default stays
  EXPECT_EQ(c.load.distributed.start_timeout, Millis(30000));
  EXPECT_TRUE(c.load.distributed.allow_partial);
  EXPECT_NE(error_of("suites:\n  load:\n    workers: 3\n")
                .find("kgate.yaml:3:14: key 'suites.load.workers': workers run in a cluster"),
            std::string::npos)
      << error_of("suites:\n  load:\n    workers: 3\n");
  const std::string bad_cpu = k8s +
                              "suites:\n  load:\n    workers: 2\n    distributed:\n"
                              "      resources: {requests: {cpu: lots}}\n";
  EXPECT_NE(error_of(bad_cpu).find("'suites.load.distributed.resources.requests.cpu': 'lots' is "
                                   "not a Kubernetes quantity"),
            std::string::npos)
      << error_of(bad_cpu);
  // The todo mix runs on workers, each with identities of its own: not fewer than the workers.
  Config mix = parse_config(k8s + "suites:\n  load:\n    workers: 2\n    scenario: todo-mix\n",
                            "kgate.yaml");
  EXPECT_EQ(mix.load.workers, 2);
  const std::string few = k8s +
                          "suites:\n  load:\n    workers: 3\n    scenario: todo-mix\n"
                          "    identities: 2\n";
  EXPECT_NE(error_of(few).find("'suites.load.workers': 3 workers need at least as many identities "
                               "(suites.load.identities is 2)"),
            std::string::npos)
      << error_of(few);
  const std::string auth = k8s + "suites:\n  load:\n    workers: 2\n    authenticated: true\n";
  EXPECT_NE(error_of(auth).find("authenticated requests do not run distributed yet"),
            std::string::npos)
      << error_of(auth);
}

// suites.audit: the live audit suite's floor, selector and suppressions (each rule checked
// against the audit's rules, each with a reason), errors naming the place.
TEST(Config, AuditSuiteKeys) {
  Config c = parse_config(R"(suites:
  audit:
    fail_on: high
    selector: app=todo
    suppressions:
      - rule: image-digest
        object: Deployment/todo-*
        reason: tags are immutable in our registry
)",
                          "kgate.yaml");
  EXPECT_EQ(c.audit.fail_on, "high");
  EXPECT_EQ(c.audit.selector, "app=todo");
  ASSERT_EQ(c.audit.suppressions.size(), 1u);
  EXPECT_EQ(c.audit.suppressions[0].rule, "image-digest");
  EXPECT_EQ(c.audit.suppressions[0].where, "kgate.yaml:6");
  EXPECT_EQ(parse_config("", "kgate.yaml").audit.fail_on, "medium");

  auto unknown = error_of(
      "suites:\n  audit:\n    suppressions:\n      - rule: image-digset\n"
      "        reason: x\n");
  EXPECT_NE(unknown.find("kgate.yaml:4:"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("did you mean 'image-digest'"), std::string::npos) << unknown;
  auto no_reason = error_of("suites:\n  audit:\n    suppressions:\n      - rule: image-digest\n");
  EXPECT_NE(no_reason.find("every suppression needs a reason"), std::string::npos) << no_reason;
  auto bad_key = error_of("suites:\n  audit:\n    suppressions:\n      - rul: image-digest\n");
  EXPECT_NE(bad_key.find("did you mean 'rule'"), std::string::npos) << bad_key;
}

}  // namespace
}  // namespace kgate
