// The board's tunnels (PROTOCOL.md section 6): small and fixed. The image
// serves one service itself, "status" (firmware/agent/status_page.h, wired
// in agent_loop.cpp), beside the LAN endpoints the configuration's
// `services` may map. Limits, whatever the configuration asks:
//   - window 2048 bytes per channel: the server's DATA frames to the board
//     then stay under half of its 4 KiB WebSocket messages and TLS records
//     (a 4096-byte window would allow 4099-byte frames, which the board
//     must refuse with 1009); it costs no receive memory beyond the 4096
//     bytes every channel keeps for early data anyway.
//   - 2 channels: two parallel fetches of the page (a browser's), and the
//     heap they take (TunnelService::memory_bound, about 24 KiB).
//   - lwIP hands a local socket's data over up to TCP_WND bytes at once,
//     and the link sends at most Agent::kOutputBytes per message: the
//     tunnel service sizes its send queues and frames to those.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "firmware/agent/device_settings.h"

namespace sublink::mps2 {

/// The service name the status page answers to.
inline constexpr std::string_view kStatusService = "status";
inline constexpr uint32_t kBoardTunnelWindow = 2048;
inline constexpr uint16_t kBoardTunnelChannels = 2;

/// Applies the board's limits to `settings` (derived from `device`, with
/// the link's send limit set) and offers the status page in hello beside
/// the configured services. False, with `problem` naming the key, when the
/// configuration leaves no room for it or names a service "status".
bool configure_board_tunnels(const DeviceConfig& device, DeviceSettings& settings, std::string_view& problem);

/// The RAM the tunnels take: the heap the agent's tunnel service allocates
/// once (its channel table and buffers) plus `static_bytes` (the status
/// page, in static storage).
size_t board_tunnel_memory(const DeviceSettings& settings, size_t static_bytes);

}  // namespace sublink::mps2
