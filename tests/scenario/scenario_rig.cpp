#include "scenario/scenario_rig.h"

#include <map>

#include "sim/sim_pki.h"

namespace sublink::test {

SimWorldSetup scenario_setup(uint64_t seed) {
  SimWorldSetup setup;
  std::string error;
  setup.credentials = sim_credentials(&error);
  EXPECT_NE(setup.credentials, nullptr) << error;
  setup.seed = seed;
  // One start time per test program, so reruns of a scenario compare.
  static const Millis start = sim_default_start_utc();
  setup.start_utc = start;
  return setup;
}

std::vector<Event> stored_of(SimWorld& world, EventKind kind) {
  std::vector<Event> out;
  for (const Event& e : world.device().stored_events()) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

const std::vector<DeviceEvent>& server_events(SimWorld& world) {
  return world.server().directory().events(world.setup().device_config.system_id.view());
}

std::vector<std::string> server_kinds(SimWorld& world) {
  std::vector<std::string> kinds;
  for (const DeviceEvent& e : server_events(world)) kinds.push_back(e.kind);
  return kinds;
}

size_t server_count(SimWorld& world, std::string_view kind) {
  size_t n = 0;
  for (const DeviceEvent& e : server_events(world)) n += e.kind == kind;
  return n;
}

::testing::AssertionResult delivered_exactly_once(SimWorld& world) {
  const std::vector<DeviceEvent>& stored = server_events(world);
  std::map<int64_t, const DeviceEvent*> by_seq;
  int64_t previous = 0;
  for (const DeviceEvent& e : stored) {
    if (e.seq <= previous) {
      return ::testing::AssertionFailure() << "stored seq " << e.seq << " after " << previous;
    }
    previous = e.seq;
    by_seq[e.seq] = &e;
  }
  for (const SimEventDelivery& d : world.server().event_deliveries()) {
    auto it = by_seq.find(d.seq);
    if (it == by_seq.end()) {
      return ::testing::AssertionFailure() << "event #" << d.seq << " (" << d.kind << ") reached the server but "
                                           << "was never stored";
    }
    if (it->second->json != d.json) {
      return ::testing::AssertionFailure() << "seq " << d.seq << " was sent as " << d.json << " but stored as "
                                           << it->second->json << ": a seq was reused";
    }
  }
  for (const Event& e : world.device().recorded_events()) {
    auto it = by_seq.find(static_cast<int64_t>(e.seq));
    if (it == by_seq.end() || it->second->kind != kind_name(e.kind)) {
      return ::testing::AssertionFailure() << "event #" << e.seq << " " << kind_name(e.kind)
                                           << " was stored on the device but never reached the application";
    }
  }
  return ::testing::AssertionSuccess() << stored.size() << " events";
}

std::string timeline_text(SimWorld& world) {
  std::string out;
  for (const std::string& line : world.timeline().lines()) out += line + "\n";
  return out;
}

}  // namespace sublink::test
