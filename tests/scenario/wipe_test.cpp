// The device's whole state wiped at every point of a full scenario (the
// `full-life` script): a reference run counts the storage writes; then, for
// each write N, the same run is made again with the power off right after
// write N stored its value, the flash erased (a state_dir deleted, a factory
// reset) and the power back a second later. Whatever the point:
//  - the wiped device starts a new event stream, and its events are not
//    taken for repeats of the old stream's: every event the device stored
//    after the wipe reaches the server, once;
//  - every event the server stored before the wipe stays stored once, and
//    no (stream, seq) is ever reused for another event;
//  - only events still undelivered in the wiped log are gone.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

const SimScenario& full_life() {
  const SimScenario* s = find_sim_scenario("full-life");
  EXPECT_NE(s, nullptr);
  return *s;
}

SimWorldSetup full_life_setup() {
  SimWorldSetup setup = scenario_setup(7);
  full_life().configure(setup);
  return setup;
}

std::set<std::string> streams_at_server(SimWorld& world) {
  std::set<std::string> out;
  for (const DeviceEvent& e : server_events(world)) out.insert(e.stream);
  return out;
}

TEST(Wipe, StateWipedAfterEveryStorageWriteOfAFullScenario) {
  std::vector<SimWrite> reference;
  {
    SimWorld world(full_life_setup());
    ASSERT_TRUE(world.start().ok());
    ASSERT_TRUE(full_life().run(world, nullptr)) << timeline_text(world);
    ASSERT_TRUE(delivered_exactly_once(world));
    reference = world.device().storage().ledger();
  }
  ASSERT_GT(reference.size(), 30u);

  int checked = 0;
  size_t events_after_wipes = 0;
  for (const SimWrite& target : reference) {
    const std::string where =
        "wiped after write #" + std::to_string(target.index) + " (" + record_name(target.record) + ")";
    SCOPED_TRACE(where);
    SimWorld world(full_life_setup());
    SimDevice& device = world.device();
    device.wipe_after_write(target.index, kSecondMs);
    ASSERT_TRUE(world.start().ok());
    (void)full_life().run(world, nullptr);  // a wiped device may miss a scripted step (its license went too)
    ASSERT_EQ(device.wipes(), 1u) << timeline_text(world);
    // Let whatever the wiped device still has reach the server.
    world.run_until([&] { return device.on() && device.status().link_up && device.status().events_pending == 0; },
                         2 * 3600 * kSecondMs);
    EXPECT_TRUE(device.on() && device.status().events_pending == 0) << timeline_text(world);
    EXPECT_TRUE(delivered_exactly_once(world)) << timeline_text(world);
    // Events recorded after the wipe are in a stream the server did not know.
    const std::string stream(device.status().event_stream);
    size_t in_new_stream = 0;
    for (const DeviceEvent& e : server_events(world)) in_new_stream += e.stream == stream;
    EXPECT_GT(in_new_stream, 0u) << "the wiped device's events reached the server: " << timeline_text(world);
    events_after_wipes += in_new_stream;
    EXPECT_GE(streams_at_server(world).size(), 1u);
    if (::testing::Test::HasFailure()) break;  // one failing point tells the story
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(reference.size())) << "a wipe after every write";
  RecordProperty("wipe_points", checked);
  std::printf("[ sim      ] state wiped after each of %d storage writes: %zu events of new streams stored, none lost\n",
              checked, events_after_wipes);
}

}  // namespace
}  // namespace sublink::test
