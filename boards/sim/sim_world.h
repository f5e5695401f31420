// One simulated world: a virtual clock, the simulated network, the
// subscription server and one device, deterministic from a seed. The run
// loop has no fixed tick: every step jumps to the earliest deadline among
// the agent (step), the link (poll), the server's sessions and the network's
// queued deliveries, so 30 days of grace pass in a fraction of a second.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "boards/sim/sim_credentials.h"
#include "boards/sim/sim_device.h"
#include "boards/sim/sim_server.h"
#include "boards/sim/sim_timeline.h"
#include "firmware/config/device_config.h"
#include "hal/sim/virtual_clock.h"
#include "net/sim/sim_network.h"

namespace sublink {

/// The configuration the simulated device runs with unless a scenario
/// changes it: server "localhost" (the name in the test PKI's server
/// certificate), customer C-1, system SYS-0001 (the test device
/// certificate's CN), features trunks x30 and recording x1, and every timing
/// at the PROTOCOL.md defaults (30 days of grace, 300 s backoff cap...).
DeviceConfig sim_default_device_config();

/// A start time for the world's UTC: the host's clock at the last whole
/// hour, plus 30 days. The test PKI's certificates start a day before they
/// were made, so a month of margin lets a device clock be set back days
/// without the server certificate looking "not yet valid".
Millis sim_default_start_utc();

struct SimWorldSetup {
  const SimCredentials* credentials = nullptr;  // must outlive the world
  /// Derives every random stream: devices, server, flash noise.
  uint64_t seed = 1;
  Millis start_utc = 0;  // 0: sim_default_start_utc()
  /// Latency (one way) and bandwidth between device and server.
  SimPath path{20, 0};
  DeviceConfig device_config = sim_default_device_config();
  /// What the server's records entitle the device to.
  std::map<std::string, uint32_t> entitlements = {{"trunks", 30}, {"recording", 1}};
  SessionSettings server_settings;
  /// See SimServerSetup::stop_forgets_tls_sessions.
  bool server_stop_forgets_tls_sessions = false;
  /// NTP after boot (see SimDeviceSetup::ntp_after_boot_ms).
  Millis ntp_after_boot_ms = -1;
  /// See SimDeviceSetup::rtc_trusted_at_boot.
  bool rtc_trusted_at_boot = false;
  size_t event_capacity = 64;
  /// Timeline lines kept (see SimTimeline); a fleet needs more.
  size_t timeline_entries = 200000;
  /// See SimDeviceSetup::on_invariant_broken (every device of the world).
  std::function<void(const std::string&)> on_invariant_broken;
};

class SimWorld {
 public:
  static constexpr const char* kServerName = "localhost";

  explicit SimWorld(const SimWorldSetup& setup);
  ~SimWorld();
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;

  /// Starts the server and boots the device.
  Status start();

  /// Runs every event and deadline up to world time `t` (ms since start).
  void run_until(Millis t);
  void run_for(Millis duration) { run_until(now() + duration); }
  /// Runs in steps of `step` until `done()` or `limit` ms passed; returns done().
  template <class F>
  bool run_until(F done, Millis limit, Millis step = 1000) {
    const Millis end = now() + limit;
    while (!done() && now() < end) run_until(std::min(end, now() + step));
    return done();
  }

  /// World time: ms since the start of the run; and the true UTC now.
  Millis now() const { return net_.now(); }
  Millis utc() { return clock_.now().utc_ms; }

  /// Adds a second appliance with the device's configuration and
  /// credentials (a clone: one identity) but its own flash and random
  /// stream, at `address`, named `name` in the timeline; powered off until
  /// its boot().
  SimDevice& add_clone(const std::string& name, IpAddress address);

  /// Adds another appliance of the fleet: its own identity (`system_id`,
  /// the CN of the certificate in `credentials`, which must outlive the
  /// world), registered with the server and entitled as the first device;
  /// the first device's configuration otherwise, its own flash and random
  /// stream, at `address`, named `name` in the timeline. Powered off until
  /// its boot().
  SimDevice& add_device(const std::string& name, IpAddress address, const SimCredentials& credentials,
                        std::string_view system_id);
  /// Every device added by add_clone() or add_device(), in order.
  const std::vector<std::unique_ptr<SimDevice>>& added_devices() const { return clones_; }

  /// The device's own link to the network is lost (every connection reset,
  /// connects unreachable) while `down`.
  void device_link_down(bool down);

  SimNetwork& net() { return net_; }
  SimServer& server() { return *server_; }
  SimDevice& device() { return *device_; }
  SimTimeline& timeline() { return timeline_; }
  const SimWorldSetup& setup() const { return setup_; }

 private:
  SimDevice& add_member(const std::string& name, IpAddress address, const SimCredentials& credentials,
                        std::string_view system_id);

  SimWorldSetup setup_;
  VirtualClock clock_;
  SimTimeline timeline_;
  SimNetwork net_;
  std::unique_ptr<SimServer> server_;
  std::unique_ptr<SimDevice> device_;
  std::vector<std::unique_ptr<SimDevice>> clones_;
  WallClock* previous_tls_clock_;
};

}  // namespace sublink
