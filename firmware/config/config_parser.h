// Reads the agent configuration file's JSON text (PROTOCOL.md section 7).
//
// Strict on purpose: the file is written by a person on an appliance, and a
// typo ("retry_max" for "retry_max_s") that silently fell back to a default
// would surface weeks later as a grace period of the wrong length. So an
// unknown key, a key given twice, a wrong type, a missing required key, a
// value out of range and settings that contradict each other are errors,
// each reported as one line naming the key and the problem.
#pragma once

#include <span>
#include <string_view>

#include "firmware/config/device_config.h"
#include "firmware/config/config_error.h"

namespace sublink {

/// Parses `json` into `config`, which is reset to the defaults first. On
/// error `config` holds partial values and must not be used. The JSON tree
/// lives in the installed JsonArena (or the heap on the host) only while
/// this runs. Set-up time only.
///
/// Keys: `server`, `customer_id`, `system_id`, `ca_file`, `cert_file`,
/// `key_file`, `license_key_file`, `state_dir` (required strings);
/// `ports` (1..8 distinct ports), `proxy` (http URL or null), `features`
/// ([{name, qty}]), `services` ({NAME: "host:port"}),
/// `management_methods` (wire method names), `connect_timeout_s`,
/// `retry_min_s`, `retry_max_s`, `grace_period_s`, `grace_alarm_delay_s`,
/// `grace_alarm_interval_s`, `checkpoint_s`, `grace_checkpoint_s`, `violation_retry_s` (integer seconds
/// 1..kMaxConfigSeconds), `stagger_ms` (0 allowed), `max_message_bytes`,
/// `max_channels` (1..64, default 8), `tunnel_window_bytes` (512..4194304,
/// default 524288: 10 Mbit/s at 200 ms RTT), `tunnel_idle_s` (integer seconds 1..kMaxConfigSeconds,
/// default 600), `ntp_wait_s` (0..kMaxNtpWaitSeconds, default 60), `ntp` (0..4 "host" or "host:port", port 123 by default,
/// IPv6 literals in brackets; default ["pool.ntp.org"]: the NTP servers the
/// platform sets its clock from, for diagnostics and firewall rules),
/// `log_level` (critical, error, warning, notice, info or debug: the least
/// severe level logged; default info). Also: retry_min_s <= retry_max_s and
/// grace_alarm_delay_s <= grace_period_s.
ConfigError parse_device_config(std::string_view json, DeviceConfig& config);

/// One key parse_device_config knows.
struct DeviceConfigKey {
  std::string_view name;
  bool required;
};

/// Every key parse_device_config knows, in its order (required first): the
/// list docs/sublink-config.schema.json is tested against.
std::span<const DeviceConfigKey> device_config_keys();

}  // namespace sublink
