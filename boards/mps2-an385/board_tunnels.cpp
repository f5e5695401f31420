#include "boards/mps2-an385/board_tunnels.h"

#include <algorithm>

#include "firmware/agent/tunnel_service.h"
#include "lwip/opt.h"

namespace sublink::mps2 {

static_assert(kMaxConfigServices == 8, "the problem text below counts them");

bool configure_board_tunnels(const DeviceConfig& device, DeviceSettings& settings, std::string_view& problem) {
  if (device.find_service(kStatusService) != nullptr) {
    problem = "'services': \"status\" is the board's own status page; name the endpoint otherwise";
    return false;
  }
  const size_t n = device.service_count;
  if (n >= settings.service_names.size()) {
    problem = "'services': at most 7 on this board (the status page is the eighth)";
    return false;
  }
  settings.service_names[n] = kStatusService;
  settings.agent.service_names = {settings.service_names.data(), n + 1};
  TunnelSettings& t = settings.agent.tunnels;
  t.window = std::min(t.window, kBoardTunnelWindow);
  t.max_channels = std::min(t.max_channels, kBoardTunnelChannels);
  t.local_read_bytes = TCP_WND;
  t.max_frame_bytes = static_cast<uint32_t>(settings.link.max_send_message_bytes);
  return true;
}

size_t board_tunnel_memory(const DeviceSettings& settings, size_t static_bytes) {
  return TunnelService::memory_bound(settings.agent.tunnels) + static_bytes;
}

}  // namespace sublink::mps2
