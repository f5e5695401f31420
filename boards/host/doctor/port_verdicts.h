// Judges the port probes (port_probe.h) into checks 4-7 of the doctor's
// report: TCP (direct or through the proxy), TLS, WebSocket upgrade and
// hello, round trip and throughput, each with the rule or fix that makes
// it pass. Comparing ports is what tells TLS inspection on one port from a
// wrong CA everywhere. Pure: no I/O.
#pragma once

#include <cstdint>
#include <vector>

#include "boards/host/doctor/check_line.h"
#include "boards/host/doctor/port_probe.h"
#include "firmware/config/device_config.h"

namespace sublink {

/// What appliances need from the link (issue 4): management traffic comes
/// back through it.
inline constexpr int64_t kMaxRoundTripUs = 200 * 1000;
inline constexpr int64_t kMinThroughputBitsPerSecond = 128 * 1000;

struct PortVerdicts {
  /// In check order: every TCP line, then TLS, WebSocket, hello, round
  /// trip and throughput lines; a port appears from its first failure on
  /// no more.
  std::vector<CheckLine> lines;
  /// Ports on which TCP, TLS, the upgrade and hello/welcome all passed.
  std::vector<uint16_t> working_ports;
};

PortVerdicts judge_ports(const DeviceConfig& config, const std::vector<PortProbe>& probes);

/// The median of `samples_us` (not empty).
int64_t median_us(std::vector<int64_t> samples_us);

/// Bits per second the pongs came back at, or -1 when fewer than two came.
int64_t throughput_bits_per_second(const PortProbe& probe);

/// "12.3 ms", "1.20 s".
std::string duration_us_text(int64_t us);
/// "512 kbit/s", "54.3 Mbit/s".
std::string rate_text(int64_t bits_per_second);

}  // namespace sublink
