// A power cut inside every flash operation of the boot counter's own write,
// boot after boot, over more boots than one flash slot holds (so the cuts
// also hit the erase of the other slot): the count the agent uses (and
// sends in hello) never repeats and never goes back. The server is out of
// reach (the link plays no part in the counter), so each boot is cheap.
#include <gtest/gtest.h>

#include "firmware/agent/boot_counter.h"
#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

TEST(BootCounterCut, NeverRepeatsWhateverOperationTheCutHits) {
  SimWorldSetup setup = scenario_setup(11);
  SimWorld world(setup);
  SimDevice& device = world.device();
  device.set_power_back_after_cut(kSecondMs);
  world.device_link_down(true);
  ASSERT_TRUE(world.start().ok());
  world.run_for(5 * kSecondMs);
  std::vector<uint64_t> used;
  used.push_back(device.status().boot);
  int cuts = 0;
  for (int round = 0; round < 300 && !::testing::Test::HasFailure(); ++round) {
    // Which write is the boot counter's is known only once it happens: the
    // first write of a boot. Its operations: learn them from an uncut boot.
    const uint64_t first_write = device.storage().writes() + 1;
    device.power_off(kSecondMs);
    world.run_for(3 * kSecondMs);
    ASSERT_TRUE(device.on());
    const SimWrite w = device.storage().ledger()[first_write - 1];
    ASSERT_EQ(w.record, RecordId::boot);
    used.push_back(device.status().boot);
    // Now the same write again, cut at every one of its operations in turn.
    for (uint64_t op = 0; op < w.flash_operations; ++op) {
      const uint64_t next = device.storage().writes() + 1;
      device.cut_power_in_write(next, op);
      device.power_off(kSecondMs);
      world.run_for(5 * kSecondMs);
      ASSERT_TRUE(device.on());
      ++cuts;
      used.push_back(device.status().boot);
    }
  }
  for (size_t i = 1; i < used.size(); ++i) {
    EXPECT_GT(used[i], used[i - 1]) << "boot " << i << " used count " << used[i] << " after " << used[i - 1];
    if (::testing::Test::HasFailure()) break;
  }
  std::printf("[ sim      ] %d cuts inside the boot counter's write, %zu boots\n", cuts, used.size());
}

}  // namespace
}  // namespace sublink::test
