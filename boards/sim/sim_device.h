// One simulated device, wired exactly as a real board wires it: the Agent
// on a Link (real TLS 1.2 with the device certificate) over the simulated
// network's SocketDriver, durable records in a FlashRecordStore on a NOR
// flash that survives reboots and power cuts, a monotonic clock that starts
// again at every boot, a battery-backed RTC that keeps running while the
// device is off (and can be set, jumped, lost, or synchronised by NTP), and
// a fixed JSON arena for cJSON.
//
// What a scenario does to it: boot, orderly reboot, power off (for a while),
// power cut inside the Nth storage write, clock changes. What it shows:
// the agent's status, the events it has durably recorded, a timeline line
// for every state change, link change, event and log line.
//
// The device lives in the world's virtual time: poll() is registered with
// the network as a pollable and runs the AgentRunner (agent.step, link.poll), so the
// run loop jumps straight to the next deadline. Host-only (std containers).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "boards/sim/sim_credentials.h"
#include "boards/sim/sim_storage.h"
#include "boards/sim/sim_timeline.h"
#include "firmware/agent/agent.h"
#include "firmware/agent/agent_runner.h"
#include "firmware/agent/device_settings.h"
#include "boards/sim/sim_invariants.h"
#include "firmware/config/device_config.h"
#include "firmware/events/event_queue.h"
#include "firmware/json/json_arena.h"
#include "hal/sim/deterministic_random.h"
#include "hal/sim/device_clocks.h"
#include "net/link/link.h"
#include "net/sim/sim_network.h"

namespace sublink {

struct SimDeviceSetup {
  /// The configuration as a board parses it; the file names in it are not
  /// used (the PEM texts come from `credentials`), everything else is.
  DeviceConfig config;
  const SimCredentials* credentials = nullptr;  // must outlive the device
  IpAddress address = IpAddress::parse("10.0.0.2");
  /// Who the timeline says is speaking ("device"; a second appliance has its own name).
  std::string name = "device";
  std::string fw = "sim-1";
  /// Flash part and record layout (two slots of whole sectors per record).
  NorGeometry flash{4096, 4, 64};
  FlashLayout layout{0, 6, 8192};
  /// Bytes of the cJSON arena (what a board reserves for its messages).
  size_t json_arena_bytes = 48 * 1024;
  /// Undelivered events kept (AgentConfig::event_capacity).
  size_t event_capacity = 64;
  /// Seeds the device's random source (TLS, WebSocket keys, backoff jitter)
  /// and the bits an interrupted flash operation leaves.
  uint64_t seed = 1;
  /// When >= 0, NTP answers this long after every boot (the RTC becomes
  /// correct and trusted); < 0: no NTP server is reachable.
  Millis ntp_after_boot_ms = -1;
  /// A trusted clock at hand from the first instant of every boot (a board
  /// with a disciplined RTC, or a Linux host whose clock the system keeps
  /// in sync before the agent starts): the RTC is correct and trusted when
  /// the agent boots, whether NTP is reachable or not.
  bool rtc_trusted_at_boot = false;
  /// Called with what broke whenever an invariant of model/sublink.pml
  /// fails after a step of the device's code (see SimInvariants); the
  /// timeline says it too ("INVARIANT ...").
  std::function<void(const std::string&)> on_invariant_broken;
  /// `welcome`s the server has sent so far (for the invariants; nullptr: 0).
  std::function<uint64_t()> welcomes_sent;
};

/// When a boot observer is called.
enum class SimBootPhase : uint8_t {
  mounted,  // storage mounted, the agent not yet built: records as the cut left them
  booted,   // Agent::boot() returned, the link not yet started
};

class SimDevice final {
 public:
  using BootObserver = std::function<void(SimDevice&, SimBootPhase)>;

  /// Registers with `net` (client host at setup.address, a pollable). `net`
  /// and `timeline` must outlive the device. Starts powered off.
  SimDevice(SimNetwork& net, const SimDeviceSetup& setup, SimTimeline& timeline);
  ~SimDevice();
  SimDevice(const SimDevice&) = delete;
  SimDevice& operator=(const SimDevice&) = delete;

  // ---- Power --------------------------------------------------------------
  /// Powers on and boots: mounts storage, loads credentials, boots the agent
  /// and starts the link. A failure to load credentials or mount leaves the
  /// device off and is returned; a storage error of Agent::boot is only noted.
  Status boot();
  /// Orderly reboot: the agent shuts down (link closed with 1001, grace
  /// account stored), and once the close handshake is done (at most kRebootCloseMs of virtual time later)
  /// the device boots again. Takes effect as the world runs.
  void reboot();
  static constexpr Millis kRebootCloseMs = 2000;
  /// The power goes now: no close, no FIN; sockets vanish. With `for_ms`
  /// the power comes back (and the device boots) after that long.
  void power_off(Millis for_ms = kNever);
  /// Cuts the power inside storage write `write_index` (1-based over the
  /// device's life) after `operations_in` of its flash operations.
  void cut_power_in_write(uint64_t write_index, uint64_t operations_in);
  /// Right after storage write `write_index` (1-based over the device's
  /// life) stores its value, the power goes, the whole storage is wiped
  /// and the power comes back `back_after_ms` later: a state lost at that
  /// point of a scenario.
  void wipe_after_write(uint64_t write_index, Millis back_after_ms);
  uint64_t wipes() const { return wipes_; }
  /// The events the device's log held when its state was wiped (lost with
  /// it unless the server already had them).
  const std::vector<Event>& wiped_events() const { return wiped_events_; }
  /// Cuts the power inside writes at random (see SimStorage::cut_power_randomly).
  void cut_power_randomly(uint64_t one_in, uint64_t seed) { storage_.cut_power_randomly(one_in, seed); }
  /// After a power cut the power comes back after `delay_ms` (kNever: stays off).
  void set_power_back_after_cut(Millis delay_ms) { power_back_after_cut_ = delay_ms; }
  /// Called at each boot phase (checks of a power-cut sweep).
  void set_boot_observer(BootObserver observer) { boot_observer_ = std::move(observer); }
  bool on() const { return running_ != nullptr; }
  uint64_t power_cuts() const { return power_cuts_; }
  /// Invariant failures seen so far (see SimDeviceSetup::on_invariant_broken).
  uint64_t invariants_broken() const { return invariants_broken_; }

  // ---- The device's real-time clock ------------------------------------------
  void set_clock(Millis utc_ms);
  void jump_clock(Millis delta_ms);
  void lose_clock();
  void ntp_sync();
  const SimRtc& rtc() const { return rtc_; }

  // ---- Observation ---------------------------------------------------------
  /// The running agent, nullptr while off.
  Agent* agent();
  Link* link();
  /// The agent's status (state unlicensed, link down while off).
  AgentStatus status() const;
  /// The events in the durable event record now (empty while off).
  std::vector<Event> stored_events();
  /// Every event the device stored durably over its life, in the order first
  /// stored: what must reach the server (an event folded into a summary by
  /// a full queue reaches it only as part of that summary).
  const std::vector<Event>& recorded_events() const { return recorded_; }
  /// Storage ledger and flash (persist across boots).
  SimStorage& storage() { return storage_; }
  /// Monotonic time of the current boot.
  Millis uptime_ms() { return boot_clock_.now_ms(); }
  /// Connection rounds that failed, over the device's life.
  uint64_t failed_rounds() const { return failed_rounds_; }
  /// Peak use of the JSON arena.
  size_t json_high_water() const { return arena_.high_water(); }
  const IpAddress& address() const { return setup_.address; }

  /// The pollable: does what is due at world time `world_now`; returns the
  /// world time of the next deadline.
  Millis poll(Millis world_now);

 private:
  struct Running;
  class Listener;
  class Scope;

  void note(std::string what);
  void after_entry();
  void finish_reboot();
  void lose_power(const std::string& why);
  void schedule_boot(Millis at_world, const char* why);
  void schedule_ntp();
  void record_events(std::span<const uint8_t> record);

  SimNetwork& net_;
  SimDeviceSetup setup_;
  SimTimeline& timeline_;
  SimBootClock boot_clock_;
  SimRtc rtc_;
  DeterministicRandom random_;
  SimStorage storage_;
  std::vector<uint8_t> arena_bytes_;
  JsonArena arena_;
  DeviceSettings settings_;  // the agent's and the link's configuration
  std::unique_ptr<Running> running_;
  std::unique_ptr<Listener> listener_;
  EventQueue scratch_events_;  // decodes event records for the timeline
  std::map<StreamId, uint64_t> last_logged_seq_;  // per event stream
  uint64_t wipe_after_write_ = 0;                  // 0: no wipe planned
  Millis wipe_back_after_ = 0;
  bool wipe_pending_ = false;
  uint64_t wipes_ = 0;
  std::vector<Event> wiped_events_;
  std::vector<Event> recorded_;
  SimInvariants invariants_;
  uint64_t invariants_broken_ = 0;
  uint64_t grace_writes_refused_ = 0;  // at the last boot
  uint64_t boots_ = 0;            // boots in this simulation (the agent counts its own)
  uint64_t power_epoch_ = 0;      // changes at every power change: stale timers see it
  uint64_t power_cuts_ = 0;
  uint64_t failed_rounds_ = 0;
  bool cut_pending_ = false;
  bool rebooting_ = false;
  Millis reboot_deadline_ = kNever;
  uint64_t pollable_ = 0;
  Millis power_back_after_cut_ = kNever;
  BootObserver boot_observer_;
  std::optional<LicenseState> last_state_;
};

}  // namespace sublink
