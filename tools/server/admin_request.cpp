#include "tools/server/admin_request.h"

#include <cJSON.h>

#include <arpa/inet.h>

#include <cstdlib>

#include "firmware/json/json_document.h"
#include "net/websocket/utf8_validator.h"
#include "server_core/json_text.h"

namespace sublink {

namespace {

struct CommandName {
  const char* name;
  AdminCommand command;
  size_t min_args;  // positional words after the name
  size_t max_args;
};

constexpr CommandName kCommands[] = {
    {"devices", AdminCommand::devices, 0, 0},       {"add-customer", AdminCommand::add_customer, 2, 2},
    {"add-system", AdminCommand::add_system, 2, 2}, {"entitle", AdminCommand::entitle, 3, 3},
    {"revoke", AdminCommand::revoke, 1, 2},         {"disconnect", AdminCommand::disconnect, 1, 1},
    {"request", AdminCommand::request, 2, 3},       {"port", AdminCommand::port, 2, 2},
    {"drop", AdminCommand::drop, 1, 1},             {"blackhole", AdminCommand::blackhole, 2, 2},
    {"clear-alarm", AdminCommand::clear_alarm, 1, 1}, {"forward", AdminCommand::forward, 0, 2},
    {"tunnels", AdminCommand::tunnels, 0, 0},
};

// Longest service name and operator identity (PROTOCOL.md section 6: the
// OPEN frame carries each with a 1-byte length).
constexpr size_t kMaxTunnelName = 255;

// What JsonDocument::parse refused, in words.
std::string json_problem_text(const JsonError& error) {
  char text[160];
  const size_t n = error.describe(text);
  return std::string(text, n);
}

// Longest wait for a device's answer an operator may ask for.
constexpr int64_t kMaxTimeoutS = 3600;

// Decimal digits only: strtoll alone would also take leading blanks and
// line breaks (" 443", "\n1") and stop at a NUL.
bool parse_number(const std::string& text, int64_t min, int64_t max, int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || v < min || v > max) return false;
  out = v;
  return true;
}

// The value after option `words[i]`; advances i. False when missing.
// `word` between single quotes as an error line shows it: control
// characters (a newline, an escape sequence) as \xNN, so the operator's
// terminal and the server's log get one line whatever the word holds.
std::string quoted(const std::string& word) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (char c : word) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "'";
}

bool option_value(std::span<const std::string> words, size_t& i, std::string& value) {
  if (i + 1 >= words.size()) return false;
  value = words[++i];
  return true;
}

}  // namespace

std::string default_control_path(const std::string& db_path) {
  const size_t slash = db_path.rfind('/');
  return (slash == std::string::npos ? std::string() : db_path.substr(0, slash + 1)) + kDefaultControlName;
}

const char* port_action_name(PortAction action) {
  switch (action) {
    case PortAction::stop: return "stop";
    case PortAction::start: return "start";
    case PortAction::stall: return "stall";
    case PortAction::normal: return "normal";
  }
  return "?";
}

bool parse_listen_address(const std::string& text, ListenAddress& out, std::string& error) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    error = "the address is ADDR:PORT (127.0.0.1:8080 or [::1]:8080), not " + quoted(text);
    return false;
  }
  std::string host = text.substr(0, colon);
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  int64_t port = 0;
  if (!parse_number(text.substr(colon + 1), 0, 65535, port)) {
    error = "the port is 0 to 65535 (0: any free port), not " + quoted(text.substr(colon + 1));
    return false;
  }
  in_addr v4{};
  in6_addr v6{};
  bool loopback = false;
  if (!bracketed && inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (bracketed && inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else {
    error = "the address is an IP literal (127.0.0.1 or [::1]), not " + quoted(host);
    return false;
  }
  if (!loopback) {
    error = "a forward listens on loopback only (127.0.0.1 or [::1]): whoever reaches its port reaches the "
            "device, not " + quoted(host);
    return false;
  }
  out.host = std::move(host);
  out.port = static_cast<uint16_t>(port);
  return true;
}

std::string listen_address_text(const ListenAddress& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  return (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

bool parse_admin_words(std::span<const std::string> words, AdminRequest& out, std::string& error) {
  if (words.empty()) {
    error = "no command given";
    return false;
  }
  const CommandName* found = nullptr;
  for (const CommandName& c : kCommands) {
    if (words[0] == c.name) found = &c;
  }
  if (found == nullptr) {
    error = "unknown command " + quoted(words[0]);
    return false;
  }
  AdminRequest request;
  request.command = found->command;
  const std::string& name = words[0];
  std::vector<std::string> args;
  bool have_listen = false;  // forward: --listen or --close seen
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    std::string value;
    int64_t n = 0;
    const bool forward = found->command == AdminCommand::forward;
    if (w == "--json" && (found->command == AdminCommand::devices || found->command == AdminCommand::tunnels)) {
      request.json = true;
    } else if ((w == "--listen" || w == "--close") && forward) {
      if (have_listen) {
        error = "forward: say --listen or --close once";
        return false;
      }
      if (!option_value(words, i, value)) {
        error = "forward: " + w + " needs ADDR:PORT";
        return false;
      }
      if (!parse_listen_address(value, request.listen, error)) {
        error = "forward: " + w + ": " + error;
        return false;
      }
      have_listen = true;
      request.close = w == "--close";
    } else if (w == "--operator" && forward) {
      if (!option_value(words, i, value) || value.size() > kMaxTunnelName) {
        error = "forward: --operator needs a name of at most 255 bytes";
        return false;
      }
      request.op = value;
    } else if (w == "--retry-after" && found->command == AdminCommand::disconnect) {
      if (!option_value(words, i, value) || !parse_number(value, 0, 30LL * 86400, n)) {
        error = "--retry-after needs a number of seconds (0 to 2592000)";
        return false;
      }
      request.retry_after_s = n;
    } else if (w == "--timeout" &&
               (found->command == AdminCommand::request || found->command == AdminCommand::revoke)) {
      if (!option_value(words, i, value) || !parse_number(value, 1, kMaxTimeoutS, n)) {
        error = "--timeout needs a number of seconds (1 to 3600)";
        return false;
      }
      request.timeout_s = n;
    } else if (w.size() > 1 && w[0] == '-' && w[1] == '-') {
      error = name + ": unknown option " + quoted(w);
      return false;
    } else {
      args.push_back(w);
    }
  }
  if (args.size() < found->min_args || args.size() > found->max_args) {
    error = name + ": " + (args.size() < found->min_args ? "missing arguments" : "too many arguments");
    return false;
  }
  for (const std::string& a : args) {
    if (a.empty()) {
      error = name + ": an argument is empty";
      return false;
    }
  }
  int64_t n = 0;
  switch (found->command) {
    case AdminCommand::devices:
    case AdminCommand::tunnels: break;
    case AdminCommand::forward:
      if (!have_listen) {
        error = "forward: say where to listen (--listen 127.0.0.1:PORT) or which forward to close (--close ADDR:PORT)";
        return false;
      }
      if (request.close) {
        if (!args.empty() || !request.op.empty()) {
          error = "forward --close ADDR:PORT takes nothing else";
          return false;
        }
        break;
      }
      if (args.size() != 2) {
        error = "forward: say SYSTEM_ID and SERVICE";
        return false;
      }
      request.system_id = args[0];
      request.service = args[1];
      if (request.service.size() > kMaxTunnelName) {
        error = "forward: SERVICE is at most 255 bytes";
        return false;
      }
      break;
    case AdminCommand::add_customer:
      request.customer_id = args[0];
      request.name = args[1];
      break;
    case AdminCommand::add_system:
      request.system_id = args[0];
      request.customer_id = args[1];
      break;
    case AdminCommand::entitle:
      request.system_id = args[0];
      request.feature = args[1];
      if (!parse_number(args[2], 0, UINT32_MAX, n)) {
        error = "entitle: QTY must be a whole number from 0 to 4294967295, not " + quoted(args[2]);
        return false;
      }
      request.qty = static_cast<uint32_t>(n);
      break;
    case AdminCommand::revoke:
      request.system_id = args[0];
      request.reason = args.size() > 1 ? args[1] : "revoked";
      break;
    case AdminCommand::disconnect:
    case AdminCommand::clear_alarm:
    case AdminCommand::drop: request.system_id = args[0]; break;
    case AdminCommand::request:
      request.system_id = args[0];
      request.method = args[1];
      if (args.size() > 2) {
        JsonResult<JsonDocument> params = JsonDocument::parse(args[2]);
        if (!params.ok()) {
          error = "request: PARAMS_JSON is not JSON (" + json_problem_text(params.error()) + "): " + quoted(args[2]);
          return false;
        }
        request.params_json = args[2];
      }
      break;
    case AdminCommand::port:
      if (!parse_number(args[0], 1, 65535, n)) {
        error = "port: PORT must be a port number, not " + quoted(args[0]);
        return false;
      }
      request.port = static_cast<uint16_t>(n);
      if (args[1] == "stop") {
        request.port_action = PortAction::stop;
      } else if (args[1] == "start") {
        request.port_action = PortAction::start;
      } else if (args[1] == "stall") {
        request.port_action = PortAction::stall;
      } else if (args[1] == "normal") {
        request.port_action = PortAction::normal;
      } else {
        error = "port: the action is stop, start, stall or normal, not " + quoted(args[1]);
        return false;
      }
      break;
    case AdminCommand::blackhole:
      request.system_id = args[0];
      if (args[1] != "on" && args[1] != "off") {
        error = "blackhole: say on or off, not " + quoted(args[1]);
        return false;
      }
      request.on = args[1] == "on";
      break;
  }
  out = std::move(request);
  return true;
}

Result<std::string> admin_request_line(std::span<const std::string> words) {
  return write_json_text([&](JsonWriter& w) {
    w.begin_object().key("args").begin_array();
    for (const std::string& word : words) w.string(word);
    w.end_array().end_object();
  });
}

bool admin_request_words(std::string_view line, std::vector<std::string>& words, std::string& error) {
  // JSON text is UTF-8 (RFC 8259 section 8.1); the parser would pass other
  // bytes into the words, and from there into records and messages.
  if (!is_valid_utf8(line)) {
    error = "the request is not valid UTF-8";
    return false;
  }
  JsonResult<JsonDocument> parsed = JsonDocument::parse(line);
  if (!parsed.ok()) {
    // A raw NUL would otherwise cut a word ("SYS-1" NUL "X" read as SYS-1).
    error = "the request is not JSON: " + json_problem_text(parsed.error());
    return false;
  }
  const cJSON* args = cJSON_GetObjectItemCaseSensitive(parsed.value().root(), "args");
  if (!cJSON_IsArray(args)) {
    error = "the request has no \"args\" array";
    return false;
  }
  words.clear();
  for (const cJSON* a = args->child; a != nullptr; a = a->next) {
    if (!cJSON_IsString(a)) {
      error = "\"args\" holds something other than strings";
      return false;
    }
    words.emplace_back(a->valuestring);
  }
  return true;
}

}  // namespace sublink
