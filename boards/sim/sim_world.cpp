#include "boards/sim/sim_world.h"

#include <chrono>

#include "net/tls/tls_time.h"

namespace sublink {

DeviceConfig sim_default_device_config() {
  DeviceConfig c;
  c.server.assign(SimWorld::kServerName);
  c.customer_id.assign("C-1");
  c.system_id.assign("SYS-0001");
  c.features[0].name.assign("trunks");
  c.features[0].qty = 30;
  c.features[1].name.assign("recording");
  c.features[1].qty = 1;
  c.feature_count = 2;
  return c;
}

Millis sim_default_start_utc() {
  const Millis host = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return host / kHourMs * kHourMs + 30 * kDayMs;
}

SimWorld::SimWorld(const SimWorldSetup& setup)
    : setup_(setup),
      clock_(setup.start_utc != 0 ? setup.start_utc : sim_default_start_utc()),
      timeline_(setup.timeline_entries),
      net_(clock_),
      previous_tls_clock_(installed_tls_wall_clock()) {
  // Outside a device's own code (which installs its RTC), certificates are
  // checked against the true time: that is the server's view.
  install_tls_wall_clock(&clock_);

  SimServerSetup server;
  server.credentials = setup_.credentials;
  server.settings = setup_.server_settings;
  server.stop_forgets_tls_sessions = setup_.server_stop_forgets_tls_sessions;
  server.seed = setup_.seed * 0x9E3779B97F4A7C15ULL + 2;
  server_ = std::make_unique<SimServer>(net_, server, timeline_);
  SystemRecord record;
  record.customer_id = std::string(setup_.device_config.customer_id.view());
  record.system_id = std::string(setup_.device_config.system_id.view());
  record.entitlements = setup_.entitlements;
  server_->directory().put_system(record);

  SimDeviceSetup device;
  device.config = setup_.device_config;
  device.credentials = setup_.credentials;
  device.seed = setup_.seed * 0x9E3779B97F4A7C15ULL + 1;
  device.ntp_after_boot_ms = setup_.ntp_after_boot_ms;
  device.rtc_trusted_at_boot = setup_.rtc_trusted_at_boot;
  device.event_capacity = setup_.event_capacity;
  device.on_invariant_broken = setup_.on_invariant_broken;
  device.welcomes_sent = [this] { return server_->welcomes(); };
  device_ = std::make_unique<SimDevice>(net_, device, timeline_);

  net_.set_default_path(setup_.path);
  net_.set_dns(kServerName, {server_->address()});
}

SimDevice& SimWorld::add_clone(const std::string& name, IpAddress address) {
  return add_member(name, address, *setup_.credentials, setup_.device_config.system_id.view());
}

SimDevice& SimWorld::add_device(const std::string& name, IpAddress address, const SimCredentials& credentials,
                                std::string_view system_id) {
  SystemRecord record;
  record.customer_id = std::string(setup_.device_config.customer_id.view());
  record.system_id = std::string(system_id);
  record.entitlements = setup_.entitlements;
  server_->directory().put_system(record);
  return add_member(name, address, credentials, system_id);
}

SimDevice& SimWorld::add_member(const std::string& name, IpAddress address, const SimCredentials& credentials,
                                std::string_view system_id) {
  SimDeviceSetup member;
  member.config = setup_.device_config;
  member.config.system_id.assign(system_id);
  member.credentials = &credentials;
  member.address = address;
  member.name = name;
  member.seed = setup_.seed * 0x9E3779B97F4A7C15ULL + 3 + clones_.size();
  member.ntp_after_boot_ms = setup_.ntp_after_boot_ms;
  member.event_capacity = setup_.event_capacity;
  member.on_invariant_broken = setup_.on_invariant_broken;
  member.welcomes_sent = [this] { return server_->welcomes(); };
  clones_.push_back(std::make_unique<SimDevice>(net_, member, timeline_));
  return *clones_.back();
}

SimWorld::~SimWorld() {
  clones_.clear();
  device_.reset();
  server_.reset();
  install_tls_wall_clock(previous_tls_clock_);
}

Status SimWorld::start() {
  Status s = server_->start();
  if (!s.ok()) return s;
  return device_->boot();
}

void SimWorld::run_until(Millis t) { net_.run_until(t); }

void SimWorld::device_link_down(bool down) {
  timeline_.add(now(), "net", down ? "device link lost" : "device link back");
  net_.set_link_down(device_->address(), down);
}

}  // namespace sublink
