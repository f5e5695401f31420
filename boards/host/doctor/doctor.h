// `sublinkctl doctor`: why can (or can't) this appliance keep its
// subscription link? Runs the checks in the order a site engineer would
// (configuration and files, clock and NTP, DNS, then per server port TCP
// or the proxy, TLS, WebSocket upgrade and hello, round trip and
// throughput) against the real configuration and the real network, and
// reports one PASS/WARN/FAIL line per check with the fix.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "boards/host/doctor/check_line.h"
#include "boards/host/doctor/port_probe.h"

namespace sublink {

struct DoctorOptions {
  std::string config_path;
  /// Where the DNS servers are read from (firewall rules and hints).
  std::string resolv_conf = "/etc/resolv.conf";
  /// Per NTP address.
  int ntp_timeout_ms = 2000;
  /// Heartbeats, throughput burst and hello identity; the identity is
  /// filled from the running sublinkd when it answers.
  ProbeSettings probe;
};

struct DoctorReport {
  std::vector<CheckLine> lines;
  /// Ports on which TCP, TLS, the upgrade and hello all passed.
  std::vector<uint16_t> working_ports;
  /// The configuration has no FAIL and at least one port works.
  bool link_can_work = false;
};

/// Runs every check. `on_line` is called with each line as soon as it is
/// decided (the port lines once every port is probed).
DoctorReport run_doctor(const DoctorOptions& options, const std::function<void(const CheckLine&)>& on_line);

/// The last line of the text report: the verdict in one sentence.
std::string doctor_summary(const DoctorReport& report);

/// The report as one JSON object: {"config", "link_can_work",
/// "working_ports", "checks": [{"check", "verdict", "what", "fix", "port",
/// facts...}]}.
std::string doctor_json(const std::string& config_path, const DoctorReport& report);

}  // namespace sublink
