// What the agent needs from the device's configuration (PROTOCOL.md section
// 7) and its build. Plain data: the JSON configuration parser fills it, a
// board can also fill it by hand. Every view must outlive the Agent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "firmware/agent/tunnel_handler.h"
#include "firmware/config/device_config.h"
#include "firmware/grace/grace_config.h"
#include "firmware/protocol/device_messages.h"
#include "hal/clock.h"
#include "hal/log_sink.h"
#include "net/link/socket_driver.h"
#include "net/tunnel/tunnel_frame.h"

namespace sublink {

class CertificateDateClock;

/// Management methods allowed when the configuration says nothing: the
/// read-only and self-service ones (every method the agent has).
inline constexpr std::string_view kDefaultAllowedMethods[] = {"status.get", "license.refresh", "audit.now",
                                                              "events.get", "tunnels.list"};

/// The tunnel configuration (DeviceConfig's `services`, `max_channels`,
/// `tunnel_window_bytes`, `tunnel_idle_s`, `connect_timeout_s`).
struct TunnelSettings {
  /// The only endpoints channels may reach. Empty: every OPEN is refused
  /// (unknown_service).
  std::span<const ServiceEndpoint> services;
  uint16_t max_channels = 8;
  /// The receive window granted per channel (1..2^31-1).
  uint32_t window = 65536;
  Millis idle_ms = 600 * kSecondMs;
  Millis connect_timeout_ms = 5 * kSecondMs;
  /// Services inside the image (a board's status page): an OPEN for one
  /// of these names goes to its handler; the names are looked up before
  /// `services`. Empty on Linux.
  std::span<const TunnelHandlerEntry> handlers;
  /// The most bytes one local socket read brings (the socket backend's
  /// limit: kSocketMaxReceive, lwIP's receive window on a board): each
  /// channel's send queue holds that much beside a DATA frame (1..2^24).
  uint32_t local_read_bytes = kSocketMaxReceive;
  /// The largest tunnel frame the link sends (its send limit per binary
  /// message; kTunnelHeaderBytes + 512 .. kTunnelMaxFrameBytes).
  uint32_t max_frame_bytes = kTunnelMaxFrameBytes;
};

struct AgentConfig {
  std::string_view customer_id;
  std::string_view system_id;
  std::string_view agent_version = "0.1.0";
  std::string_view fw;  // the appliance firmware version, as sent in hello
  /// Features asked for in license_request and counted for audits (at most
  /// kMaxLicenseFeatures; the rest is ignored).
  std::span<const FeatureRequest> features;
  /// Request methods the server may call; anything else is not_allowed.
  std::span<const std::string_view> allowed_methods = kDefaultAllowedMethods;
  GraceConfig grace;
  /// Undelivered events kept (older ones are summarised, see EventQueue).
  size_t event_capacity = 64;
  /// Events per `event` message.
  size_t event_batch = 8;
  /// How often the device clock is read for rollback/skew detection.
  Millis wall_clock_poll_ms = 60 * 1000;
  /// After the agent closed the link for a protocol violation (1002/1007/
  /// 1009), it starts connecting again after this long.
  Millis violation_retry_ms = 60 * 1000;
  /// PROTOCOL.md section 2: a device with no usable clock (an RTC lost at
  /// power-up: certificate_clock reads `build`) waits this long for NTP to
  /// set its clock before the first link checks certificate dates against
  /// the firmware's build time; 0 when no NTP server is configured.
  Millis ntp_wait_ms = 60 * 1000;
  /// After a refused license_grant, while no valid license is held and no
  /// license_request awaits its answer, the agent asks again after
  /// license_retry_min_ms, doubling per refusal up to license_retry_max_ms:
  /// a server that keeps sending a bad grant is not flooded, and a device
  /// is not left unlicensed until its link happens to break. An accepted
  /// license or a new link starts again at the minimum.
  Millis license_retry_min_ms = 1000;
  Millis license_retry_max_ms = 300 * 1000;
  LogSink log;
  /// The clock TLS checks certificate dates with (PROTOCOL.md section 2),
  /// when the board installed one: the agent tells it the server's time
  /// from `welcome` and heartbeat_ack, logs which clock is in use when that
  /// changes and shows it in the status. Must outlive the agent.
  CertificateDateClock* certificate_clock = nullptr;
  /// The tunnels (PROTOCOL.md section 6): used by a board that gives the
  /// agent a TunnelService; hello's `services` lists service_names.
  TunnelSettings tunnels;
  std::span<const std::string_view> service_names;
  /// The platform resolver's own words for the detail of a dns_failed
  /// answer (gai_strerror on Linux), shown in last_failure beside the
  /// hint; nullptr (or a nullptr answer) when the platform has none.
  const char* (*resolver_words)(int32_t detail) = nullptr;
};

}  // namespace sublink
