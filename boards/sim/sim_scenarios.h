// Named scenarios of the simulation: scripts of what happens to the device,
// the server and the network, in virtual time. The sublink-sim tool runs
// them by name and prints the timeline, the benchmark times the grace one,
// and the scenario tests run the same scripts and assert on the outcome.
// A script only acts; whoever runs it decides what to check (the per-day
// hook lets a test look at the device at each day of a long run).
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "boards/sim/sim_world.h"

namespace sublink {

/// Called at whole days of a long stretch of a scenario (day counted from
/// the start of that stretch, 1 = one day in).
using SimDayHook = std::function<void(SimWorld& world, int day)>;

struct SimScenario {
  const char* name;
  const char* about;
  /// Adjusts the world's setup before it is built (may be nullptr).
  void (*configure)(SimWorldSetup& setup);
  /// Runs the script on a started world. False when a step that the script
  /// depends on did not happen (no link, no license): the run is not valid.
  bool (*run)(SimWorld& world, const SimDayHook& each_day);
};

/// Every named scenario, in a stable order.
const std::vector<SimScenario>& sim_scenarios();
/// The scenario called `name`, nullptr when there is none.
const SimScenario* find_sim_scenario(std::string_view name);

// ---- Building blocks (scenarios and tests share them) ---------------------------

/// Runs until the device holds a license with the link up (at most `limit`).
bool sim_until_licensed(SimWorld& world, Millis limit = 60 * kSecondMs);
/// Runs until the device has no events waiting for the server (at most `limit`).
bool sim_until_events_delivered(SimWorld& world, Millis limit = 60 * kSecondMs);
/// Runs `days` whole days, calling `each_day` after each.
void sim_run_days(SimWorld& world, int days, const SimDayHook& each_day);

/// The reference grace run: licensed, then the server goes away for good
/// and the device runs through 30 days of grace into `expired`, day by day.
bool sim_grace_to_expiry(SimWorld& world, const SimDayHook& each_day);

}  // namespace sublink
