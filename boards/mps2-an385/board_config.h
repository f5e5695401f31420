// The board's configuration file: the agent's keys (PROTOCOL.md section 7,
// parsed by parse_device_config) plus the keys an appliance installer sets
// for this board's network and test runs:
//   ip           "dhcp" (default) or "A.B.C.D/NN"
//   gateway      "A.B.C.D": the default route with a static address (with
//                DHCP the router DHCP names is the route)
//   dns          ["A.B.C.D", ...] up to 2 servers; with none configured
//                and none from DHCP, 8.8.8.8
//   ntp          SNTP server name or address (default "time.google.com")
//   time_source  "sntp" (default) or "host": the debugger host's clock via
//                semihosting, untrusted, for runs without an NTP server
//   flash_image  host path of the file backing the NOR flash (required)
//   exit_on      "grace": end the run (status 0) once the agent, licensed
//                with heartbeats acknowledged, is in grace; absent: run on
//   deadline_s   end the run with status 1 after this many seconds
// state_dir is not used on the board (the flash image holds the records)
// and may be left out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "firmware/config/config_error.h"
#include "firmware/config/device_config.h"

namespace sublink::mps2 {

enum class TimeSource : uint8_t { sntp, host };
enum class ExitOn : uint8_t { never, grace };

struct Ipv4 {
  uint8_t bytes[4] = {};
};

struct BoardConfig {
  bool dhcp = true;
  Ipv4 address;
  Ipv4 netmask;
  bool has_gateway = false;
  Ipv4 gateway;
  std::array<Ipv4, 2> dns{};
  size_t dns_count = 0;
  BoundedString<kMaxConfigServer> ntp;
  TimeSource time_source = TimeSource::sntp;
  BoundedString<kMaxConfigPath> flash_image;
  ExitOn exit_on = ExitOn::never;
  Millis deadline = 0;  // 0: none
};

/// The default SNTP server when `ntp` is not given.
inline constexpr std::string_view kDefaultNtpServer = "time.google.com";
/// The DNS server used when neither the configuration nor DHCP names one.
inline constexpr Ipv4 kFallbackDns{{8, 8, 8, 8}};

/// Parses the board file `json` into `board` and `device`. Needs an
/// installed JsonArena with room for the file twice. The first problem is
/// returned as one line naming the key.
ConfigError parse_board_config(std::string_view json, BoardConfig& board, DeviceConfig& device);

/// Parses "A.B.C.D" into `out`; false for anything else.
bool parse_ipv4(std::string_view text, Ipv4& out);

}  // namespace sublink::mps2
