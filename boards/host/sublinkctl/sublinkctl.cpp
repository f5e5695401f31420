// sublinkctl: asks the running sublinkd (on this machine, over its control
// socket in state_dir) for its state, and diagnoses the link (doctor,
// firewall-rules: local_commands.h). See --help.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <cJSON.h>

#include "firmware/json/json_document.h"
#include "linux_util/control/control_client.h"
#include "linux_util/control/control_protocol.h"
#include "boards/host/sublinkctl/local_commands.h"
#include "boards/host/sublinkctl/status_text.h"
#include "firmware/config/config_parser.h"
#include "firmware/license/license.h"
#include "boards/host/config/config_file.h"

using namespace sublink;

namespace {

const char kUsage[] =
    "NAME\n"
    "       sublinkctl - ask the sublink agent, diagnose its link, list its\n"
    "       firewall rules\n"
    "\n"
    "SYNOPSIS\n"
    "       sublinkctl [-c FILE] status [--json]\n"
    "       sublinkctl [-c FILE] feature NAME\n"
    "       sublinkctl [-c FILE] usage NAME COUNT\n"
    "       sublinkctl [-c FILE] watch\n"
    "       sublinkctl [-c FILE] doctor [--json] [--resolv-conf PATH]\n"
    "       sublinkctl [-c FILE] firewall-rules [--json] [--resolv-conf PATH]\n"
    "\n"
    "DESCRIPTION\n"
    "       status, feature, usage and watch talk to the sublinkd running with\n"
    "       configuration FILE, through the UNIX socket in its state_dir; nothing\n"
    "       goes over the network.\n"
    "\n"
    "       doctor and firewall-rules need no running agent: they read FILE and\n"
    "       look at the network as the agent would.\n"
    "\n"
    "COMMANDS\n"
    "       status [--json]\n"
    "              Licensing state, link, grace time, alarm, license,\n"
    "              undelivered events, why the link is down or was last\n"
    "              refused (last_failure), when the next attempt starts, the\n"
    "              clock, storage errors with their file and tunnels; --json\n"
    "              prints the object of PROTOCOL.md section 7.\n"
    "\n"
    "       feature NAME\n"
    "              Whether subscription feature NAME is on, and its quantity.\n"
    "\n"
    "       usage NAME COUNT\n"
    "              Tells the agent COUNT of NAME are in use now (for audits).\n"
    "              COUNT is a whole number from 0 to 4294967295.\n"
    "\n"
    "       watch  Prints the status (JSON, one line) now and at every state\n"
    "              change, until interrupted.\n"
    "\n"
    "       doctor [--json]\n"
    "              Checks, in this order, and prints one line per check,\n"
    "              \"PASS|WARN|FAIL  what \u2014 fix\":\n"
    "              1. the configuration and the files it names (CA, device\n"
    "                 certificate and key, their match and expiry, CN equal to\n"
    "                 system_id, license key, state_dir);\n"
    "              2. the clock: set, synchronised, and within 60 s of the `ntp`\n"
    "                 servers (asked over SNTP, UDP 123);\n"
    "              3. DNS: `server` (or the proxy) resolves;\n"
    "              then for each port in `ports`, with the agent's own code:\n"
    "              4. TCP to the server, or through `proxy` with CONNECT;\n"
    "              5. the TLS 1.2 handshake with the device certificate, and why\n"
    "                 it fails (a certificate from another CA on one port while\n"
    "                 another port verifies is named as TLS inspection);\n"
    "              6. the WebSocket upgrade (sublink.v1) and hello/welcome;\n"
    "              7. round trip (heartbeats) and throughput (WebSocket pings)\n"
    "                 against what appliances need: 200 ms and 128 kbit/s.\n"
    "              FAIL lines name the fix, such as the outbound rule to open.\n"
    "              The doctor's hello is a short extra connection of this\n"
    "              system, recorded by the server like any other.\n"
    "\n"
    "       firewall-rules [--json]\n"
    "              The outbound rules this configuration needs, as a table:\n"
    "              DNS to the resolvers of /etc/resolv.conf, NTP (UDP) to the\n"
    "              `ntp` servers, and TCP to each server port, or only to the\n"
    "              proxy when `proxy` is set (which must then allow CONNECT to\n"
    "              the server's ports). No inbound rule is needed.\n"
    "\n"
    "OPTIONS\n"
    "       -c, --config FILE\n"
    "              The agent's configuration (default /etc/sublink/sublink.json).\n"
    "\n"
    "       --json Prints one JSON object instead of text (status, feature,\n"
    "              doctor, firewall-rules).\n"
    "\n"
    "       --resolv-conf PATH\n"
    "              Where the DNS servers are listed (default /etc/resolv.conf;\n"
    "              behind a local stub resolver, its upstream servers are read\n"
    "              from /run/systemd/resolve/resolv.conf).\n"
    "\n"
    "       -h, --help\n"
    "              This text.\n"
    "\n"
    "       --version\n"
    "              Prints the version and exits.\n"
    "\n"
    "FILES\n"
    "       /etc/sublink/sublink.json\n"
    "              The default configuration.\n"
    "\n"
    "       STATE_DIR/sublinkd.sock\n"
    "              The running agent's control socket.\n"
    "\n"
    "EXIT STATUS\n"
    "       0      Success; feature: the feature is on; doctor: the link can work\n"
    "              (no configuration FAIL, and one port passes TCP, TLS, the\n"
    "              upgrade and hello).\n"
    "       1      A negative answer: feature off, usage refused; doctor: the link\n"
    "              cannot work.\n"
    "       2      Bad usage, or (except for doctor) a bad FILE.\n"
    "       3      The agent cannot be reached (status, feature, usage, watch).\n"
    "\n"
    "EXAMPLES\n"
    "       sublinkctl status\n"
    "       sublinkctl -c /etc/sublink/sublink.json doctor\n"
    "       sublinkctl firewall-rules --json\n"
    "       sublinkctl usage trunks 12\n";

constexpr int kExitNegative = 1;
constexpr int kExitUnreachable = 3;

// Which of a command's arguments is wrong, for a command line that does not
// have the shape of any command ("feature" alone, "usage trunks").
std::string command_shape_problem(const std::vector<std::string>& args) {
  const std::string& command = args[0];
  const size_t given = args.size() - 1;
  struct Shape {
    const char* command;
    const char* operands;  // what follows the command, for the message
    size_t count;
  };
  static const Shape kShapes[] = {{"status", "no argument", 0},         {"watch", "no argument", 0},
                                  {"doctor", "no argument", 0},         {"firewall-rules", "no argument", 0},
                                  {"feature", "NAME", 1},               {"usage", "NAME COUNT", 2}};
  for (const Shape& s : kShapes) {
    if (command != s.command) continue;
    if (given > s.count) {
      return command + " takes " + s.operands + "; '" + args[s.count + 1] + "' is one too many";
    }
    const char* missing = s.count - given == 2 ? "NAME and COUNT are" : (s.count == 2 ? "COUNT is" : "NAME is");
    return command + " takes " + s.operands + "; " + missing + " missing";
  }
  return "bad command '" + command + "' (status, feature, usage, watch, doctor, firewall-rules)";
}

// COUNT of `usage`: a whole number a feature's quantity can hold (0 to
// 4294967295, the range of a licensed quantity); else why not.
bool usage_count_valid(const std::string& text, std::string& problem) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    problem = text.size() > 1 && text[0] == '-' && text.find_first_not_of("0123456789", 1) == std::string::npos
                  ? "is negative (a count is 0 or more)"
                  : "is not a whole number";
    return false;
  }
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno == ERANGE || v > static_cast<unsigned long long>(kMaxFeatureQuantity)) {
    problem = "is too large (at most " + std::to_string(kMaxFeatureQuantity) + ")";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "/etc/sublink/sublink.json";
  std::string resolv_conf = "/etc/resolv.conf";
  std::vector<std::string> args;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      printf("sublinkctl %s\n", SUBLINK_VERSION);
      return 0;
    } else if (a == "-c" || a == "--config" || a == "--resolv-conf") {
      if (i + 1 >= argc) {
        fprintf(stderr, "sublinkctl: %s needs a value; try 'sublinkctl --help'\n", a.c_str());
        return kExitUsage;
      }
      (a == "--resolv-conf" ? resolv_conf : config_path) = argv[++i];
    } else if (a == "--json") {
      json = true;
    } else if (a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9')) {  // "-3" is a count
      fprintf(stderr, "sublinkctl: unknown option '%s'; try 'sublinkctl --help'\n", a.c_str());
      return kExitUsage;
    } else {
      args.push_back(a);
    }
  }
  if (args.empty()) {
    fprintf(stderr,
            "sublinkctl: which command? (status, feature, usage, watch, doctor, firewall-rules); "
            "try 'sublinkctl --help'\n");
    return kExitUsage;
  }
  const std::string& command = args[0];
  if (command == "doctor" && args.size() == 1) return run_doctor_command(config_path, resolv_conf, json);
  if (command == "firewall-rules" && args.size() == 1) {
    return run_firewall_rules_command(config_path, resolv_conf, json);
  }
  std::string request;
  if (command == "status" && args.size() == 1) {
    request = "status";
  } else if (command == "watch" && args.size() == 1) {
    request = "watch";
  } else if (command == "feature" && args.size() == 2) {
    request = "feature " + args[1];
  } else if (command == "usage" && args.size() == 3) {
    std::string problem;
    if (!usage_count_valid(args[2], problem)) {
      fprintf(stderr, "sublinkctl usage: COUNT '%s' %s; try 'sublinkctl --help'\n", args[2].c_str(), problem.c_str());
      return kExitUsage;
    }
    request = "usage " + args[1] + " " + args[2];
  } else {
    fprintf(stderr, "sublinkctl: %s; try 'sublinkctl --help'\n", command_shape_problem(args).c_str());
    return kExitUsage;
  }
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].empty() || args[i].find_first_of(" \t\n\r") != std::string::npos) {
      fprintf(stderr, "sublinkctl %s: %s '%s' is empty or has a space; try 'sublinkctl --help'\n", command.c_str(),
              i == 1 ? "NAME" : "COUNT", args[i].c_str());
      return kExitUsage;
    }
  }

  // Only state_dir is needed; the configuration is still checked whole, so
  // a typo in it is reported here as sublinkd would report it.
  // Read with sublinkd's own bound: a wrong path (/dev/zero, a log) is
  // named, never slurped.
  std::string text;
  ConfigError e = read_config_file("config file", config_path, text);
  if (!e.ok()) {
    fprintf(stderr, "sublinkctl: %.*s\n", static_cast<int>(e.message().size()), e.message().data());
    return kExitUsage;
  }
  auto config = std::make_unique<DeviceConfig>();
  e = parse_device_config(text, *config);
  if (!e.ok()) {
    fprintf(stderr, "sublinkctl: %s: %.*s\n", config_path.c_str(), static_cast<int>(e.message().size()),
            e.message().data());
    return kExitUsage;
  }

  ControlClient client;
  std::string error;
  std::string line;
  if (!client.connect(control_socket_path(config->state_dir.view()), error) || !client.send(request, error) ||
      !client.read_line(line, 5000, error)) {
    fprintf(stderr, "sublinkctl: %s\n", error.c_str());
    return kExitUnreachable;
  }
  // The project's one checked parser: a raw control character in the
  // answer is refused, never read as a cut value.
  JsonResult<JsonDocument> parsed = JsonDocument::parse(line);
  if (!parsed.ok()) {
    char why[160];
    const size_t n = parsed.error().describe(why);
    fprintf(stderr, "sublinkctl: the agent's answer is not JSON (%.*s): %.80s\n", static_cast<int>(n), why,
            line.c_str());
    return kExitUnreachable;
  }
  const cJSON* answer = parsed->root();
  int rc = 0;
  const cJSON* ok = cJSON_GetObjectItemCaseSensitive(answer, "ok");
  if (cJSON_IsFalse(ok)) {
    const cJSON* why = cJSON_GetObjectItemCaseSensitive(answer, "error");
    fprintf(stderr, "sublinkctl: %s\n", cJSON_IsString(why) ? why->valuestring : "refused");
    rc = kExitNegative;
  } else if (command == "watch") {
    do {
      printf("%s\n", line.c_str());
      fflush(stdout);
    } while (client.read_line(line, -1, error));
  } else if (command == "status") {
    if (json) {
      printf("%s\n", line.c_str());
    } else {
      fputs(status_text(answer).c_str(), stdout);
    }
  } else if (command == "feature") {
    bool on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "enabled"));
    const cJSON* qty = cJSON_GetObjectItemCaseSensitive(answer, "qty");
    const cJSON* state = cJSON_GetObjectItemCaseSensitive(answer, "state");
    if (json) {
      printf("%s\n", line.c_str());
    } else {
      printf("%s: %s, quantity %lld (state %s)\n", args[1].c_str(), on ? "on" : "off",
             static_cast<long long>(cJSON_GetNumberValue(qty)), cJSON_IsString(state) ? state->valuestring : "?");
    }
    rc = on ? 0 : kExitNegative;
  }
  return rc;
}
