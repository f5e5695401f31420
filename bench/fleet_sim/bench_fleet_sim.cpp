// bench_fleet_sim: a fleet of devices through one simulated day, in one
// process, in virtual time: every device the real agent with real TLS
// (mutual authentication, its own certificate and system_id), the simulated
// server with one record per system. Each device loses its own network
// K times a day for 10 s to 4 min (below the grace alarm delay), never
// within 5 minutes of the server's restart at noon (5 minutes), when the
// whole fleet comes back at once. Reported against the 60 s goal: the wall time of the day and the
// virtual time it covers per wall second.
//
// The day is checked device by device, and any miss fails the run:
//   - at the end every device is licensed, linked, without an alarm, with
//     no grace time left running and no event undelivered;
//   - each came back after every one of its outages (at least 1 + K links);
//   - no grace alarm was raised and no invariant of model/sublink.pml broke;
//   - the server holds one linked session per device.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench/fleet_sim/sim_fleet.h"
#include "bench/support/bench_machine.h"
#include "boards/sim/sim_world.h"

using namespace sublink;

namespace {

constexpr double kGoalSeconds = 60.0;
constexpr Millis kFlapMinMs = 10 * kSecondMs;
constexpr Millis kFlapMaxMs = 4 * 60 * kSecondMs;
constexpr Millis kRestartAtMs = 12 * kHourMs;
constexpr Millis kRestartForMs = 5 * 60 * kSecondMs;
// A device's own outage is kept this far from the server's: the agent's
// backoff (retry_max_s, 300 s) could otherwise join the two into one outage
// past the grace alarm delay (600 s), and the alarm would then be right.
constexpr Millis kRestartKeepOutMs = 5 * 60 * kSecondMs;

// Whether an outage [start, start + length) comes within the keep-out of the
// server's restart.
bool near_restart(Millis start, Millis length) {
  return start + length + kRestartKeepOutMs > kRestartAtMs &&
         start < kRestartAtMs + kRestartForMs + kRestartKeepOutMs;
}

const char kUsage[] =
    "usage: bench_fleet_sim [--devices N] [--flaps K] [--seed S] [--pki DIR] [--json FILE]\n"
    "\n"
    "Runs N devices (default 1000) through one simulated day with K link flaps\n"
    "each (default 4) and a server restart at noon, and checks every device's\n"
    "day. --pki takes a directory made by tests/pki/make_pki.sh (its ca.key\n"
    "issues the fleet's certificates); without it a fresh test PKI is made.\n"
    "--json writes the figures for bench/report.py.\n";

struct Options : bench::FleetOptions {
  size_t flaps = 4;
};

bool parse(int argc, char** argv, Options& o) {
  o.devices = 1000;
  for (int i = 1; i < argc; ++i) {
    bool bad = false;
    if (bench::read_fleet_option(argc, argv, i, o, bad)) continue;
    if (bad) return false;
    uint64_t n = 0;
  // At least one flap keeps the per-device check meaningful, at most 20
  // keep flaps apart.
    if (std::string(argv[i]) == "--flaps" && i + 1 < argc && bench::parse_count(argv[i + 1], 1, 20, n)) {
      o.flaps = static_cast<size_t>(n);
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

// What a device's day must have been, read from the timeline.
struct DayCheck {
  size_t links = 0;
  size_t resumed = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string machine = bench::machine_json();
  // The fleet's identities: SYS-0001 is the world's own device; the others
  // get certificates for their own system_id from the same CA.
  const auto setup_start = std::chrono::steady_clock::now();
  std::string error;
  bench::SimFleet fleet;
  if (!fleet.prepare(options.devices, options.pki, error)) {
    std::fprintf(stderr, "bench_fleet_sim: %s\n", error.c_str());
    return 2;
  }

  SimWorldSetup setup;
  setup.credentials = fleet.credentials();
  setup.seed = options.seed;
  setup.timeline_entries = 64 * options.devices * (options.flaps + 4);
  uint64_t invariants_broken = 0;
  setup.on_invariant_broken = [&](const std::string&) { ++invariants_broken; };
  SimWorld world(setup);
  fleet.populate(world);
  const std::vector<SimDevice*>& devices = fleet.devices();
  const std::vector<std::string>& names = fleet.names();

  // The day's plan: boots spread over the first minute; each device's flaps
  // one per equal slot of 01:00..22:00, never overlapping its neighbours.
  std::mt19937_64 rng(options.seed);
  const Millis slot = 21 * kHourMs / static_cast<Millis>(options.flaps);
  size_t flaps_planned = 0;
  for (size_t d = 0; d < devices.size(); ++d) {
    SimDevice* device = devices[d];
    const Millis boot_at = std::uniform_int_distribution<Millis>(0, 60 * kSecondMs)(rng);
    // Each event names the hosts it concerns: only their pollables run after it.
    const IpAddress server = world.server().address();
    world.net().at(boot_at, [device] { (void)device->boot(); }, device->address(), server);
    for (size_t k = 0; k < options.flaps; ++k) {
      const Millis length = std::uniform_int_distribution<Millis>(kFlapMinMs, kFlapMaxMs)(rng);
      const Millis slot_start = kHourMs + static_cast<Millis>(k) * slot;
      std::uniform_int_distribution<Millis> offset(0, slot - kFlapMaxMs - 10 * 60 * kSecondMs);
      Millis start = slot_start + offset(rng);
      // Redrawn while it falls near the restart; a slot too short to hold
      // one outage outside it gets its outage right after.
      for (int tries = 0; near_restart(start, length) && tries < 64; ++tries) start = slot_start + offset(rng);
      if (near_restart(start, length)) start = kRestartAtMs + kRestartForMs + kRestartKeepOutMs;
      const IpAddress address = device->address();
      world.net().at(start, [&world, address] { world.net().set_link_down(address, true); }, address, server);
      world.net().at(start + length, [&world, address] { world.net().set_link_down(address, false); }, address,
                     server);
      ++flaps_planned;
    }
  }
  world.net().at(kRestartAtMs, [&world] { world.server().restart(kRestartForMs); });
  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();

  // The day.
  const double cpu_start = bench::process_cpu_seconds();
  const auto day_start = std::chrono::steady_clock::now();
  if (!world.server().start().ok()) {
    std::fprintf(stderr, "bench_fleet_sim: the simulated server did not start\n");
    return 1;
  }
  world.run_until(kDayMs);
  const double day_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - day_start).count();
  const double day_cpu_s = bench::process_cpu_seconds() - cpu_start;

  // Every device's day.
  std::map<std::string, DayCheck> days;
  for (const SimTimelineEntry& e : world.timeline().entries()) {
    if (e.what.rfind("link up", 0) != 0) continue;
    DayCheck& c = days[e.who];
    ++c.links;
    c.resumed += e.what.find("(tls resumed)") != std::string::npos;
  }
  size_t failures = 0;
  size_t links = 0, resumed = 0, min_links = SIZE_MAX, max_links = 0, alarms = 0;
  for (size_t d = 0; d < devices.size(); ++d) {
    const AgentStatus st = devices[d]->status();
    const DayCheck& c = days[names[d]];
    for (const Event& e : devices[d]->recorded_events()) {
      if (e.kind != EventKind::grace_alarm) continue;
      if (++alarms <= 10) {
        const long long at_s = e.time_utc_ms ? static_cast<long long>(*e.time_utc_ms / kSecondMs) : -1;
        std::printf("ALARM %s: at %lld s (UTC)\n", names[d].c_str(), at_s);
        if (alarms <= 2) {
          for (const SimTimelineEntry& t : world.timeline().entries())
            if (t.who == names[d]) std::printf("  %9.1f s %s\n", static_cast<double>(t.at) / 1000.0, t.what.c_str());
        }
      }
    }
    links += c.links;
    resumed += c.resumed;
    min_links = std::min(min_links, c.links);
    max_links = std::max(max_links, c.links);
    std::string miss;
    if (st.state != LicenseState::licensed) miss += " not licensed;";
    if (!st.link_up) miss += " not linked;";
    if (st.alarm) miss += " alarm on;";
    if (st.grace_elapsed_s != 0) miss += " grace running;";
    if (st.events_pending != 0) miss += " events undelivered;";
    if (c.links < 1 + options.flaps) miss += " " + std::to_string(c.links) + " links for " +
                                             std::to_string(options.flaps) + " outages;";
    if (!miss.empty() && ++failures <= 10) std::printf("MISS %s:%s\n", names[d].c_str(), miss.c_str());
  }
  const size_t linked = world.server().linked_sessions();
  const bool dropped = world.timeline().dropped() != 0;
  const bool ok = failures == 0 && alarms == 0 && invariants_broken == 0 && linked == devices.size() && !dropped;

  std::printf("fleet of %zu devices, %zu flaps each (10 s..4 min), server restart at 12:00 for 5 min, one day\n",
              devices.size(), options.flaps);
  std::printf("set-up: %.1f s (%zu certificates issued, devices built)\n", setup_s, devices.size() - 1);
  std::printf("links: %zu (%zu resumed TLS, %zu full), %zu..%zu per device; %zu outages planned\n", links, resumed,
              links - resumed, min_links, max_links, flaps_planned);
  std::printf("checks: %zu devices missed their day, %zu grace alarms, %" PRIu64
              " invariants broken, %zu of %zu linked at the end%s\n",
              failures, alarms, invariants_broken, linked, devices.size(),
              dropped ? ", TIMELINE TRUNCATED" : "");
  std::printf("the day: %.1f s wall (%.1f s CPU) = %.2f x the %.0f s goal (%s); %.0f virtual seconds per wall second\n",
              day_s, day_cpu_s, day_s / kGoalSeconds, kGoalSeconds, day_s <= kGoalSeconds ? "within" : "OVER",
              kDayMs / 1000.0 / day_s);
  if (!options.json.empty()) {
    std::FILE* f = std::fopen(options.json.c_str(), "w");
    if (f == nullptr) {
      std::perror(options.json.c_str());
      return 2;
    }
    std::fprintf(f,
                 "{\"benchmark\": \"fleet_sim\", \"machine\": %s, \"devices\": %zu, \"flaps_per_device\": %zu, \"setup_s\": %.2f, "
                 "\"day_wall_s\": %.2f, \"day_cpu_s\": %.2f, \"goal_s\": %.0f, \"links\": %zu, \"resumed\": %zu, "
                 "\"min_links\": %zu, \"max_links\": %zu, \"devices_missed\": %zu, \"alarms\": %zu, "
                 "\"invariants_broken\": %" PRIu64 ", \"linked_at_end\": %zu, \"ok\": %s}\n",
                 machine.c_str(), devices.size(), options.flaps, setup_s, day_s, day_cpu_s, kGoalSeconds, links, resumed, min_links,
                 max_links, failures, alarms, invariants_broken, linked, ok ? "true" : "false");
    std::fclose(f);
  }
  std::printf("%s\n", ok ? "PASS: every device's day went as planned" : "FAIL: see the misses above");
  return ok ? 0 : 1;
}
