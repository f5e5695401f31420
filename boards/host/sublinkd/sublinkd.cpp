// sublinkd: runs the sublink agent on Linux, in the foreground (systemd
// Type=simple or a terminal). See --help.
#include <cstdio>
#include <cstring>
#include <string>

#include "boards/host/sublinkd/daemon.h"

using namespace sublink;

namespace {

const char kUsage[] =
    "usage: sublinkd --config FILE [--verbose]\n"
    "\n"
    "Runs the sublink agent in the foreground: keeps the subscription link to the\n"
    "server named in FILE (TLS 1.2 with the device certificate, WebSocket), holds\n"
    "the license, counts grace time while the link is down, and answers\n"
    "sublinkctl on a UNIX socket in state_dir.\n"
    "\n"
    "  -c, --config FILE   the JSON configuration (PROTOCOL.md section 7)\n"
    "  -v, --verbose       also log every received message (debug level)\n"
    "  -h, --help          this text\n"
    "      --version       print the version\n"
    "\n"
    "Logs go to stderr, one line each, with sd-daemon level prefixes (<3> error ...\n"
    "<6> info) that journald understands.\n"
    "\n"
    "Signals: SIGTERM or SIGINT close the link (code 1001, going away), store the\n"
    "grace account and exit 0. SIGHUP reloads cert_file, key_file and ca_file\n"
    "(checked as at start; a bad set is refused and the current one kept); the\n"
    "next connection uses them.\n"
    "\n"
    "Exit status: 0 after SIGTERM/SIGINT, 78 when the configuration or a file it\n"
    "names stops the start (the log line names the problem), 1 for other\n"
    "failures, 2 for bad usage.\n";

}  // namespace

int main(int argc, char** argv) {
  std::string config;
  bool verbose = false;
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
    } else if ((a == "--config" || a == "-c") && i + 1 < argc) {
      config = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config = a.substr(9);
    } else {
      fprintf(stderr, "sublinkd: %s '%s' (see --help)\n",
              a == "--config" || a == "-c" ? "missing FILE after" : "unknown option", a.c_str());
      return 2;
    }
  }
  if (config.empty()) {
    fprintf(stderr, "sublinkd: --config FILE is required (see --help)\n");
    return 2;
  }
  StderrLog log(verbose ? LogLevel::debug : LogLevel::info);
  Daemon daemon(config, log);
  int rc = daemon.start();
  if (rc != 0) return rc;
  return daemon.run();
}
