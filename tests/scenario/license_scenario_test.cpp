// Licenses end to end: a grant signed by the server core and verified by
// the agent, revoked with no grace, an old grant replayed, a license that
// survives reboots.
#include <gtest/gtest.h>

#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

TEST(LicenseScenario, RevokeTurnsFeaturesOffAtOnceWithNoGrace) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.run_for(kHourMs);
  const std::string serial(world.device().status().serial);
  ASSERT_TRUE(world.server().revoke("contract ended"));
  // One way latency later the features are off, without any grace.
  world.run_for(20);
  EXPECT_EQ(world.device().status().state, LicenseState::unlicensed) << timeline_text(world);
  EXPECT_FALSE(world.device().agent()->feature_enabled("trunks"));
  EXPECT_FALSE(world.device().status().license_held);
  world.run_for(kSecondMs);
  ASSERT_FALSE(world.server().responses().empty());
  EXPECT_TRUE(world.server().responses().back().ok) << "the device confirms the revoke";
  // The link going down afterwards starts no grace for a revoked license,
  // and a reboot does not bring it back.
  world.server().stop();
  world.run_for(kDayMs);
  EXPECT_EQ(world.device().status().state, LicenseState::unlicensed);
  EXPECT_TRUE(stored_of(world, EventKind::grace_started).empty());
  world.device().reboot();
  world.run_for(kHourMs);
  EXPECT_EQ(world.device().status().state, LicenseState::unlicensed);
  EXPECT_FALSE(world.device().status().license_held);
  // The server issues a new license once it is back.
  ASSERT_TRUE(world.server().start().ok());
  ASSERT_TRUE(sim_until_licensed(world, 10 * 60 * kSecondMs)) << timeline_text(world);
  EXPECT_NE(world.device().status().serial, serial);
  ASSERT_TRUE(sim_until_events_delivered(world));
  EXPECT_EQ(server_count(world, "license_revoked"), 1u);
  EXPECT_EQ(server_count(world, "grace_started"), 0u);
  EXPECT_TRUE(delivered_exactly_once(world));
}

TEST(LicenseScenario, ReplayedOlderGrantIsRefusedAndTheNewerLicenseStays) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  const SimScenario* scenario = find_sim_scenario("replayed-license");
  ASSERT_NE(scenario, nullptr);
  ASSERT_TRUE(scenario->run(world, nullptr)) << timeline_text(world);
  ASSERT_EQ(world.server().directory().issued().size(), 2u);
  const std::string newer = world.server().directory().issued().back().serial;
  EXPECT_EQ(world.device().status().serial, newer) << timeline_text(world);
  EXPECT_EQ(world.device().status().state, LicenseState::licensed);
  ASSERT_EQ(server_count(world, "license_refused"), 1u);
  for (const DeviceEvent& e : server_events(world)) {
    if (e.kind == "license_refused") {
      EXPECT_NE(e.json.find("replay"), std::string::npos) << e.json;
    }
  }
  // The newer license is the one stored: it is what a reboot restores
  // (with the server away, so no fresh grant replaces it).
  world.server().stop();
  world.device().reboot();
  world.run_for(kSecondMs);
  EXPECT_EQ(world.device().status().boot, 2u);
  EXPECT_EQ(world.device().status().serial, newer);
}

TEST(LicenseScenario, LicenseSurvivesRebootsAndPowerLossWithoutTheServer) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  const std::string serial(world.device().status().serial);
  world.server().stop();
  world.device().power_off(kHourMs);
  world.run_for(2 * kHourMs);
  ASSERT_TRUE(world.device().on());
  const AgentStatus s = world.device().status();
  EXPECT_TRUE(s.license_held);
  EXPECT_EQ(s.serial, serial);
  EXPECT_EQ(s.state, LicenseState::grace) << "the link is down at boot";
  EXPECT_TRUE(world.device().agent()->feature_enabled("recording"));
  EXPECT_EQ(s.boot, 2u);
}

TEST(LicenseScenario, GrantedQuantitiesFollowTheEntitlements) {
  SimWorldSetup setup = scenario_setup();
  setup.entitlements = {{"trunks", 12}};  // fewer trunks, no recording
  SimWorld world(setup);
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world)) << timeline_text(world);
  EXPECT_EQ(world.device().agent()->feature_quantity("trunks"), 12u);
  EXPECT_FALSE(world.device().agent()->feature_enabled("recording"));
}

}  // namespace
}  // namespace sublink::test
