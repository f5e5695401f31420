#include "firmware/agent/device_settings.h"

#include <algorithm>

#include "net/tunnel/tunnel_frame.h"

namespace sublink {

void derive_device_settings(const DeviceConfig& config, DeviceSettings& out) {
  AgentConfig& a = out.agent;
  a.customer_id = config.customer_id.view();
  a.system_id = config.system_id.view();
  size_t n = 0;
  for (const ConfiguredFeature& f : config.feature_list()) out.features[n++] = {f.name.view(), f.qty};
  a.features = {out.features.data(), n};
  n = 0;
  for (size_t i = 0; i < kManagementMethodCount; ++i) {
    auto method = static_cast<ManagementMethod>(i);
    if (config.allows(method)) out.methods[n++] = management_method_name(method);
  }
  a.allowed_methods = {out.methods.data(), n};
  a.grace = to_grace_config(config);
  // Asking for a license again backs off like connecting: both are the
  // device knocking at the same server.
  a.license_retry_min_ms = config.retry_min;
  a.license_retry_max_ms = config.retry_max;
  // PROTOCOL.md 1.5: after closing for a protocol violation (1002, 1007).
  a.violation_retry_ms = config.violation_retry;
  // PROTOCOL.md 2: nothing to wait for when no NTP server is configured.
  a.ntp_wait_ms = config.ntp_count > 0 ? config.ntp_wait : 0;
  n = 0;
  for (const ServiceEndpoint& s : config.service_list()) out.service_names[n++] = s.name.view();
  a.service_names = {out.service_names.data(), n};
  a.tunnels.services = config.service_list();
  a.tunnels.max_channels = static_cast<uint16_t>(config.max_channels);
  a.tunnels.window = config.tunnel_window_bytes;
  a.tunnels.idle_ms = config.tunnel_idle;
  // Local services answer a connect as fast as the server does, or faster.
  a.tunnels.connect_timeout_ms = config.connect_timeout;

  LinkConfig& l = out.link;
  l.server = config.server.view();
  l.connect = to_connect_config(config);
  l.proxy = config.has_proxy ? &config.proxy : nullptr;
  l.max_message_bytes = config.max_message_bytes;
  // Tunnel frames: what max_message_bytes allows, or a whole DATA frame the
  // window and PROTOCOL.md section 6's early data let the server send.
  l.max_binary_message_bytes =
      std::max<size_t>(config.max_message_bytes, tunnel_largest_data_frame(config.tunnel_window_bytes));
}

}  // namespace sublink
