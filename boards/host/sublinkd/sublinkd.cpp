// sublinkd: runs the sublink agent on Linux, in the foreground (systemd
// Type=exec or a terminal). See --help.
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "boards/host/sublinkd/daemon.h"

using namespace sublink;

namespace {

const char kUsage[] =
    "NAME\n"
    "    sublinkd - the sublink agent: keeps this appliance's subscription link\n"
    "\n"
    "SYNOPSIS\n"
    "    sublinkd --config FILE [--log-level LEVEL | --verbose]\n"
    "    sublinkd --check --config FILE\n"
    "    sublinkd --help | --version\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs the sublink agent in the foreground (systemd Type=notify, a terminal).\n"
    "    It keeps the subscription link to the server named in FILE (TLS 1.2 with\n"
    "    the device certificate, then a WebSocket), holds the license, counts grace\n"
    "    time while the link is down, raises alarms as grace runs out, and answers\n"
    "    sublinkctl on a UNIX socket in state_dir.\n"
    "\n"
    "    Logs go to stderr, one line each, with sd-daemon level prefixes (<3> error\n"
    "    ... <7> debug) that journald understands. Under systemd (NOTIFY_SOCKET) it\n"
    "    says READY=1 once it serves, WATCHDOG=1 at half of WatchdogSec=, and\n"
    "    STOPPING=1 when it stops.\n"
    "\n"
    "    SIGTERM or SIGINT close the link (code 1001, going away), store the grace\n"
    "    account and exit 0. SIGHUP reloads cert_file, key_file and ca_file,\n"
    "    checked as at start: a bad set is refused and the current one kept; the\n"
    "    next connection uses the new set.\n"
    "\n"
    "OPTIONS\n"
    "    -c, --config FILE   the JSON configuration (PROTOCOL.md section 7)\n"
    "        --check         check FILE, its key files and certificates as a start\n"
    "                        would, with no network and nothing changed; print\n"
    "                        OK and exit 0, or the problem and exit 78\n"
    "        --log-level LEVEL\n"
    "                        the least severe level logged: critical, error,\n"
    "                        warning, notice, info (default) or debug; wins over\n"
    "                        the configuration's log_level\n"
    "    -v, --verbose       --log-level debug: also every received message\n"
    "    -h, --help          print this text and exit\n"
    "        --version       print the version and exit\n"
    "\n"
    "FILES\n"
    "    /etc/sublink/sublink.json   the configuration the packaged service uses\n"
    "    STATE_DIR/sublinkd.sock     the control socket for sublinkctl (mode 0600)\n"
    "    STATE_DIR                   license, grace account, events (mode 0700;\n"
    "                                /var/lib/sublink in the packaged service)\n"
    "\n"
    "EXIT STATUS\n"
    "    0   stopped by SIGTERM or SIGINT; --check: the configuration is valid\n"
    "    1   could not keep running (another sublinkd holds state_dir, ...)\n"
    "    2   bad usage\n"
    "    78  the configuration or a file it names stops the start (the log line\n"
    "        names the problem); systemd does not restart on 78\n"
    "\n"
    "EXAMPLES\n"
    "    Check a configuration before a restart (nothing is changed):\n"
    "        sublinkd --check --config /etc/sublink/sublink.json\n"
    "    Run in a terminal, with every message logged:\n"
    "        sublinkd --config /etc/sublink/sublink.json --verbose\n"
    "    Keep warnings and worse only:\n"
    "        sublinkd --config /etc/sublink/sublink.json --log-level warning\n"
    "    Run the packaged service and read its log:\n"
    "        systemctl enable --now sublinkd\n"
    "        journalctl -u sublinkd -f\n";

}  // namespace

int main(int argc, char** argv) {
  std::string config;
  bool verbose = false;
  bool check = false;
  std::optional<LogLevel> level;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--version") {
      printf("sublinkd %s\n", SUBLINK_VERSION);
      return 0;
    }
    if (a == "--verbose" || a == "-v") {
      verbose = true;
    } else if (a == "--check") {
      check = true;
    } else if (a == "--log-level" && i + 1 < argc) {
      const std::string_view name = argv[++i];
      for (const LogLevelName& l : kLogLevelNames) {
        if (l.name == name) level = static_cast<LogLevel>(l.severity);
      }
      if (!level) {
        fprintf(stderr, "sublinkd: --log-level '%s' is not a level (critical, error, warning, notice, info, debug)\n",
                argv[i]);
        return 2;
      }
    } else if ((a == "--config" || a == "-c") && i + 1 < argc) {
      config = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config = a.substr(9);
    } else {
      fprintf(stderr, "sublinkd: %s '%s'; try 'sublinkd --help'\n",
              a == "--config" || a == "-c"  ? "missing FILE after"
              : a == "--log-level"          ? "missing LEVEL after"
                                            : "unknown option",
              a.c_str());
      return 2;
    }
  }
  if (config.empty()) {
    fprintf(stderr, "sublinkd: --config FILE is required; try 'sublinkd --help'\n");
    return 2;
  }
  if (verbose) level = LogLevel::debug;
  StderrLog log(level.value_or(LogLevel::info));
  Daemon daemon(config, log, level.has_value());
  if (check) return daemon.check();
  int rc = daemon.start();
  if (rc != 0) return rc;
  return daemon.run();
}
