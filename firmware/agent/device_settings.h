// From the device's configuration (PROTOCOL.md section 7, DeviceConfig) to
// what the agent and the link are constructed with. Every board wires the
// agent from a DeviceConfig the same way, so the translation lives here
// once rather than in each board's main().
#pragma once

#include <array>
#include <string_view>

#include "firmware/agent/agent_config.h"
#include "firmware/config/device_config.h"
#include "net/link/link.h"

namespace sublink {

/// The agent's and the link's configuration, with the storage their spans
/// point into. Views refer to the DeviceConfig it was derived from, which
/// must outlive it (and the Agent and Link built from it).
struct DeviceSettings {
  AgentConfig agent;
  LinkConfig link;
  std::array<FeatureRequest, kMaxConfigFeatures> features{};
  std::array<std::string_view, kManagementMethodCount> methods{};
  std::array<std::string_view, kMaxConfigServices> service_names{};

  DeviceSettings() = default;
  // The spans point into this object.
  DeviceSettings(const DeviceSettings&) = delete;
  DeviceSettings& operator=(const DeviceSettings&) = delete;
};

/// Fills `out` from `config`: ids, features, allowed methods, grace timing,
/// license retry backoff, tunnels and service names (agent); server, ports, timing, proxy and message
/// size (link). Fields the configuration does not cover (fw, log sink, user
/// agent) keep their defaults for the board to set.
void derive_device_settings(const DeviceConfig& config, DeviceSettings& out);

}  // namespace sublink
