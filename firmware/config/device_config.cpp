#include "firmware/config/device_config.h"

namespace sublink {

namespace {

constexpr std::array<std::string_view, kManagementMethodCount> kMethodNames = {
    "status.get", "license.refresh", "audit.now", "events.get", "tunnels.list",
};

}  // namespace

std::string_view management_method_name(ManagementMethod method) {
  auto i = static_cast<size_t>(method);
  return i < kMethodNames.size() ? kMethodNames[i] : std::string_view("unknown");
}

bool find_management_method(std::string_view name, ManagementMethod& method) {
  for (size_t i = 0; i < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == name) {
      method = static_cast<ManagementMethod>(i);
      return true;
    }
  }
  return false;
}

std::array<NtpServer, kMaxConfigNtpServers> default_ntp_servers() {
  std::array<NtpServer, kMaxConfigNtpServers> servers{};
  servers[0].host.assign(kDefaultNtpServer);
  return servers;
}

const ServiceEndpoint* DeviceConfig::find_service(std::string_view name) const {
  for (const ServiceEndpoint& s : service_list()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool DeviceConfig::allows(std::string_view method) const {
  ManagementMethod m{};
  return find_management_method(method, m) && allows(m);
}

ConnectConfig to_connect_config(const DeviceConfig& config) {
  ConnectConfig out;
  out.ports = config.ports;
  out.port_count = config.port_count;
  out.stagger_ms = config.stagger;
  out.connect_timeout_ms = config.connect_timeout;
  out.retry_min_ms = config.retry_min;
  out.retry_max_ms = config.retry_max;
  return out;
}

GraceConfig to_grace_config(const DeviceConfig& config) {
  GraceConfig out;
  out.grace_period = config.grace_period;
  out.alarm_delay = config.grace_alarm_delay;
  out.alarm_interval = config.grace_alarm_interval;
  out.checkpoint_interval = config.checkpoint;
  out.grace_checkpoint = config.grace_checkpoint;
  return out;
}

}  // namespace sublink
