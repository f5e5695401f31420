// Two devices with one identity (issue 10, break 4) in virtual time: the
// original and a clone (the same configuration and certificate, their own
// flash) against the simulated server, which holds at most one link per
// system (PROTOCOL.md section 4). The clone's hello replaces the original's
// link and back again, every replaced device waits the retry_after_s it was
// told, and the ping-pong raises duplicate_identity; the original alone,
// power-cycled in a loop while the server still holds its link, never does.
#include <gtest/gtest.h>

#include "boards/sim/sim_scenarios.h"
#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

bool linked_and_licensed(const AgentStatus& s) { return s.link_up && s.state == LicenseState::licensed; }

TEST(IdentityScenario, TwoDevicesWithOneIdentityTakeTurnsAndRaiseDuplicateIdentity) {
  SimWorld world(scenario_setup(11));
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  SimDevice& clone = world.add_clone("clone", IpAddress::parse("10.0.0.3"));
  ASSERT_TRUE(clone.boot().ok());

  // An hour in steps of 100 ms: the server never holds two links of the
  // system, and the devices are both linked and licensed only for the
  // moment a `disconnect` takes on the way (the path's latency).
  int both = 0, longest_both = 0, run = 0, clone_licensed = 0;
  for (int step = 0; step < 36000; ++step) {
    world.run_for(100);
    ASSERT_LE(world.server().linked_sessions(), 1u) << timeline_text(world);
    const bool a = linked_and_licensed(world.device().status());
    const bool b = linked_and_licensed(clone.status());
    clone_licensed += b;
    run = a && b ? run + 1 : 0;
    both += a && b;
    longest_both = std::max(longest_both, run);
  }
  EXPECT_GT(clone_licensed, 0) << "the newer link is kept";
  EXPECT_LE(longest_both, 1) << both << " steps of 100 ms with both licensed\n" << timeline_text(world);

  const std::vector<SystemAlarm>& alarms = world.server().directory().alarms();
  ASSERT_EQ(alarms.size(), 1u) << timeline_text(world);
  EXPECT_EQ(alarms[0].system_id, "SYS-0001");
  EXPECT_EQ(alarms[0].kind, "duplicate_identity");
  // A replaced device waits the server's retry_after_s (60 s by default)
  // before its next hello: within the first hour, at most one turn a minute.
  const size_t turns = world.timeline().lines_starting("server", "hello of instance").size();
  EXPECT_GE(turns, 4u);
  EXPECT_LE(turns, 62u) << timeline_text(world);
}

TEST(IdentityScenario, OneDevicePowerCycledInALoopIsNeverTakenForAClone) {
  SimWorld world(scenario_setup(12));
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  // The power goes (no close, no FIN: the server still holds the link) and
  // comes back 5 s later; the device links again with the instance its
  // flash keeps, replacing the link the server held. Ten times in the hour.
  for (int i = 0; i < 10; ++i) {
    world.device().power_off(5 * kSecondMs);
    world.run_for(kSecondMs);
    ASSERT_TRUE(sim_until_licensed(world, 5 * 60 * kSecondMs)) << timeline_text(world);
    world.run_for(60 * kSecondMs);
  }
  EXPECT_GE(world.timeline().lines_starting("server", "hello of instance").size(), 10u)
      << "each hello replaced the link the server still held\n" << timeline_text(world);
  for (const std::string& line : world.timeline().lines_starting("server", "hello of instance")) {
    EXPECT_NE(line.find("(the same appliance)"), std::string::npos) << line;
  }
  EXPECT_TRUE(world.server().directory().alarms().empty()) << timeline_text(world);
}

}  // namespace
}  // namespace sublink::test
