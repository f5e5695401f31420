// Liveness and delivery over the simulated network (PROTOCOL.md sections 1
// and 5): a healthy link stays up, a silent server is found dead after three
// heartbeat intervals, `disconnect` is honoured, ports fail over, and events
// reach the application once even when an event_ack is lost.
#include <gtest/gtest.h>

#include <cstdio>

#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

// World time of the first timeline line of `who` starting with `prefix`
// at or after `from`; -1 when none.
Millis first_line_at(SimWorld& world, std::string_view who, std::string_view prefix, Millis from) {
  for (const SimTimelineEntry& e : world.timeline().entries()) {
    if (e.at >= from && e.who == who && std::string_view(e.what).substr(0, prefix.size()) == prefix) return e.at;
  }
  return -1;
}

TEST(LinkScenario, HealthyLinkStaysUpForDays) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.run_for(3 * kDayMs - kHourMs);
  EXPECT_EQ(world.server().welcomes(), 1u) << timeline_text(world);
  EXPECT_TRUE(world.device().status().link_up);
  EXPECT_TRUE(world.timeline().lines_starting("device", "link down").empty());
  // heartbeat_s 60 for 3 days less an hour; the audit every audit_s (1
  // day). At this first welcome the device held no license yet: its first
  // audit goes out as soon as the license arrives, then one a day.
  EXPECT_NEAR(static_cast<double>(world.server().received("heartbeat")), 3.0 * 1440 - 60, 2.0);
  EXPECT_EQ(world.server().received("license_audit"), 3u);
  EXPECT_EQ(world.server().directory().audits().size(), 3u);
  EXPECT_EQ(world.device().status().state, LicenseState::licensed);
}

TEST(LinkScenario, SilentServerIsFoundDeadAfterThreeHeartbeatIntervals) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.run_for(10 * 60 * kSecondMs + 30 * kSecondMs);  // between two heartbeats
  const Millis hung_at = world.now();
  world.server().hang(true);  // keeps the TCP connection, answers nothing
  world.run_for(5 * 60 * kSecondMs);
  const Millis down_at = first_line_at(world, "device", "link down", hung_at);
  ASSERT_GE(down_at, 0) << timeline_text(world);
  // The last answer came at most one heartbeat (60 s) before the hang;
  // 3 x 60 s without a frame after it the link is dead.
  EXPECT_GT(down_at, hung_at + 120 * kSecondMs);
  EXPECT_LE(down_at, hung_at + 180 * kSecondMs);
  EXPECT_EQ(world.device().status().state, LicenseState::grace);
  world.server().hang(false);
  ASSERT_TRUE(sim_until_licensed(world, 15 * 60 * kSecondMs)) << timeline_text(world);
}

TEST(LinkScenario, DisconnectIsHonouredWithItsRetryAfter) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  const uint64_t welcomes = world.server().welcomes();
  const Millis asked = world.now();
  ASSERT_TRUE(world.server().disconnect("maintenance", 120));
  world.run_for(119 * kSecondMs);
  EXPECT_EQ(world.server().welcomes(), welcomes) << "no reconnection before retry_after_s";
  EXPECT_FALSE(world.timeline().lines_starting("server", "session closed: closed_by_peer 1000").empty())
      << "the device closed with 1000\n"
      << timeline_text(world);
  ASSERT_TRUE(sim_until_licensed(world, 10 * 60 * kSecondMs)) << timeline_text(world);
  EXPECT_GE(first_line_at(world, "server", "welcome", asked + kSecondMs), asked + 120 * kSecondMs);
}

TEST(LinkScenario, RefusedPortFailsOverTo8443) {
  SimWorld world(scenario_setup());
  world.server().refuse_port(443, true);
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world)) << timeline_text(world);
  EXPECT_EQ(world.device().status().port, 8443);
}

TEST(LinkScenario, BlackholedPortIsOvertakenAfterTheStagger) {
  SimWorld world(scenario_setup());
  world.server().blackhole_port(443, true);
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world)) << timeline_text(world);
  EXPECT_EQ(world.device().status().port, 8443);
  // stagger_ms 300, then TCP, TLS and the upgrade: 4 round trips of 40 ms.
  EXPECT_EQ(first_line_at(world, "device", "link up", 0), 5 + 300 + 160);
}

TEST(LinkScenario, ServerStoppedMidHandshakeLeavesNothingBehind) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  world.run_until(100);  // TCP is up (45 ms), TLS under way
  ASSERT_TRUE(world.device().status().state == LicenseState::unlicensed);
  world.server().stop();
  world.run_for(10 * kSecondMs);
  EXPECT_EQ(world.server().welcomes(), 0u) << timeline_text(world);
  EXPECT_EQ(world.server().open_sessions(), 0u);
  EXPECT_FALSE(world.device().status().link_up);
  ASSERT_TRUE(world.server().start().ok());
  ASSERT_TRUE(sim_until_licensed(world, 10 * 60 * kSecondMs)) << timeline_text(world);
}

TEST(LinkScenario, LostEventAckDeliversTheEventsOnce) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  ASSERT_TRUE(sim_until_events_delivered(world));
  world.server().restart(20 * 60 * kSecondMs);  // grace_started and a grace_alarm wait on the device
  world.run_for(kSecondMs);
  const size_t before = world.server().event_deliveries().size();
  ASSERT_TRUE(world.run_until([&] { return world.server().event_deliveries().size() > before; }, 30 * 60 * kSecondMs,
                              1))
      << timeline_text(world);
  // The batch is stored; its event_ack is on the wire and is lost.
  world.server().blackhole(true);
  world.run_for(10 * 60 * kSecondMs);
  world.server().blackhole(false);
  ASSERT_TRUE(sim_until_licensed(world, 15 * 60 * kSecondMs)) << timeline_text(world);
  ASSERT_TRUE(sim_until_events_delivered(world));
  EXPECT_GT(world.server().event_deliveries().size(), server_events(world).size())
      << "the unacknowledged batch was sent again\n"
      << timeline_text(world);
  EXPECT_TRUE(delivered_exactly_once(world));
  EXPECT_EQ(server_count(world, "grace_started"), 2u);  // the restart and the blackhole
}

TEST(LinkScenario, DeviceLinkLossGraceAndBack) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.device_link_down(true);
  world.run_for(kDayMs);
  EXPECT_EQ(world.device().status().state, LicenseState::grace);
  EXPECT_EQ(stored_of(world, EventKind::grace_alarm).size(), 1u);
  world.device_link_down(false);
  ASSERT_TRUE(sim_until_licensed(world, 10 * 60 * kSecondMs)) << timeline_text(world);
  ASSERT_TRUE(sim_until_events_delivered(world));
  EXPECT_TRUE(delivered_exactly_once(world));
}

// A server that refuses the device after the upgrade (`error`
// system_mismatch, close 1008): the system is registered to another
// customer. PROTOCOL.md 1.5: the refusal is a failed round, the backoff
// grows up to retry_max_s (300 s) and no welcome ever resets it, so a
// device (and a fleet of them) costs the server a bounded number of
// connections per hour, not one every half second.
TEST(LinkScenario, RefusedDeviceBacksOffToRetryMaxAndStaysThere) {
  SimWorldSetup setup = scenario_setup();
  SimWorld world(setup);
  SystemRecord elsewhere;
  elsewhere.customer_id = "C-OTHER";
  elsewhere.system_id = std::string(setup.device_config.system_id.view());
  world.server().directory().put_system(elsewhere);
  ASSERT_TRUE(world.start().ok());

  world.run_for(kHourMs);
  const uint64_t first_hour = world.server().received("hello");
  world.run_for(5 * kHourMs);
  const uint64_t next_five_hours = world.server().received("hello") - first_hour;
  std::printf("[ measure  ] refused device: %llu hellos in the first hour, %llu in the next five\n",
              static_cast<unsigned long long>(first_hour), static_cast<unsigned long long>(next_five_hours));

  EXPECT_EQ(world.server().welcomes(), 0u);
  ASSERT_FALSE(world.timeline().lines_starting("server", "closes with 1008 system_mismatch").empty())
      << timeline_text(world);
  // Bounds 1, 2, 4 ... 256 s, then 300 s with full jitter (mean 150 s):
  // about 9 + 22 hellos in the first hour, 24 an hour after it. Twice that
  // is the limit; the old agent reconnected about 7200 times an hour.
  EXPECT_GE(first_hour, 10u) << "the device keeps trying";
  EXPECT_LE(first_hour, 62u) << timeline_text(world);
  EXPECT_GE(next_five_hours, 5u * 12u);
  EXPECT_LE(next_five_hours, 5u * 48u) << "refusals per hour once at retry_max_s";
}

}  // namespace
}  // namespace sublink::test
