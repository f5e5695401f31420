// The operator's commands against a running sublink-server, as words
// ("entitle SYS-0001 seats 5") and as the one JSON line that carries them
// over the control socket ({"args":["entitle","SYS-0001","seats","5"]}).
// `sublink-server admin` and the server parse the words with the same
// function, so the command line and the socket accept exactly the same.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hal/status.h"

namespace sublink {

enum class AdminCommand : uint8_t {
  devices,       // devices [--json]
  add_customer,  // add-customer CUSTOMER_ID NAME
  add_system,    // add-system SYSTEM_ID CUSTOMER_ID
  entitle,       // entitle SYSTEM_ID FEATURE QTY
  revoke,        // revoke SYSTEM_ID [REASON] [--timeout S]
  disconnect,    // disconnect SYSTEM_ID [--retry-after S]
  request,       // request SYSTEM_ID METHOD [PARAMS_JSON] [--timeout S]
  port,          // port PORT stop|start|stall|normal
  drop,          // drop SYSTEM_ID
  blackhole,     // blackhole SYSTEM_ID on|off
  clear_alarm,   // clear-alarm SYSTEM_ID
  forward,       // forward SYSTEM_ID SERVICE --listen ADDR:PORT [--operator NAME] | forward --close ADDR:PORT
  tunnels,       // tunnels [--json]
};

/// A loopback TCP address the operator names for a forward: "127.0.0.1:8080"
/// or "[::1]:8080". Port 0 lets the kernel choose (the answer names it).
struct ListenAddress {
  std::string host;   // the IP literal, without brackets
  uint16_t port = 0;  // 0..65535
};

/// Parses `text` as ADDR:PORT (IPv6 in brackets); only loopback addresses
/// (127.0.0.0/8, ::1) are taken: a forward carries no authentication of
/// its own, so whoever reaches its port reaches the device's service. On
/// failure returns false with `error` naming the problem.
bool parse_listen_address(const std::string& text, ListenAddress& out, std::string& error);

/// "127.0.0.1:8080" or "[::1]:8080".
std::string listen_address_text(const ListenAddress& address);

/// What `port PORT ACTION` does to a listening port.
enum class PortAction : uint8_t {
  stop,    // close the listening socket: connects are refused
  start,   // listen again
  stall,   // accept TCP but never read or answer (a hung TLS peer)
  normal,  // undo stall: serve new connections again
};

/// File name of the control socket when the server is not given one: it
/// sits next to the database.
inline constexpr const char* kDefaultControlName = "sublink-server.sock";

/// The control socket of a server whose database is `db_path`:
/// kDefaultControlName in the database's folder.
std::string default_control_path(const std::string& db_path);

/// Lower-case name of a port action ("stop", ...).
const char* port_action_name(PortAction action);

/// One parsed command; only the fields of its command are set.
struct AdminRequest {
  AdminCommand command = AdminCommand::devices;
  std::string system_id;
  std::string customer_id;
  std::string name;     // add-customer
  std::string feature;  // entitle
  uint32_t qty = 0;     // entitle
  std::string reason;   // revoke (default "revoked")
  std::optional<int64_t> retry_after_s;  // disconnect
  std::string method;                    // request
  std::string params_json;               // request: one JSON value, or empty
  uint16_t port = 0;                     // port
  PortAction port_action = PortAction::stop;
  bool on = false;   // blackhole
  bool json = false; // devices --json, tunnels --json: the command line prints JSON lines
  std::string service;   // forward: the device's service name (1..255 bytes)
  std::string op;        // forward --operator: who opens the channels (0..255 bytes)
  ListenAddress listen;  // forward --listen, forward --close
  bool close = false;    // forward --close: stop the forward listening at `listen`
  /// request and revoke: how long the server waits for the device's answer.
  int64_t timeout_s = 10;
};

/// Parses the words of one command (the first word is its name). On
/// failure returns false with `error` naming the problem in one line.
bool parse_admin_words(std::span<const std::string> words, AdminRequest& out, std::string& error);

/// The control socket's request line for `words` (without the newline);
/// invalid_argument when a word is not valid UTF-8.
Result<std::string> admin_request_line(std::span<const std::string> words);

/// The words of a request line; false with `error` when it is not
/// {"args": [strings...]} in valid UTF-8.
bool admin_request_words(std::string_view line, std::vector<std::string>& words, std::string& error);

}  // namespace sublink
