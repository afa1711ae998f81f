// `kgate load --watch`: the --watch value as kubectl spells a Deployment, and what the samples
// say about scaling (the first decision, the maxima, ticks that could not be read).
#include <gtest/gtest.h>

#include "kgate/config.hpp"
#include "kgate/load_watch.hpp"

namespace kgate {
namespace {

std::string error_of(const std::string& value) {
  try {
    parse_watch_target(value);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(LoadWatch, TakesADeploymentAsKubectlSpellsIt) {
  EXPECT_EQ(parse_watch_target("deployment/todo-backend"), "todo-backend");
  EXPECT_EQ(parse_watch_target("deployments/web.v2"), "web.v2");
  EXPECT_EQ(parse_watch_target("deploy/x"), "x");
  EXPECT_EQ(parse_watch_target("deployment.apps/api-1"), "api-1");
}

TEST(LoadWatch, RefusesAnythingElseNamingTheFlag) {
  EXPECT_NE(error_of("pod/x").find("--watch 'pod/x': only a Deployment can be watched"),
            std::string::npos)
      << error_of("pod/x");
  EXPECT_NE(error_of("statefulset/db").find("not 'statefulset'"), std::string::npos);
  EXPECT_NE(error_of("deployment/").find("the Deployment's name is missing"), std::string::npos)
      << error_of("deployment/");
  EXPECT_NE(error_of("todo-backend").find("expected deployment/NAME"), std::string::npos)
      << error_of("todo-backend");
  EXPECT_NE(error_of("deployment/Todo_Backend").find("is not a valid Deployment name"),
            std::string::npos);
  EXPECT_NE(error_of("deployment/a/b").find("is not a valid Deployment name"), std::string::npos);
  EXPECT_NE(error_of("deployment/-x").find("is not a valid Deployment name"), std::string::npos);
}

cluster::ScaleSample tick(double t, int hpa_desired, int spec, int ready,
                          std::optional<double> cpu = std::nullopt, std::string error = "") {
  cluster::ScaleSample s;
  s.t = t;
  s.hpa_desired = hpa_desired;
  s.spec_replicas = spec;
  s.ready = ready;
  s.live = ready;
  s.pods_read = ready >= 0;
  s.hpa_cpu = cpu;
  s.error = std::move(error);
  return s;
}

TEST(LoadWatch, FindsTheFirstScaleDecisionAndTheMaxima) {
  // 1 replica; the HPA wants 3 at 4 s, the Deployment follows at 5 s, 3 Ready at 8 s.
  const std::vector<cluster::ScaleSample> ss = {
      tick(0, 1, 1, 1, 10),  tick(1, 1, 1, 1, 40),  tick(2, 1, 1, 1, 90), tick(3, 1, 1, 1, 140),
      tick(4, 3, 1, 1, 150), tick(5, 3, 3, 1, 150), tick(6, 3, 3, 2, 90), tick(8, 3, 3, 3, 50)};
  const auto s = summarize_scaling(ss, 1);
  ASSERT_TRUE(s.t_first_decision);
  EXPECT_DOUBLE_EQ(*s.t_first_decision, 4);
  EXPECT_EQ(s.first_decision_to, 3);
  EXPECT_EQ(s.max_desired, 3);
  EXPECT_EQ(s.max_ready, 3);
  EXPECT_DOUBLE_EQ(*s.peak_hpa_cpu, 150);
  EXPECT_EQ(s.samples, 8);
  EXPECT_EQ(s.errors, 0);
}

TEST(LoadWatch, AnHpaNotSyncedYetDecidesNothing) {
  // A fresh HPA's status says desiredReplicas 0 until the controller's first sync.
  const std::vector<cluster::ScaleSample> ss = {tick(0, 0, 1, 1), tick(1, 1, 1, 1, 80),
                                                tick(2, 2, 1, 1, 160)};
  const auto s = summarize_scaling(ss, 1);
  ASSERT_TRUE(s.t_first_decision);
  EXPECT_DOUBLE_EQ(*s.t_first_decision, 2);
  EXPECT_EQ(s.first_decision_to, 2);
}

TEST(LoadWatch, NoDecisionWhenNothingChanged) {
  // Already at 2 before the load (an earlier run): staying at 2 is no decision.
  const std::vector<cluster::ScaleSample> ss = {tick(0, 2, 2, 2, 30), tick(1, 2, 2, 2, 45)};
  const auto s = summarize_scaling(ss, 2);
  EXPECT_FALSE(s.t_first_decision);
  EXPECT_EQ(s.max_desired, 2);
}

TEST(LoadWatch, WithoutAnHpaTheDeploymentsReplicasDecideAndErrorsAreCounted) {
  const std::vector<cluster::ScaleSample> ss = {
      tick(0, -1, 1, 1), tick(1, -1, -1, -1, std::nullopt, "deployment/x: timed out"),
      tick(2, -1, 2, 1)};
  const auto s = summarize_scaling(ss, 1);
  ASSERT_TRUE(s.t_first_decision);
  EXPECT_DOUBLE_EQ(*s.t_first_decision, 2);
  EXPECT_EQ(s.errors, 1);
  EXPECT_EQ(s.last_error, "deployment/x: timed out");
  EXPECT_FALSE(s.peak_hpa_cpu);
  EXPECT_EQ(s.max_ready, 1);  // the unread tick counts for nothing
}

}  // namespace
}  // namespace kgate
