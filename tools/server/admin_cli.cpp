#include "tools/server/admin_cli.h"

#include <cJSON.h>

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "firmware/json/json_document.h"
#include "linux_util/control/control_client.h"
#include "tools/server/admin_request.h"

namespace sublink {

namespace {

constexpr int kExitDone = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;

// A fleet's device list is one answer line: room for many thousands.
constexpr size_t kMaxAnswer = 256u * 1024 * 1024;
// How long an answer may take beyond the device's own timeout.
constexpr Millis kAnswerSlackMs = 5000;
// Commands that do not wait for a device are answered at once.
constexpr Millis kQuickAnswerMs = 30000;

const char kHelp[] =
    "NAME\n"
    "    sublink-server admin - operate a running sublink-server\n"
    "\n"
    "SYNOPSIS\n"
    "    sublink-server admin (--control PATH | --db FILE) COMMAND [ARGUMENTS]\n"
    "\n"
    "DESCRIPTION\n"
    "    Sends one command to a running sublink-server over its control socket (a\n"
    "    UNIX socket of mode 0600: only the server's user and root may use it) and\n"
    "    prints the answer. Records change in the server's database at once;\n"
    "    messages reach a device only while it is linked.\n"
    "\n"
    "OPTIONS\n"
    "    --control PATH  the server's control socket\n"
    "    --db FILE       the server's database: the socket is sublink-server.sock\n"
    "                    in the same folder (the server's default)\n"
    "    -h, --help      print this help and exit\n"
    "\n"
    "COMMANDS\n"
    "    devices [--json]\n"
    "        Every registered system and every live link: link up or down, server\n"
    "        port and peer address of the link, last contact (UTC) and license\n"
    "        serial. --json prints one JSON object per line: system_id,\n"
    "        customer_id, link (\"up\"/\"down\"), port, peer, last_contact (UTC ms\n"
    "        or null), serial, held (the serial the device reported in force on\n"
    "        its live link, or null), blackholed, alarms (the standing ones:\n"
    "        [{kind, raised (UTC ms), detail}], such as duplicate_identity: two\n"
    "        instances of the system took turns, a cloned appliance).\n"
    "    add-customer CUSTOMER_ID NAME\n"
    "        Add a customer, or rename one.\n"
    "    add-system SYSTEM_ID CUSTOMER_ID\n"
    "        Register a system for an existing customer (its entitlements are\n"
    "        kept when it is registered already).\n"
    "    entitle SYSTEM_ID FEATURE QTY\n"
    "        Store the entitlement. A linked device gets a fresh license_grant at\n"
    "        once (quantities are the lower of this and what it asked for).\n"
    "    revoke SYSTEM_ID [REASON] [--timeout S]\n"
    "        Send license_revoke for the license the device holds and wait for its\n"
    "        answer: its features go off at once. The serial is the one the device\n"
    "        reported in force (hello, audits, license_applied), or \"*\" (whatever\n"
    "        it holds) while a grant sent on the link is unconfirmed; the answer\n"
    "        names the serial revoked. Not linked: its latest license\n"
    "        is recorded as revoked and the device is told when it links holding\n"
    "        it. A revoke ends one license, not the subscription: on a new link\n"
    "        the device is granted what it is still entitled to (entitle 0 or\n"
    "        suspend the system to stop that).\n"
    "    disconnect SYSTEM_ID [--retry-after S]\n"
    "        Send disconnect: the device closes the link and waits at least S\n"
    "        seconds before it connects again.\n"
    "    request SYSTEM_ID METHOD [PARAMS_JSON] [--timeout S]\n"
    "        Send a management request (status.get, license.refresh, audit.now,\n"
    "        events.get, ...) and print the device's response as JSON. Waits up\n"
    "        to S seconds (default 10).\n"
    "    port PORT stop|start|stall|normal\n"
    "        Fault controls for one listening port. stop: close the listening\n"
    "        socket, so connects are refused; start: listen again; stall: accept\n"
    "        TCP but never answer TLS; normal: undo stall. Links already up stay.\n"
    "    drop SYSTEM_ID\n"
    "        Reset the device's TCP connection at once.\n"
    "    clear-alarm SYSTEM_ID\n"
    "        Clear the system's duplicate_identity alarm once the cloned appliance\n"
    "        is dealt with; under --duplicate-identity refuse the system links\n"
    "        again, and its replacements are counted from nothing.\n"
    "    blackhole SYSTEM_ID on|off\n"
    "        Keep the device's TCP connection but stop reading and answering it,\n"
    "        like a server that hangs; off serves it again.\n"
    "    forward SYSTEM_ID SERVICE --listen ADDR:PORT [--operator NAME]\n"
    "        Like ssh -L: the server listens on ADDR:PORT (loopback only:\n"
    "        127.0.0.1:PORT or [::1]:PORT; port 0 lets the kernel choose, and the\n"
    "        answer names it) and every TCP connection accepted there opens a\n"
    "        tunnel channel to SERVICE on the device, over the link the device\n"
    "        opened: nothing inbound is opened on the device's network, and\n"
    "        parallel connections (a browser's) each get their own channel.\n"
    "        Refused at once when the device is not linked or its hello did not\n"
    "        offer SERVICE. NAME (default: your login name) is the operator the\n"
    "        device records for each channel. The forward stays until closed; a\n"
    "        connection made while the device is not linked is reset, and when\n"
    "        the link drops every connection on it is reset at once.\n"
    "    forward --close ADDR:PORT\n"
    "        Stop the forward listening on ADDR:PORT (as the forward's answer\n"
    "        named it) and reset its open channels (RST shutdown).\n"
    "    tunnels [--json]\n"
    "        The forwards, and the open channels with their operator, age and\n"
    "        bytes each way (in: to the device, out: from it). --json prints one\n"
    "        JSON object: forwards [{listen, system_id, service, operator,\n"
    "        channels, accepted}] and channels [{system_id, channel, service,\n"
    "        operator, listen, peer, opened (UTC ms), age_s, bytes_in, bytes_out,\n"
    "        accepted}]. Every channel, open or closed, is also kept in the\n"
    "        database's tunnels table.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   done\n"
    "    1   the server refused or failed (the reason on stderr), or the device\n"
    "        answered the request with an error\n"
    "    2   bad usage\n"
    "    3   the server is not running or its control socket cannot be reached\n"
    "\n"
    "EXAMPLES\n"
    "    sublink-server admin --db /var/lib/sublink-server/server.db devices\n"
    "    sublink-server admin --db server.db entitle SYS-0001 seats 20\n"
    "    sublink-server admin --db server.db port 443 stop\n"
    "    sublink-server admin --db server.db forward SYS-0001 http --listen \\\n"
    "        127.0.0.1:8080\n"
    "    sublink-server admin --db server.db forward --close 127.0.0.1:8080\n"
    "    sublink-server admin --control /run/sublink/server.sock request SYS-0001 \\\n"
    "        status.get\n";

int usage_error(const std::string& problem) {
  fprintf(stderr, "sublink-server admin: %s\ntry 'sublink-server admin --help'\n", problem.c_str());
  return kExitUsage;
}

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

std::string text_of(const cJSON* item, const char* name, const char* fallback = "-") {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(item, name);
  if (cJSON_IsString(v)) return v->valuestring;
  if (cJSON_IsNumber(v)) return std::to_string(static_cast<long long>(v->valuedouble));
  return fallback;
}

std::string compact(const cJSON* item) {
  char* text = cJSON_PrintUnformatted(item);
  std::string out = text != nullptr ? text : "null";
  cJSON_free(text);
  return out;
}

// "2026-11-21 09:36:52Z" from UTC milliseconds.
std::string utc_text(const cJSON* ms) {
  if (!cJSON_IsNumber(ms)) return "-";
  const time_t seconds = static_cast<time_t>(ms->valuedouble / 1000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%SZ", &parts);
  return text;
}

void print_devices(const cJSON* devices, bool json) {
  if (json) {
    for (const cJSON* d = devices ? devices->child : nullptr; d != nullptr; d = d->next) {
      printf("%s\n", compact(d).c_str());
    }
    return;
  }
  printf("%-16s %-12s %-15s %-6s %-22s %-21s %-10s %s\n", "SYSTEM", "CUSTOMER", "LINK", "PORT", "PEER",
         "LAST CONTACT", "SERIAL", "ALARM");
  for (const cJSON* d = devices ? devices->child : nullptr; d != nullptr; d = d->next) {
    std::string link = text_of(d, "link");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "blackholed"))) link += " (blackholed)";
    std::string alarms;
    const cJSON* alarm = nullptr;
    cJSON_ArrayForEach(alarm, cJSON_GetObjectItemCaseSensitive(d, "alarms")) {
      alarms += (alarms.empty() ? "" : ", ") + text_of(alarm, "kind") + " (" + text_of(alarm, "detail") + ")";
    }
    printf("%-16s %-12s %-15s %-6s %-22s %-21s %-10s %s\n", text_of(d, "system_id").c_str(),
           text_of(d, "customer_id").c_str(), link.c_str(), text_of(d, "port").c_str(), text_of(d, "peer").c_str(),
           utc_text(cJSON_GetObjectItemCaseSensitive(d, "last_contact")).c_str(), text_of(d, "serial").c_str(),
           alarms.empty() ? "-" : alarms.c_str());
  }
}

// "2m05s" from seconds.
std::string age_text(const cJSON* seconds) {
  if (!cJSON_IsNumber(seconds)) return "-";
  const long long s = static_cast<long long>(seconds->valuedouble);
  char text[32];
  if (s >= 3600) {
    snprintf(text, sizeof(text), "%lldh%02lldm", s / 3600, s / 60 % 60);
  } else {
    snprintf(text, sizeof(text), "%lldm%02llds", s / 60, s % 60);
  }
  return text;
}

void print_tunnels(const cJSON* answer, bool json) {
  if (json) {
    cJSON* copy = cJSON_Duplicate(answer, true);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "ok");
    printf("%s\n", compact(copy).c_str());
    cJSON_Delete(copy);
    return;
  }
  printf("%-22s %-16s %-12s %-12s %s\n", "FORWARD", "SYSTEM", "SERVICE", "OPERATOR", "CHANNELS");
  const cJSON* f = nullptr;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(answer, "forwards")) {
    printf("%-22s %-16s %-12s %-12s %s\n", text_of(f, "listen").c_str(), text_of(f, "system_id").c_str(),
           text_of(f, "service").c_str(), text_of(f, "operator", "").c_str(), text_of(f, "channels").c_str());
  }
  printf("\n%-16s %-7s %-12s %-12s %-22s %-8s %-12s %s\n", "SYSTEM", "CHANNEL", "SERVICE", "OPERATOR", "PEER", "AGE",
         "BYTES IN", "BYTES OUT");
  const cJSON* c = nullptr;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(answer, "channels")) {
    printf("%-16s %-7s %-12s %-12s %-22s %-8s %-12s %s\n", text_of(c, "system_id").c_str(),
           text_of(c, "channel").c_str(), text_of(c, "service").c_str(), text_of(c, "operator", "").c_str(),
           text_of(c, "peer").c_str(), age_text(cJSON_GetObjectItemCaseSensitive(c, "age_s")).c_str(),
           text_of(c, "bytes_in").c_str(), text_of(c, "bytes_out").c_str());
  }
}

// Prints what the server did; the exit status.
int report(const AdminRequest& request, const cJSON* answer) {
  const bool linked = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "linked"));
  const cJSON* response = cJSON_GetObjectItemCaseSensitive(answer, "response");
  const char* id = request.system_id.c_str();
  switch (request.command) {
    case AdminCommand::devices:
      print_devices(cJSON_GetObjectItemCaseSensitive(answer, "devices"), request.json);
      return kExitDone;
    case AdminCommand::add_customer: printf("customer %s added\n", request.customer_id.c_str()); return kExitDone;
    case AdminCommand::add_system:
      printf("system %s added for customer %s\n", id, request.customer_id.c_str());
      return kExitDone;
    case AdminCommand::entitle:
      if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "pushed"))) {
        printf("%s: %s = %u; license %s pushed to the device\n", id, request.feature.c_str(), request.qty,
               text_of(answer, "serial").c_str());
      } else {
        printf("%s: %s = %u (no license pushed: %s)\n", id, request.feature.c_str(), request.qty,
               text_of(answer, "why", "?").c_str());
      }
      return kExitDone;
    case AdminCommand::revoke:
      if (!linked) {
        printf("%s: license %s revoked (not linked: the device is told when it links)\n", id,
               text_of(answer, "serial").c_str());
        return kExitDone;
      }
      printf("%s: license %s revoked; the device answered %s\n", id, text_of(answer, "serial").c_str(),
             compact(response).c_str());
      return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(response, "ok")) ? kExitDone : kExitRefused;
    case AdminCommand::disconnect:
      printf("%s: disconnect sent (retry after %lld s)\n", id,
             static_cast<long long>(request.retry_after_s.value_or(0)));
      return kExitDone;
    case AdminCommand::request: {
      printf("%s\n", compact(response).c_str());
      if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(response, "ok"))) return kExitDone;
      const cJSON* error = cJSON_GetObjectItemCaseSensitive(response, "error");
      fprintf(stderr, "sublink-server admin: %s answered %s: %s\n", id, text_of(error, "code", "?").c_str(),
              text_of(error, "message", "").c_str());
      return kExitRefused;
    }
    case AdminCommand::port:
      printf("port %u: %s\n", static_cast<unsigned>(request.port), text_of(answer, "state").c_str());
      return kExitDone;
    case AdminCommand::drop: printf("%s: connection dropped\n", id); return kExitDone;
    case AdminCommand::blackhole: printf("%s: blackhole %s\n", id, request.on ? "on" : "off"); return kExitDone;
    case AdminCommand::clear_alarm: printf("%s: duplicate_identity alarm cleared\n", id); return kExitDone;
    case AdminCommand::forward:
      if (request.close) {
        printf("forward %s closed\n", text_of(answer, "closed").c_str());
      } else {
        printf("forwarding %s to %s service %s\n", text_of(answer, "listen").c_str(), id, request.service.c_str());
      }
      return kExitDone;
    case AdminCommand::tunnels: print_tunnels(answer, request.json); return kExitDone;
  }
  return kExitDone;
}

}  // namespace

int run_admin_cli(int argc, char** argv) {
  std::string control;
  std::string db;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      fputs(kHelp, stdout);
      return kExitDone;
    }
    if (a == "--control" || a == "--db") {
      if (i + 1 >= argc) return usage_error(a + " needs a value");
      (a == "--control" ? control : db) = argv[++i];
      continue;
    }
    if (a.rfind("--", 0) == 0) return usage_error("unknown option '" + a + "'");
    break;
  }
  if (control.empty() && db.empty()) return usage_error("say which server: --control PATH or --db FILE");
  if (control.empty()) control = default_control_path(db);
  std::vector<std::string> words(argv + i, argv + argc);
  AdminRequest request;
  std::string error;
  if (!parse_admin_words(words, request, error)) return usage_error(error);
  if (request.command == AdminCommand::forward && !request.close && request.op.empty()) {
    // The device records who opened each channel: by default, whoever runs this.
    const passwd* user = getpwuid(getuid());
    if (user != nullptr && user->pw_name != nullptr) {
      words.insert(words.end(), {"--operator", user->pw_name});
      if (!parse_admin_words(words, request, error)) return usage_error(error);
    }
  }
  Result<std::string> line = admin_request_line(words);
  if (!line.ok()) return usage_error("the arguments are not valid UTF-8");

  ControlClient client("sublink-server", kMaxAnswer);
  if (!client.connect(control, error) || !client.send(*line, error)) {
    fprintf(stderr, "sublink-server admin: %s\n", error.c_str());
    return kExitUnreachable;
  }
  const bool waits = request.command == AdminCommand::request || request.command == AdminCommand::revoke;
  std::string answer_line;
  if (!client.read_line(answer_line, waits ? request.timeout_s * 1000 + kAnswerSlackMs : kQuickAnswerMs, error)) {
    fprintf(stderr, "sublink-server admin: %s\n", error.c_str());
    return kExitRefused;
  }
  // The project's one checked parser: a raw control character in the
  // answer is refused, never read as a cut value.
  JsonResult<JsonDocument> answer = JsonDocument::parse(answer_line);
  if (!answer.ok() || !cJSON_IsObject(answer->root())) {
    fprintf(stderr, "sublink-server admin: the server's answer is not a JSON object: %s\n", answer_line.c_str());
    return kExitRefused;
  }
  if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer->root(), "ok"))) {
    fprintf(stderr, "sublink-server admin: %s\n", text_of(answer->root(), "error", "the server refused").c_str());
    return kExitRefused;
  }
  return report(request, answer->root());
}

}  // namespace sublink
