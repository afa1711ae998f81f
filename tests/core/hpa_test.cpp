// The HPA suite's arithmetic: CPU quantities as the metrics API and pod specs write them, and
// the controller's replica rule the suite uses to say what the HPA wanted before clamping.
#include <gtest/gtest.h>

#include "../../suites/hpa/env.hpp"

namespace kgate::hpa {
namespace {

TEST(Hpa, ParsesCpuQuantities) {
  EXPECT_DOUBLE_EQ(*parse_cpu("100m"), 0.1);
  EXPECT_DOUBLE_EQ(*parse_cpu("2"), 2.0);
  EXPECT_DOUBLE_EQ(*parse_cpu("0.5"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_cpu("250000n"), 0.00025);
  EXPECT_DOUBLE_EQ(*parse_cpu("1500u"), 0.0015);
  EXPECT_FALSE(parse_cpu(""));
  EXPECT_FALSE(parse_cpu("lots"));
  EXPECT_FALSE(parse_cpu("5x"));
}

TEST(Hpa, WantedReplicasFollowsTheControllersRule) {
  EXPECT_EQ(wanted_replicas(1, 300, 50, 0.1), 6);  // ceil(1 * 300 / 50)
  EXPECT_EQ(wanted_replicas(2, 54, 50, 0.1), 2);   // within the tolerance: no change
  EXPECT_EQ(wanted_replicas(2, 56, 50, 0.1), 3);   // 1.12 > 1.1: ceil(2.24)
  EXPECT_EQ(wanted_replicas(4, 10, 50, 0.1), 1);   // ceil(0.8)
  EXPECT_EQ(wanted_replicas(0, 90, 50, 0.1), 0);   // nothing to scale from
}

}  // namespace
}  // namespace kgate::hpa
