// The simulation is deterministic from its seed: the same seed gives the
// same timeline, line for line, TLS and backoff jitter included; another
// seed gives another run.
#include <gtest/gtest.h>

#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

std::vector<std::string> run_timeline(const char* name, uint64_t seed) {
  const SimScenario* scenario = find_sim_scenario(name);
  EXPECT_NE(scenario, nullptr);
  SimWorldSetup setup = scenario_setup(seed);
  if (scenario->configure) scenario->configure(setup);
  SimWorld world(setup);
  EXPECT_TRUE(world.start().ok());
  EXPECT_TRUE(scenario->run(world, nullptr)) << timeline_text(world);
  return world.timeline().lines();
}

TEST(Determinism, SameSeedGivesTheIdenticalTimeline) {
  for (const char* name : {"link-faults", "full-life", "rtc-lost"}) {
    SCOPED_TRACE(name);
    const std::vector<std::string> a = run_timeline(name, 11);
    const std::vector<std::string> b = run_timeline(name, 11);
    ASSERT_GT(a.size(), 30u);
    EXPECT_EQ(a, b);
  }
}

TEST(Determinism, AnotherSeedGivesAnotherRun) {
  // Backoff jitter decides when the device gets back after the link faults.
  EXPECT_NE(run_timeline("link-faults", 11), run_timeline("link-faults", 12));
}

TEST(Determinism, EveryNamedScenarioRunsAsScripted) {
  for (const SimScenario& s : sim_scenarios()) {
    SCOPED_TRACE(s.name);
    SimWorldSetup setup = scenario_setup(3);
    if (s.configure) s.configure(setup);
    SimWorld world(setup);
    ASSERT_TRUE(world.start().ok());
    EXPECT_TRUE(s.run(world, nullptr)) << timeline_text(world);
  }
}

}  // namespace
}  // namespace sublink::test
