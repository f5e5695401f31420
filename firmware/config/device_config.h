// The agent configuration (PROTOCOL.md section 7) in fixed-size storage, as
// parse_device_config (config_parser.h) fills it. Every string has a
// documented maximum length so the whole configuration is one object of
// known size, with no heap; durations are kept in 64-bit milliseconds so a
// grace period of years cannot overflow.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "firmware/grace/grace_config.h"
#include "firmware/license/license.h"
#include "hal/clock.h"
#include "net/connect/connect_policy.h"
#include "net/proxy/proxy_url.h"

namespace sublink {

/// Longest `server`: a DNS name (RFC 1035) or an IP literal.
inline constexpr size_t kMaxConfigServer = 253;
/// Longest path (`ca_file`, `cert_file`, `key_file`, `license_key_file`,
/// `state_dir`): enough for an appliance's /etc or /var layout.
inline constexpr size_t kMaxConfigPath = 255;
/// Longest `customer_id` / `system_id`: what a license can carry.
inline constexpr size_t kMaxConfigId = kMaxLicenseIdLength;
/// Longest `proxy` URL text.
inline constexpr size_t kMaxConfigProxy = 511;
/// Most `features` a device requests: what a license can grant.
inline constexpr size_t kMaxConfigFeatures = kMaxLicenseFeatures;
/// Most `services` a tunnel may reach, and the longest service name
/// (1..15 printable characters): with a separator and the longest operator
/// identity it fills the tunnel_opened event record's 31 text bytes.
inline constexpr size_t kMaxConfigServices = 8;
inline constexpr size_t kMaxServiceName = 15;
/// The operator identity the device keeps per channel, for tunnel_opened and
/// tunnels.list: 0..15 bytes. An OPEN may carry any (PROTOCOL.md section 6);
/// a longer one is kept as its first bytes and U+2026, control characters
/// as '?'. The server keeps the whole identity in its own records.
inline constexpr size_t kMaxTunnelOperator = 15;
/// `max_channels`: 1..16. tunnels.list of that many channels, each with the
/// longest service name and operator, fits one message of the agent
/// (Outbox::kBytes; checked where the answer is built).
inline constexpr uint32_t kMaxTunnelChannels = 16;
/// Longest host of a service endpoint.
inline constexpr size_t kMaxServiceHost = 253;
/// Largest accepted duration in seconds (100 years): beyond 2^31, so 32-bit
/// arithmetic anywhere on the way would show.
inline constexpr int64_t kMaxConfigSeconds = int64_t{100} * 365 * 86400;
/// The longest `ntp_wait_s`: a device with no clock links within the hour.
inline constexpr int64_t kMaxNtpWaitSeconds = 3600;

/// A feature the device asks for in `license_request`.
/// The `log_level` names and their syslog severities.
struct LogLevelName {
  std::string_view name;
  uint8_t severity;
};
inline constexpr LogLevelName kLogLevelNames[] = {{"critical", 2}, {"error", 3}, {"warning", 4},
                                                  {"notice", 5},   {"info", 6},  {"debug", 7}};
inline constexpr size_t kLogLevelNameCount = sizeof kLogLevelNames / sizeof kLogLevelNames[0];

struct ConfiguredFeature {
  BoundedString<kMaxFeatureNameLength> name;
  uint32_t qty = 0;
};

/// One `services` entry: NAME -> "host:port", the only local endpoints a
/// tunnel may be opened to.
struct ServiceEndpoint {
  BoundedString<kMaxServiceName> name;
  BoundedString<kMaxServiceHost> host;  // name or IP literal, IPv6 without brackets
  uint16_t port = 0;
};

/// Most `ntp` servers. The agent itself does not set the clock (the
/// platform does: an NTP daemon on Linux, lwIP's SNTP on a board); the list
/// says which servers the platform uses, so diagnostics can query them and
/// the firewall rules can name them.
inline constexpr size_t kMaxConfigNtpServers = 4;
/// The NTP server used when `ntp` is not given.
inline constexpr std::string_view kDefaultNtpServer = "pool.ntp.org";
inline constexpr uint16_t kNtpPort = 123;

/// One `ntp` entry: "host" or "host:port" (IPv6 literals in brackets).
struct NtpServer {
  BoundedString<kMaxServiceHost> host;
  uint16_t port = kNtpPort;
};

/// The `ntp` list when the key is absent: kDefaultNtpServer alone.
std::array<NtpServer, kMaxConfigNtpServers> default_ntp_servers();

/// The management methods the agent answers (PROTOCOL.md section 4), as bits
/// of DeviceConfig::management_methods.
enum class ManagementMethod : uint8_t {
  status_get = 0,
  license_refresh,
  audit_now,
  events_get,
  tunnels_list,
};
inline constexpr size_t kManagementMethodCount = 5;

/// Methods of the first protocol draft that the revision removed (tunnels
/// use binary frames, PROTOCOL.md section 6): a configuration naming one is
/// told so, by name.
inline constexpr std::string_view kRemovedManagementMethods[] = {"tunnel.open", "tunnel.close"};

/// Wire name of a method ("status.get").
std::string_view management_method_name(ManagementMethod method);

/// The method called `name`, or false when the agent knows no such method.
bool find_management_method(std::string_view name, ManagementMethod& method);

struct DeviceConfig {
  BoundedString<kMaxConfigServer> server;
  std::array<uint16_t, ConnectConfig::kMaxPorts> ports{443, 8443};
  size_t port_count = 2;
  bool has_proxy = false;
  ProxyUrl proxy;  // valid when has_proxy
  BoundedString<kMaxConfigId> customer_id;
  BoundedString<kMaxConfigId> system_id;
  BoundedString<kMaxConfigPath> ca_file;
  BoundedString<kMaxConfigPath> cert_file;
  BoundedString<kMaxConfigPath> key_file;
  BoundedString<kMaxConfigPath> license_key_file;
  BoundedString<kMaxConfigPath> state_dir;
  std::array<ConfiguredFeature, kMaxConfigFeatures> features{};
  size_t feature_count = 0;
  std::array<ServiceEndpoint, kMaxConfigServices> services{};
  size_t service_count = 0;
  std::array<NtpServer, kMaxConfigNtpServers> ntp = default_ntp_servers();
  size_t ntp_count = 1;  // 0: the clock is not set over NTP
  /// `log_level`: the least severe level logged, as a syslog severity (2
  /// critical .. 7 debug; LogLevel has the same numbers).
  uint8_t log_level = 6;

  // Timing (PROTOCOL.md defaults), converted from the file's units.
  Millis connect_timeout = 5 * kSecondMs;      // connect_timeout_s
  Millis stagger = 300;                        // stagger_ms (0: one attempt at a time)
  Millis retry_min = 1 * kSecondMs;            // retry_min_s
  Millis retry_max = 300 * kSecondMs;          // retry_max_s
  Millis grace_period = 30 * kDayMs;           // grace_period_s
  Millis grace_alarm_delay = 600 * kSecondMs;  // grace_alarm_delay_s
  Millis grace_alarm_interval = kDayMs;        // grace_alarm_interval_s
  Millis checkpoint = kHourMs;                 // checkpoint_s
  Millis violation_retry = 60 * kSecondMs;     // violation_retry_s: the least wait after closing with 1002/1007
  Millis grace_checkpoint = 60 * kSecondMs;    // grace_checkpoint_s (cost: see GraceConfig)
  Millis ntp_wait = 60 * kSecondMs;            // ntp_wait_s (0..3600): with no usable clock, the wait for NTP before linking
  uint32_t max_message_bytes = 65536;
  uint32_t max_channels = 8;
  // tunnel_window_bytes (512..4 MiB): each channel's receive window. Sized
  // from the bandwidth-delay product of a 10 Mbit/s path at 200 ms RTT
  // (250 kB): credit is renewed once half the window is free, so 512 KiB
  // keeps at least the BDP in flight (bench/tunnel: at least 80% of direct
  // TCP there). Memory: max_channels x (window + 32 KiB send queue +
  // ~0.2 KiB records) + ~17 KiB = 4.3 MiB at 8 channels, resident only as
  // channels fill (TunnelService::memory_bound).
  uint32_t tunnel_window_bytes = 512 * 1024;
  Millis tunnel_idle = 600 * kSecondMs;        // tunnel_idle_s: a channel idle this long is reset

  /// Bit i set: ManagementMethod i is allowed. Default: every method.
  uint8_t management_methods = (1u << kManagementMethodCount) - 1;

  std::span<const uint16_t> port_list() const { return {ports.data(), port_count}; }
  std::span<const ConfiguredFeature> feature_list() const { return {features.data(), feature_count}; }
  std::span<const ServiceEndpoint> service_list() const { return {services.data(), service_count}; }
  std::span<const NtpServer> ntp_list() const { return {ntp.data(), ntp_count}; }
  /// The endpoint configured for service `name`, or nullptr: an OPEN for
  /// any other name is refused.
  const ServiceEndpoint* find_service(std::string_view name) const;
  /// Whether a `request` with wire method `method` may be answered; false
  /// (answer not_allowed) also for methods the agent does not know.
  bool allows(std::string_view method) const;
  bool allows(ManagementMethod method) const {
    return (management_methods >> static_cast<uint8_t>(method)) & 1u;
  }
};

/// Ports and timing of a connection round, in the policy's units.
ConnectConfig to_connect_config(const DeviceConfig& config);

/// Grace timing; the clock-trust limits keep GraceConfig's defaults.
GraceConfig to_grace_config(const DeviceConfig& config);

}  // namespace sublink
