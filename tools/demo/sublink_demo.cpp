// sublink-demo: the whole mission of the subscription link, told and
// checked step by step with the real agent and the real reference server on
// loopback. See --help.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "tools/demo/demo_rig.h"
#include "tools/demo/mission.h"
#include "tools/demo/narrator.h"

#ifndef SUBLINK_SOURCE_DIR
#error "SUBLINK_SOURCE_DIR must be defined by the build"
#endif

using namespace sublink::demo;

namespace {

const char kHelp[] =
    "NAME\n"
    "    sublink-demo - the subscription link's whole story, told and checked\n"
    "\n"
    "SYNOPSIS\n"
    "    sublink-demo [--bin DIR] [--work DIR] [--make-pki FILE]\n"
    "\n"
    "DESCRIPTION\n"
    "    Makes a demo PKI and a server database, starts sublink-server on two free\n"
    "    loopback ports (standing in for 443 and 8443) and sublinkd with short\n"
    "    timings (heartbeat 2 s, audit 5 s, grace 60 s with the alarm after 5 s\n"
    "    and every 10 s), then tells the timeline one line per step with the\n"
    "    time since the start: name resolved, connected on the first port,\n"
    "    license granted, heartbeats, audit acknowledged; the first port stops\n"
    "    and the link fails over to the second; the server goes away, grace\n"
    "    starts and its alarm rises from warning to critical with the features\n"
    "    still on, then grace expires and the features go off; the server comes\n"
    "    back, the appliance is licensed again, the alarm clears and the events\n"
    "    buffered meanwhile reach the server's database, each seq once.\n"
    "\n"
    "    Every step is checked against what the agent shows (its log, sublinkctl\n"
    "    watch and status --json) and what the server shows (its log, sublink-\n"
    "    server admin devices --json, its database), each with a deadline, and\n"
    "    printed as PASS or FAIL. The demo stops at the first step that does not\n"
    "    happen, stops every process it started (also on Ctrl-C) and takes about\n"
    "    70 seconds.\n"
    "\n"
    "OPTIONS\n"
    "    --bin DIR        where sublinkd, sublinkctl and sublink-server are\n"
    "                     (default: the directory of sublink-demo)\n"
    "    --work DIR       the demo's files; an earlier run's state, database and\n"
    "                     logs there are replaced (default: DIR/../demo of --bin)\n"
    "    --make-pki FILE  the script that makes the test PKI\n"
    "                     (default: tests/pki/make_pki.sh of the source tree)\n"
    "    -h, --help       this text\n"
    "        --version    print the version and exit\n"
    "\n"
    "FILES\n"
    "    WORK/pki/             demo CA, server and device certificates, license key\n"
    "    WORK/fleet.db         the server's SQLite database\n"
    "    WORK/sublinkd.json    the agent's configuration; state in WORK/state/\n"
    "    WORK/sublinkd.log     the agent's log; WORK/watch.log its watch lines\n"
    "    WORK/server-1.log     the server's log (server-2.log after it returns)\n"
    "\n"
    "EXIT STATUS\n"
    "    0   every step happened\n"
    "    1   a step did not happen, the setup failed, or the demo was interrupted\n"
    "    2   bad usage\n"
    "\n"
    "EXAMPLES\n"
    "    toolchain/demo.sh                      installs, builds, then runs this\n"
    "    build/host/bin/sublink-demo --work /tmp/demo\n";

volatile sig_atomic_t g_interrupted = 0;

void on_signal(int) { g_interrupted = 1; }

int usage_error(const std::string& problem) {
  fprintf(stderr, "sublink-demo: %s\ntry 'sublink-demo --help'\n", problem.c_str());
  return 2;
}

std::string own_directory() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

void tell_setup(const DemoRig& rig) {
  const DemoSettings& s = rig.settings();
  fprintf(stdout,
          "sublink demo: an appliance (sublinkd, system %s of customer %s) keeps its\n"
          "subscription link to the reference server (sublink-server), both on this\n"
          "machine. Ports %d and %d stand in for 443 and 8443. The timings are short\n"
          "so the story fits in about 70 s: heartbeat %d s, audit %d s, grace %d s (30 days\n"
          "in the field) with the alarm after %d s and every %d s (10 min and daily in\n"
          "the field). Files: %s\n\n",
          s.system_id.c_str(), s.customer_id.c_str(), rig.first_port(), rig.second_port(), s.heartbeat_s, s.audit_s,
          s.grace_period_s, s.grace_alarm_delay_s, s.grace_alarm_interval_s, s.work_dir.c_str());
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  DemoSettings settings;
  settings.bin_dir = own_directory();
  settings.make_pki = SUBLINK_SOURCE_DIR "/tests/pki/make_pki.sh";
  std::string work;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      fputs(kHelp, stdout);
      return 0;
    }
    if (a == "--version") {
      printf("sublink-demo %s\n", SUBLINK_VERSION);
      return 0;
    }
    if (a != "--bin" && a != "--work" && a != "--make-pki") return usage_error("unknown argument '" + a + "'");
    if (i + 1 >= argc) return usage_error(a + " needs a value");
    const std::string value = argv[++i];
    if (a == "--bin") settings.bin_dir = value;
    if (a == "--work") work = value;
    if (a == "--make-pki") settings.make_pki = value;
  }
  settings.bin_dir = absolute(settings.bin_dir);
  settings.make_pki = absolute(settings.make_pki);
  settings.work_dir = absolute(work.empty() ? settings.bin_dir + "/../demo" : work);

  // No SA_RESTART: a signal cuts the demo's waits short, and the step in
  // progress fails at once; the rig then stops its processes by PID.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  DemoRig rig(settings);
  Narrator narrator(stdout, Mission::step_titles());
  std::string error;
  if (!rig.prepare(error)) {
    fprintf(stderr, "sublink-demo: setup failed: %s\n", error.c_str());
    return 1;
  }
  tell_setup(rig);
  const std::string entitled = feature_text(settings.entitled);
  narrator.say("demo PKI made; the server's database entitles " + settings.system_id + " to " + entitled);
  if (!rig.start_server(error)) {
    fprintf(stderr, "sublink-demo: setup failed: %s\n", error.c_str());
    return 1;
  }
  narrator.say("sublink-server serves ports " + std::to_string(rig.first_port()) + " and " +
               std::to_string(rig.second_port()) + " (pid " + std::to_string(rig.server_pid()) + ")");
  if (!rig.start_agent(error)) {
    fprintf(stderr, "sublink-demo: setup failed: %s\n", error.c_str());
    return 1;
  }
  narrator.say("sublinkd started (pid " + std::to_string(rig.agent_pid()) + "), configured to ask for " + entitled);
  Mission mission(rig, narrator, g_interrupted);
  mission.run();
  return narrator.summarize() ? 0 : 1;
}
