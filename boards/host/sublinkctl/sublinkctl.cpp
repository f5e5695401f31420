// sublinkctl: asks the running sublinkd (on this machine, over its control
// socket in state_dir) for its state. See --help.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <cJSON.h>

#include "boards/host/control/control_client.h"
#include "boards/host/control/control_protocol.h"
#include "boards/host/sublinkctl/status_text.h"
#include "firmware/config/config_parser.h"

using namespace sublink;

namespace {

const char kUsage[] =
    "usage: sublinkctl -c FILE COMMAND [ARGS]\n"
    "\n"
    "Talks to the sublinkd running with configuration FILE (through the UNIX\n"
    "socket in its state_dir; nothing goes over the network).\n"
    "\n"
    "Commands:\n"
    "  status [--json]        licensing state, link, grace time, alarm, license and\n"
    "                         undelivered events; --json prints the object of\n"
    "                         PROTOCOL.md section 7\n"
    "  feature NAME           whether subscription feature NAME is on, and its\n"
    "                         quantity (exit status 0 when on, 1 when off)\n"
    "  usage NAME COUNT       tell the agent COUNT of NAME are in use now (for audits)\n"
    "  watch                  print the status (JSON, one line) now and at every\n"
    "                         state change, until interrupted\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      the agent's configuration (default /etc/sublink/sublink.json)\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit status: 0 on success, 1 when the answer is negative (feature off, usage\n"
    "refused), 3 when the agent cannot be reached, 2 for bad usage or a bad FILE.\n";

constexpr int kExitNegative = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "/etc/sublink/sublink.json";
  std::vector<std::string> args;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      fputs(kUsage, stdout);
      return 0;
    } else if ((a == "-c" || a == "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--json") {
      json = true;
    } else if (a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9')) {  // "-3" is a count
      fprintf(stderr, "sublinkctl: unknown option '%s' (see --help)\n", a.c_str());
      return kExitUsage;
    } else {
      args.push_back(a);
    }
  }
  if (args.empty()) {
    fprintf(stderr, "sublinkctl: which command? (status, feature, usage, watch; see --help)\n");
    return kExitUsage;
  }
  const std::string& command = args[0];
  std::string request;
  if (command == "status" && args.size() == 1) {
    request = "status";
  } else if (command == "watch" && args.size() == 1) {
    request = "watch";
  } else if (command == "feature" && args.size() == 2) {
    request = "feature " + args[1];
  } else if (command == "usage" && args.size() == 3) {
    request = "usage " + args[1] + " " + args[2];
  } else {
    fprintf(stderr, "sublinkctl: bad command '%s' with %zu argument(s) (see --help)\n", command.c_str(),
            args.size() - 1);
    return kExitUsage;
  }
  for (const std::string& a : args) {
    if (a.find_first_of(" \n\r") != std::string::npos) {
      fprintf(stderr, "sublinkctl: '%s': names and counts have no spaces\n", a.c_str());
      return kExitUsage;
    }
  }

  // Only state_dir is needed; the configuration is still checked whole, so
  // a typo in it is reported here as sublinkd would report it.
  std::string text;
  if (!read_file(config_path, text)) {
    fprintf(stderr, "sublinkctl: cannot read configuration '%s': %s\n", config_path.c_str(), strerror(errno));
    return kExitUsage;
  }
  auto config = std::make_unique<DeviceConfig>();
  ConfigError e = parse_device_config(text, *config);
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
  cJSON* answer = cJSON_ParseWithLength(line.data(), line.size());
  if (answer == nullptr) {
    fprintf(stderr, "sublinkctl: the agent's answer is not JSON: %.80s\n", line.c_str());
    return kExitUnreachable;
  }
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
  cJSON_Delete(answer);
  return rc;
}
