// Tunnel exchanges through the simulated link (PROTOCOL.md section 6), at
// the seed's worst link: 200 ms round trip, 128 kbit/s. Services on a host
// of the device's LAN (a bulk source and a request/answer service) are
// reached through channels the simulated server opens: two bulk channels
// saturate the link while a small request is answered and heartbeats go
// on. The report says whether every byte came whole and in order, how long
// the small answer waited behind the bulk channels, how evenly the two
// bulk channels shared the link, and how far apart heartbeats arrived.
//
// Driving it:
//   SimWorldSetup setup = ...; sim_configure_tunnels(setup);
//   SimWorld world(setup); world.start(); sim_until_licensed(world);
//   SimTunnelReport report;
//   if (sim_tunnel_exchange(world, report)) ... report.channels, report.small_wait_ms ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "boards/sim/sim_world.h"

namespace sublink {

/// The LAN host the device's `services` point at, and its services' ports.
inline constexpr const char* kSimLanHost = "10.0.0.9";
inline constexpr uint16_t kSimBulkPort = 9000;    // sends kSimBulkBytes, then closes
inline constexpr uint16_t kSimAnswerPort = 9001;  // takes kSimRequestBytes, answers them back, then closes
inline constexpr uint64_t kSimBulkBytes = 160 * 1024;
inline constexpr uint64_t kSimRequestBytes = 2000;

/// The seed's worst link (100 ms each way, 128 kbit/s), heartbeats every
/// 10 s, and `services` {"bulk", "answer"} on kSimLanHost.
void sim_configure_tunnels(SimWorldSetup& setup);

struct SimTunnelReport {
  struct Channel {
    std::string service;
    uint64_t expected = 0;   // bytes the service sent
    uint64_t received = 0;   // bytes the operator got
    bool whole = false;      // received == expected, same bytes in order
    std::string end;         // tunnel_closed's reason ("fin"), empty while open
  };
  std::vector<Channel> channels;  // bulk 1, bulk 2, answer
  /// The answer channel: from its OPEN_OK to its first DATA at the server,
  /// while both bulk channels were saturated.
  Millis small_wait_ms = -1;
  /// One full DATA frame (16 KiB and its header) at the link's rate.
  Millis frame_ms = 0;
  /// The most the bulk channels' received bytes differed while both flowed.
  uint64_t bulk_share_gap = 0;
  /// The longest time between two heartbeats reaching the server during
  /// the exchange, and the interval the server asked for.
  Millis heartbeat_gap_ms = 0;
  Millis heartbeat_interval_ms = 0;
  /// Links made during the exchange (0: the link held throughout).
  uint64_t relinks = 0;
  /// Lines for the timeline / a person.
  std::vector<std::string> lines() const;
};

/// Runs the exchange on a world made with sim_configure_tunnels and
/// licensed. False when a step did not happen (no channel opened, the
/// exchange did not end within 5 minutes).
bool sim_tunnel_exchange(SimWorld& world, SimTunnelReport& report);

}  // namespace sublink
