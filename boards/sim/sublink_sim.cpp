// sublink-sim: runs one named scenario of the virtual-time simulation (the
// real agent, real TLS, simulated network, flash and clocks) from a seed and
// prints its timeline.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "boards/sim/sim_scenarios.h"

using namespace sublink;

namespace {

const char kUsage[] =
    "usage: sublink-sim --pki DIR [--seed N] [--cut-write N[:OP] | --cut-random K] [--quiet] SCENARIO\n"
    "       sublink-sim --list | --version\n"
    "\n"
    "Runs SCENARIO in virtual time and prints what happened, line by line\n"
    "(dDD HH:MM:SS.mmm since the start). The same seed gives the same lines.\n"
    "\n"
    "  --pki DIR   certificates and keys made by tests/pki/make_pki.sh DIR\n"
    "  --seed N    seed of every random stream (default 1)\n"
    "  --cut-write N[:OP]  cut the power inside the device's Nth storage write,\n"
    "              after OP of its flash operations (default 0); back 1 s later\n"
    "  --cut-random K      cut the power inside about one write in K, at random\n"
    "              (from the seed); back 1 s later each time\n"
    "  --quiet     print only the summary\n"
    "  --list      list the scenarios\n"
    "\n"
    "Exit status: 0 when the scenario ran as scripted, 1 when it did not,\n"
    "2 for bad usage or unreadable credentials.\n";

void list() {
  for (const SimScenario& s : sim_scenarios()) std::printf("%-20s %s\n", s.name, s.about);
}

}  // namespace

int main(int argc, char** argv) {
  std::string pki, name;
  uint64_t seed = 1;
  uint64_t cut_write = 0, cut_operations = 0, cut_one_in = 0;
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("sublink-sim %s\n", SUBLINK_VERSION);
      return 0;
    } else if (a == "--list") {
      list();
      return 0;
    } else if (a == "--quiet") {
      quiet = true;
    } else if ((a == "--pki" || a == "--seed" || a == "--cut-write" || a == "--cut-random") && i + 1 < argc) {
      const char* v = argv[++i];
      char* end = nullptr;
      if (a == "--pki") {
        pki = v;
        continue;
      }
      const uint64_t n = std::strtoull(v, &end, 10);
      if (a == "--cut-write" && *end == ':') cut_operations = std::strtoull(end + 1, &end, 10);
      if (*v == '\0' || *end != '\0' || (a != "--seed" && n == 0)) {
        std::fprintf(stderr, "sublink-sim: %s: '%s' is not a valid value\n", a.c_str(), v);
        return 2;
      }
      if (a == "--seed") seed = n;
      if (a == "--cut-write") cut_write = n;
      if (a == "--cut-random") cut_one_in = n;
    } else if (!a.empty() && a[0] != '-' && name.empty()) {
      name = a;
    } else {
      std::fprintf(stderr, "sublink-sim: unexpected '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  if (pki.empty() || name.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const SimScenario* scenario = find_sim_scenario(name);
  if (scenario == nullptr) {
    std::fprintf(stderr, "sublink-sim: no scenario '%s'; these exist:\n", name.c_str());
    list();
    return 2;
  }
  SimCredentials credentials;
  std::string error;
  if (!load_sim_credentials(pki, credentials, error)) {
    std::fprintf(stderr, "sublink-sim: %s\n", error.c_str());
    return 2;
  }

  SimWorldSetup setup;
  setup.credentials = &credentials;
  setup.seed = seed;
  if (scenario->configure) scenario->configure(setup);
  const auto wall_start = std::chrono::steady_clock::now();
  SimWorld world(setup);
  if (cut_write > 0) world.device().cut_power_in_write(cut_write, cut_operations);
  if (cut_one_in > 0) world.device().cut_power_randomly(cut_one_in, seed);
  world.device().set_power_back_after_cut(kSecondMs);
  if (!quiet) world.timeline().echo_to(stdout);
  const Status started = world.start();
  bool ok = started.ok() && scenario->run(world, nullptr);
  world.timeline().echo_to(nullptr);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  const AgentStatus s = world.device().status();
  std::printf("--\nscenario %s, seed %" PRIu64 ": %s\n", scenario->name, seed, ok ? "ran as scripted" : "FAILED");
  std::printf("virtual time %s in %.3f s of wall time\n", SimTimeline::format_time(world.now()).c_str(), wall_s);
  std::printf("device: state %s, link %s, grace_elapsed_s %" PRId64 ", events_pending %zu, boot %" PRIu64
              ", storage writes %" PRIu64 ", power cuts %" PRIu64 "\n",
              std::string(state_name(s.state)).c_str(), s.link_up ? "up" : "down", s.grace_elapsed_s,
              s.events_pending, s.boot, world.device().storage().writes(), world.device().power_cuts());
  std::printf("server: %zu events stored, %" PRIu64 " welcomes, %zu grants\n",
              world.server().directory().events(world.setup().device_config.system_id.view()).size(),
              world.server().welcomes(), world.server().grants_sent().size());
  // The model's invariants (model/sublink.pml), asserted after every step.
  const uint64_t broken = world.device().invariants_broken();
  std::printf("invariants: %s\n", broken == 0 ? "held at every step" : (std::to_string(broken) + " broken (INVARIANT lines above)").c_str());
  return ok && broken == 0 ? 0 : 1;
}
