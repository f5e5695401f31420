// The tunnel memory the device agent reserves, from TunnelService's own
// memory_bound() (the channel table's queues and slots, the service and its
// per-channel records), for the Linux default configuration and for a
// board's window: printed as one JSON object for bench_tunnel.py.
//
//   bench_tunnel_memory_bound [--board-window BYTES] [--board-channels N]
//
// Sizes are this build's (64-bit on the host) and each channel's send queue
// holds one host socket read (16 KiB) beside a frame: a 32-bit board with
// lwIP's smaller reads needs less, so the board's figure is an upper bound
// (the board's own is in its footprint report).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "firmware/agent/tunnel_service.h"
#include "firmware/config/device_config.h"

namespace {

using sublink::TunnelService;
using sublink::TunnelSettings;

void print_bound(const char* name, uint32_t window, uint16_t channels, const char* tail) {
  TunnelSettings s;
  s.window = window;
  s.max_channels = 1;
  const size_t one = TunnelService::memory_bound(s);
  s.max_channels = 2;
  const size_t per_channel = TunnelService::memory_bound(s) - one;
  s.max_channels = channels;
  const size_t bound = TunnelService::memory_bound(s);
  const sublink::TunnelMuxLimits limits = sublink::tunnel_mux_limits(s);
  std::printf(
      "\"%s\": {\"window\": %u, \"send_queue\": %u, \"max_channels\": %u, \"per_channel_bytes\": %zu, "
      "\"constant_bytes\": %zu, \"bound_bytes\": %zu}%s\n",
      name, window, limits.send_queue, channels, per_channel, bound - size_t{channels} * per_channel, bound, tail);
}

// A decimal argument in [lo, hi], or exit 2 naming it.
unsigned long number(const char* flag, const char* text, unsigned long lo, unsigned long hi) {
  char* end = nullptr;
  const unsigned long n = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || n < lo || n > hi) {
    std::fprintf(stderr, "bench_tunnel_memory_bound: %s: expected %lu..%lu, got '%s'\n", flag, lo, hi, text);
    std::exit(2);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  // The mps2-an385 board's tunnels: a 2 KiB window on 2 channels.
  unsigned long board_window = 2048;
  unsigned long board_channels = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--board-window") == 0) {
      board_window = number(argv[i], argv[i + 1], 512, 4194304);
    } else if (std::strcmp(argv[i], "--board-channels") == 0) {
      board_channels = number(argv[i], argv[i + 1], 1, 64);
    } else {
      std::fprintf(stderr, "bench_tunnel_memory_bound: unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "usage: bench_tunnel_memory_bound [--board-window BYTES] [--board-channels N]\n");
    return 2;
  }
  const sublink::DeviceConfig linux_default;
  std::printf("{\n");
  print_bound("linux", linux_default.tunnel_window_bytes, static_cast<uint16_t>(linux_default.max_channels), ",");
  print_bound("board", static_cast<uint32_t>(board_window), static_cast<uint16_t>(board_channels), "");
  std::printf("}\n");
  return 0;
}
