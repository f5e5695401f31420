#include "scenario/scenario_rig.h"

#include <map>
#include <set>
#include <utility>

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
  // Every scenario run asserts the model's invariants at every step.
  setup.on_invariant_broken = [](const std::string& broken) { ADD_FAILURE() << "invariant broken: " << broken; };
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

namespace {
using EventKey = std::pair<std::string, int64_t>;  // (stream, seq): what the server keys events by

std::string stream_key(StreamId stream) {
  if (stream == kLegacyStream) return std::string(kLegacyEventStream);
  StreamText t = stream_text(stream);
  return {t.data(), t.size()};
}
}  // namespace

::testing::AssertionResult delivered_exactly_once(SimWorld& world) {
  const std::vector<DeviceEvent>& stored = server_events(world);
  std::map<EventKey, const DeviceEvent*> by_key;
  std::map<std::string, int64_t> previous;
  for (const DeviceEvent& e : stored) {
    int64_t& last = previous[e.stream];
    if (e.seq <= last) {
      return ::testing::AssertionFailure() << "stored seq " << e.seq << " after " << last << " in stream " << e.stream;
    }
    last = e.seq;
    by_key[{e.stream, e.seq}] = &e;
  }
  for (const SimEventDelivery& d : world.server().event_deliveries()) {
    auto it = by_key.find({d.stream, d.seq});
    if (it == by_key.end()) {
      return ::testing::AssertionFailure() << "event #" << d.seq << " (" << d.kind << ") of stream " << d.stream
                                           << " reached the server but was never stored";
    }
    if (it->second->json != d.json) {
      return ::testing::AssertionFailure() << "seq " << d.seq << " of stream " << d.stream << " was sent as " << d.json
                                           << " but stored as " << it->second->json << ": a seq was reused";
    }
  }
  // Events the device held when its state was wiped went with it, unless
  // the server already had them; every other event it stored must arrive.
  std::set<EventKey> wiped;
  for (const Event& e : world.device().wiped_events()) wiped.insert({stream_key(e.stream), static_cast<int64_t>(e.seq)});
  size_t lost_in_wipes = 0;
  for (const Event& e : world.device().recorded_events()) {
    const EventKey key{stream_key(e.stream), static_cast<int64_t>(e.seq)};
    auto it = by_key.find(key);
    if (it == by_key.end() && wiped.count(key)) {
      ++lost_in_wipes;
      continue;
    }
    if (it == by_key.end() || it->second->kind != kind_name(e.kind)) {
      return ::testing::AssertionFailure() << "event #" << e.seq << " " << kind_name(e.kind) << " of stream "
                                           << key.first << " was stored on the device but never reached the application";
    }
  }
  return ::testing::AssertionSuccess() << stored.size() << " events, " << lost_in_wipes << " lost in wipes";
}

std::string timeline_text(SimWorld& world) {
  std::string out;
  for (const std::string& line : world.timeline().lines()) out += line + "\n";
  return out;
}

}  // namespace sublink::test
