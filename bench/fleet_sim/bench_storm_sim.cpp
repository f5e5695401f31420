// bench_storm_sim: a reconnection storm, in virtual time, in one process.
// N devices (the real agent, real TLS, each its own certificate) link to
// the simulated server; the server then stops for an hour, as a real
// process would: connections reset, its TLS sessions forgotten, so every
// device comes back with a full handshake. The devices retry with the
// agent's own backoff and jitter. Reported against the goals:
//   - the peak rate of links taken on, per second, against the rate the
//     server sustains: links per CPU-second of its work in this run (TLS,
//     WebSocket, hello, license signed), metered apart from the devices';
//     goal: peak at most 2x sustainable;
//   - the time from the server's return until every device is linked;
//     goal: within 10 minutes.
// The simulated server answers at once in virtual time: a peak above the
// sustainable rate would queue on a real one, and is what this measures.
//
// Checked, and any miss fails the run: at the end every device is licensed
// and linked, with no grace time left running, and no invariant of
// model/sublink.pml broke.
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

constexpr double kGoalPeakRatio = 2.0;
constexpr Millis kGoalAllBackMs = 10 * 60 * kSecondMs;
constexpr Millis kOutageAtMs = 10 * 60 * kSecondMs;
// How long after the server's return the run waits for the last device.
constexpr Millis kWaitLimitMs = 30 * 60 * kSecondMs;

const char kUsage[] =
    "usage: bench_storm_sim [--devices N] [--outage-s S] [--seed S] [--pki DIR] [--json FILE]\n"
    "\n"
    "Links N devices (default 10000) to the simulated server, stops the server\n"
    "for S seconds (default 3600) and measures how the fleet comes back: the\n"
    "peak rate of links taken on against the server's sustainable rate\n"
    "measured in the same run, and the time until all are back. --pki takes a\n"
    "directory made by tests/pki/make_pki.sh; --json writes the figures for\n"
    "bench/report.py.\n";

struct Options : bench::FleetOptions {
  int64_t outage_s = 3600;
};

bool parse(int argc, char** argv, Options& o) {
  o.devices = 10000;
  for (int i = 1; i < argc; ++i) {
    bool bad = false;
    if (bench::read_fleet_option(argc, argv, i, o, bad)) continue;
    if (bad) return false;
    uint64_t n = 0;
    if (std::string(argv[i]) == "--outage-s" && i + 1 < argc && bench::parse_count(argv[i + 1], 1, 604800, n)) {
      o.outage_s = static_cast<int64_t>(n);
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

// The most entries of `times` (sorted) within any window of `window` ms.
size_t peak_in_window(const std::vector<Millis>& times, Millis window) {
  size_t best = 0;
  size_t first = 0;
  for (size_t last = 0; last < times.size(); ++last) {
    while (times[last] - times[first] >= window) ++first;
    best = std::max(best, last - first + 1);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string machine = bench::machine_json();
  const auto setup_start = std::chrono::steady_clock::now();
  std::string error;
  bench::SimFleet fleet;
  if (!fleet.prepare(options.devices, options.pki, error)) {
    std::fprintf(stderr, "bench_storm_sim: %s\n", error.c_str());
    return 2;
  }
  SimWorldSetup setup;
  setup.credentials = fleet.credentials();
  setup.seed = options.seed;
  setup.server_stop_forgets_tls_sessions = true;
  setup.timeline_entries = 64 * options.devices;
  uint64_t invariants_broken = 0;
  setup.on_invariant_broken = [&](const std::string&) { ++invariants_broken; };
  SimWorld world(setup);
  fleet.populate(world);
  const std::vector<SimDevice*>& devices = fleet.devices();

  // Boots spread over the first minute; the outage when all are linked.
  std::mt19937_64 rng(options.seed);
  const IpAddress server = world.server().address();
  for (SimDevice* device : devices) {
    const Millis boot_at = std::uniform_int_distribution<Millis>(0, 60 * kSecondMs)(rng);
    world.net().at(boot_at, [device] { (void)device->boot(); }, device->address(), server);
  }
  const Millis outage_ms = options.outage_s * kSecondMs;
  const Millis back_at = kOutageAtMs + outage_ms;
  world.net().at(kOutageAtMs, [&world, outage_ms] { world.server().restart(outage_ms); });
  world.net().at(back_at, [&world] { world.server().meter_cpu(true); });
  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();

  const double cpu_start = bench::process_cpu_seconds();
  const auto run_start = std::chrono::steady_clock::now();
  if (!world.server().start().ok()) {
    std::fprintf(stderr, "bench_storm_sim: the simulated server did not start\n");
    return 1;
  }
  world.run_until(kOutageAtMs - 1);
  const size_t linked_before = world.server().linked_sessions();
  world.run_until(back_at);
  const bool all_back = world.run_until([&] { return world.server().linked_sessions() == devices.size(); },
                                        kWaitLimitMs, 5 * kSecondMs);
  // Heartbeats and audits after the storm are not the storm's cost.
  world.server().meter_cpu(false);
  const double server_cpu_s = world.server().metered_cpu_s();
  world.run_for(2 * 60 * kSecondMs);  // the last grants and events settle
  const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  const double run_cpu_s = bench::process_cpu_seconds() - cpu_start;

  // Links taken on after the server's return, from the timeline.
  std::vector<Millis> ups;
  size_t resumed = 0;
  for (const SimTimelineEntry& e : world.timeline().entries()) {
    if (e.at < back_at || e.who == "server" || e.what.rfind("link up", 0) != 0) continue;
    ups.push_back(e.at);
    resumed += e.what.find("(tls resumed)") != std::string::npos;
  }
  std::sort(ups.begin(), ups.end());
  const size_t peak_1s = peak_in_window(ups, kSecondMs);
  const size_t peak_10s = peak_in_window(ups, 10 * kSecondMs);
  const Millis all_back_ms = ups.empty() ? 0 : ups.back() - back_at;
  const double sustainable = server_cpu_s > 0 ? static_cast<double>(ups.size()) / server_cpu_s : 0;
  const double peak_ratio = sustainable > 0 ? static_cast<double>(peak_1s) / sustainable : 0;
  const double peak_10s_ratio = sustainable > 0 ? static_cast<double>(peak_10s) / 10.0 / sustainable : 0;

  size_t misses = 0;
  for (size_t d = 0; d < devices.size(); ++d) {
    const AgentStatus st = devices[d]->status();
    std::string miss;
    if (st.state != LicenseState::licensed) miss += " not licensed;";
    if (!st.link_up) miss += " not linked;";
    if (st.grace_elapsed_s != 0) miss += " grace running;";
    if (!miss.empty() && ++misses <= 10) std::printf("MISS %s:%s\n", fleet.names()[d].c_str(), miss.c_str());
  }
  const bool dropped = world.timeline().dropped() != 0;
  const bool checks_ok = all_back && misses == 0 && invariants_broken == 0 && !dropped &&
                         linked_before == devices.size();
  const bool peak_within = peak_ratio <= kGoalPeakRatio;
  const bool back_within = all_back && all_back_ms <= kGoalAllBackMs;

  std::printf("storm: %zu devices linked (%zu before the outage), server down %llds at %llds, TLS sessions "
              "forgotten\n",
              devices.size(), linked_before, static_cast<long long>(options.outage_s),
              static_cast<long long>(kOutageAtMs / kSecondMs));
  std::printf("set-up: %.1f s (%zu certificates issued, devices built)\n", setup_s, devices.size() - 1);
  std::printf("back: %zu links after the return (%zu resumed TLS); all back %.0f s after the return vs the "
              "%.0f s goal (%s)\n",
              ups.size(), resumed, static_cast<double>(all_back_ms) / 1000.0,
              static_cast<double>(kGoalAllBackMs) / 1000.0, back_within ? "within" : "OVER");
  std::printf("server: %.2f s CPU for the storm's links = %.2f ms per link = %.0f links per CPU-second "
              "(sustainable)\n",
              server_cpu_s, ups.empty() ? 0.0 : 1000 * server_cpu_s / static_cast<double>(ups.size()), sustainable);
  std::printf("peak: %zu links in one second = %.2f x sustainable vs the %.1f x goal (%s); over 10 s: %.1f/s = "
              "%.2f x\n",
              peak_1s, peak_ratio, kGoalPeakRatio, peak_within ? "within" : "OVER",
              static_cast<double>(peak_10s) / 10.0, peak_10s_ratio);
  std::printf("checks: %zu devices missed, %" PRIu64 " invariants broken%s\n", misses, invariants_broken,
              dropped ? ", TIMELINE TRUNCATED" : "");
  std::printf("run: %.1f s wall (%.1f s CPU) for %.0f virtual minutes\n", run_s, run_cpu_s,
              static_cast<double>(world.now()) / 60000.0);
  if (!options.json.empty()) {
    std::FILE* f = std::fopen(options.json.c_str(), "w");
    if (f == nullptr) {
      std::perror(options.json.c_str());
      return 2;
    }
    std::fprintf(f,
                 "{\"benchmark\": \"storm_sim\", \"machine\": %s, \"devices\": %zu, \"outage_s\": %lld, "
                 "\"links_after_return\": %zu, \"resumed\": %zu, \"all_back_s\": %.1f, \"goal_all_back_s\": %.0f, "
                 "\"server_cpu_s\": %.3f, \"sustainable_links_per_s\": %.1f, \"peak_links_1s\": %zu, "
                 "\"peak_links_per_s_10s\": %.1f, \"peak_ratio\": %.3f, \"goal_peak_ratio\": %.1f, "
                 "\"devices_missed\": %zu, \"invariants_broken\": %" PRIu64 ", \"run_wall_s\": %.1f, \"ok\": %s}\n",
                 machine.c_str(), devices.size(), static_cast<long long>(options.outage_s), ups.size(), resumed,
                 static_cast<double>(all_back_ms) / 1000.0, static_cast<double>(kGoalAllBackMs) / 1000.0, server_cpu_s,
                 sustainable, peak_1s, static_cast<double>(peak_10s) / 10.0, peak_ratio, kGoalPeakRatio, misses,
                 invariants_broken, run_s, checks_ok ? "true" : "false");
    std::fclose(f);
  }
  std::printf("%s\n", checks_ok ? "PASS: every device came back, licensed" : "FAIL: see the misses above");
  return checks_ok ? 0 : 1;
}
