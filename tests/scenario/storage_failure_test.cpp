// Storage failing (the medium full: every write of one record kind refused
// with ENOSPC) for each record kind in turn, across restarts: nothing
// licensed, no grace time, no event and not the device's instance is lost. Grace still advances while
// the record cannot be written, the state is consistent once storage comes
// back, and the boot count the server sees never repeats.
#include <gtest/gtest.h>

#include <cerrno>

#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

constexpr Millis kGraceCheckpoint = 60 * kSecondMs;

TEST(StorageFailure, EachRecordKindFailingAcrossRestartsLosesNothing) {
  for (RecordId kind : {RecordId::license, RecordId::grace, RecordId::usage, RecordId::events, RecordId::boot,
                        RecordId::identity}) {
    SCOPED_TRACE(std::string("failing record: ") + record_name(kind));
    SimWorldSetup setup = scenario_setup(31);
    setup.device_config.grace_checkpoint = kGraceCheckpoint;
    SimWorld world(setup);
    SimDevice& device = world.device();
    ASSERT_TRUE(world.start().ok());
    ASSERT_TRUE(sim_until_licensed(world)) << timeline_text(world);
    ASSERT_TRUE(sim_until_events_delivered(world));
    std::vector<uint64_t> boots{device.status().boot};
    // The instance made at the first boot (PROTOCOL.md section 4).
    const std::optional<std::vector<uint8_t>> instance = device.storage().committed(RecordId::identity);
    ASSERT_TRUE(instance.has_value());

    device.storage().fail_writes(kind, Status(Reason::io_error, ENOSPC));
    world.server().stop();
    world.device_link_down(true);
    world.run_for(kSecondMs);
    const Millis grace_from = world.now();
    ASSERT_EQ(device.status().state, LicenseState::grace);
    // Events vanish with the RAM when their own record cannot be written;
    // every other kind is restarted while it fails (a crash, power back 1 s later).
    const bool restarts = kind != RecordId::events;
    Millis off = 0;
    for (int i = 0; i < 4; ++i) {
      world.run_for(3 * 60 * kSecondMs);
      if (restarts) {
        device.power_off(kSecondMs);
        world.run_for(kSecondMs);
        off += kSecondMs;
        boots.push_back(device.status().boot);
      }
    }
    world.run_for(60 * kSecondMs);
    EXPECT_EQ(device.status().state, LicenseState::grace);
    EXPECT_TRUE(device.agent()->feature_enabled("trunks")) << "the license in force stays in force";
    const int64_t on_s = (world.now() - grace_from - off) / kSecondMs;
    if (kind != RecordId::grace) {
      // Grace advanced: at least the time run (checkpoints were stored).
      EXPECT_GE(device.status().grace_elapsed_s, on_s - 1);
    }

    // Storage comes back: the record is written again, and a restart
    // restores what was in force (grace not gone back).
    device.storage().stop_failing();
    world.run_for(2 * kGraceCheckpoint);
    const int64_t elapsed_before = device.status().grace_elapsed_s;
    device.power_off(kSecondMs);
    world.run_for(kSecondMs);
    boots.push_back(device.status().boot);
    EXPECT_EQ(device.status().state, LicenseState::grace);
    EXPECT_GE(device.status().grace_elapsed_s, elapsed_before) << "grace time went back after a restart";
    EXPECT_TRUE(device.agent()->feature_enabled("trunks"));

    // Back online: licensed, every stored event delivered once.
    ASSERT_TRUE(world.server().start().ok());
    world.device_link_down(false);
    ASSERT_TRUE(sim_until_licensed(world, 10 * 60 * kSecondMs)) << timeline_text(world);
    ASSERT_TRUE(sim_until_events_delivered(world));
    EXPECT_TRUE(delivered_exactly_once(world));
    // Boot counts: 0 is "not counted" (not stored); any other never repeats.
    uint64_t last = 0;
    for (uint64_t b : boots) {
      if (b == 0) continue;
      EXPECT_GT(b, last) << "boot count repeated";
      last = b;
    }
    // The device keeps its instance through every restart, whichever record
    // failed: a new one would look like a second appliance to the server.
    EXPECT_EQ(device.storage().committed(RecordId::identity), instance) << "the instance changed";
    if (kind == RecordId::boot) {
      EXPECT_EQ(std::count(boots.begin(), boots.end(), 0u), 4) << "the starts while the counter failed are not counted";
    }
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace sublink::test
