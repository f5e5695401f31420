// bench_grace_sim: how fast the virtual-time simulation runs the full
// 30-day grace scenario (licensed, server gone, 30 days of grace with daily
// alarms, expired), with the real agent, real TLS and the simulated flash.
// Reported per run and as ratios: wall time against the 1 s target, and
// virtual time against wall time. Speed never fails it; a scenario that
// does not end as scripted (expired, 30 alarms) does.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "boards/sim/sim_scenarios.h"
#include "sim/sim_pki.h"

using namespace sublink;

namespace {

constexpr double kTargetSeconds = 1.0;

const char kUsage[] =
    "usage: bench_grace_sim [--runs N] [--pki DIR]\n"
    "\n"
    "Runs the 30-day grace scenario N times (default 10, seeds 1..N) and prints\n"
    "the wall time of each against the 1 s target. --pki takes certificates\n"
    "made by tests/pki/make_pki.sh; without it a fresh test PKI is made.\n";

struct Run {
  double wall_s = 0;
  Millis virtual_ms = 0;
  bool ok = false;
  size_t alarms = 0;
  uint64_t rounds = 0;  // failed connection rounds the device went through
};

Run run_once(const SimCredentials& credentials, uint64_t seed) {
  Run r;
  const auto start = std::chrono::steady_clock::now();
  SimWorldSetup setup;
  setup.credentials = &credentials;
  setup.seed = seed;
  SimWorld world(setup);
  bool ok = world.start().ok() && sim_grace_to_expiry(world, nullptr);
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.virtual_ms = world.now();
  r.rounds = world.device().failed_rounds();
  for (const Event& e : world.device().stored_events()) r.alarms += e.kind == EventKind::grace_alarm;
  r.ok = ok && r.alarms == 30 && world.device().status().state == LicenseState::expired;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10;
  std::string pki;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (a == "--pki" && i + 1 < argc) {
      pki = argv[++i];
    } else {
      std::fputs(kUsage, a == "--help" ? stdout : stderr);
      return a == "--help" ? 0 : 2;
    }
  }
  if (runs < 1) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  SimCredentials loaded;
  const SimCredentials* credentials = nullptr;
  std::string error;
  if (!pki.empty()) {
    if (load_sim_credentials(pki, loaded, error)) credentials = &loaded;
  } else {
    credentials = test::sim_credentials(&error);
  }
  if (credentials == nullptr) {
    std::fprintf(stderr, "bench_grace_sim: %s\n", error.c_str());
    return 2;
  }

  std::printf("30-day grace scenario (licensed, server gone, 30 daily alarms, expired), target %.1f s each\n",
              kTargetSeconds);
  std::printf("%4s %10s %14s %18s %14s %8s\n", "run", "wall s", "wall / target", "virtual", "virtual / wall",
              "rounds");
  std::vector<double> walls;
  bool all_ok = true;
  for (int i = 1; i <= runs; ++i) {
    const Run r = run_once(*credentials, static_cast<uint64_t>(i));
    walls.push_back(r.wall_s);
    all_ok = all_ok && r.ok;
    std::printf("%4d %10.3f %14.3f %18s %14.0f %8" PRIu64 "%s\n", i, r.wall_s, r.wall_s / kTargetSeconds,
                SimTimeline::format_time(r.virtual_ms).c_str(), r.virtual_ms / 1000.0 / r.wall_s, r.rounds,
                r.ok ? "" : "  SCENARIO FAILED");
  }
  std::sort(walls.begin(), walls.end());
  const double median = walls[walls.size() / 2];
  std::printf("median %.3f s = %.3f x the %.1f s target (%s); fastest %.3f s, slowest %.3f s\n", median,
              median / kTargetSeconds, kTargetSeconds, median <= kTargetSeconds ? "within" : "OVER", walls.front(),
              walls.back());
  return all_ok ? 0 : 1;
}
