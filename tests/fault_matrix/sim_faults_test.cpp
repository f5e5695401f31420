// Fault matrix rows on the virtual-time simulation (boards/sim): the whole
// agent over real TLS 1.2 with the server core, its flash, its clocks. Each
// row injects one fault into a licensed device and asserts the four things
// of the matrix:
//  1. the agent keeps running (or boots again cleanly), and the model's
//     invariants (SimInvariants) hold at every step of the run;
//  2. it reports the right reason (`last_failure` or the event it stores);
//  3. no licensed state, grace time or event is lost or duplicated: the
//     license it held is in force again, grace elapsed is what the clock
//     says, every stored event reached the server exactly once;
//  4. memory does not grow: the device's share of the Mbed TLS arena (one
//     fixed arena for both sides of the world, measured with the server
//     stopped) is no larger after the fault and the recovery than before,
//     and the JSON arena stays under its size. (The 10,000-reconnect row,
//     reconnect_soak_test.cpp, checks the high-water mark and RSS.)
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fault_matrix/fault_row.h"
#include "net/tls/tls_arena.h"
#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

constexpr size_t kTlsArenaBytes = 4 << 20;  // device and server of one world
constexpr Millis kMinute = 60 * kSecondMs;

class FaultMatrix : public ::testing::Test {
 protected:
  FaultMatrix() : tls_memory_(kTlsArenaBytes), tls_arena_(tls_memory_) {}

  /// Starts a world (setup adjusted by `configure`) and runs it until the
  /// device is licensed; records the baselines the checks compare with.
  void start_licensed(uint64_t seed = 1, const std::function<void(SimWorldSetup&)>& configure = {}) {
    SimWorldSetup setup = scenario_setup(seed);
    if (configure) configure(setup);
    world_ = std::make_unique<SimWorld>(setup);
    ASSERT_TRUE(world_->start().ok());
    ASSERT_TRUE(sim_until_licensed(*world_)) << timeline_text(*world_);
    ASSERT_TRUE(sim_until_events_delivered(*world_));
    // One reconnect before the baseline: from then on the device keeps a
    // TLS session to resume, which the measurements after a fault include.
    ASSERT_TRUE(world_->server().drop_connection());
    ASSERT_TRUE(sim_until_licensed(*world_)) << timeline_text(*world_);
    world_->run_for(5 * kMinute);
    tls_baseline_ = device_tls_bytes();
    ASSERT_TRUE(sim_until_licensed(*world_)) << timeline_text(*world_);
    ASSERT_TRUE(sim_until_events_delivered(*world_));
    serial_ = std::string(world_->device().status().serial);
    grace_started_ = stored_count(EventKind::grace_started);
  }

  SimWorld& world() { return *world_; }
  AgentStatus status() { return world_->device().status(); }
  std::string reason() { return std::string(status().last_failure.reason); }

  // ---- The four checks ------------------------------------------------------------
  /// 1: powered, booted, the invariants held at every step so far.
  void expect_running() {
    EXPECT_TRUE(world_->device().on()) << timeline_text(*world_);
    EXPECT_NE(world_->device().agent(), nullptr);
    EXPECT_EQ(world_->device().invariants_broken(), 0u) << timeline_text(*world_);
  }
  /// The license the device held before the fault is still in force, with
  /// every feature on.
  void expect_license_kept() {
    EXPECT_TRUE(status().license_held) << timeline_text(*world_);
    EXPECT_EQ(std::string(status().serial), serial_);
    EXPECT_TRUE(world_->device().agent()->feature_enabled("trunks"));
  }
  /// Timeline lines of the device starting with `prefix`.
  size_t device_lines(const std::string& prefix) {
    return world_->timeline().lines_starting("device", prefix).size();
  }
  /// 2: `last_failure` names `expected`.
  void expect_reason(const std::string& expected) {
    EXPECT_EQ(reason(), expected) << "last_failure detail: " << status().last_failure.detail << "\n"
                                  << timeline_text(*world_);
  }
  /// 3: relinked and licensed with the license the server issued last
  /// (it issues one at every link), grace over, every stored event at the
  /// server exactly once.
  void expect_nothing_lost() {
    ASSERT_TRUE(sim_until_licensed(*world_, 15 * kMinute)) << timeline_text(*world_);
    EXPECT_EQ(std::string(status().serial), world_->server().directory().issued().back().serial)
        << timeline_text(*world_);
    EXPECT_EQ(status().grace_elapsed_s, 0);
    EXPECT_TRUE(world_->device().agent()->feature_enabled("trunks"));
    ASSERT_TRUE(sim_until_events_delivered(*world_));
    EXPECT_TRUE(delivered_exactly_once(*world_)) << timeline_text(*world_);
  }
  /// The TLS memory the device holds with no connection: the server is
  /// stopped (which frees every server-side session of the shared arena and
  /// resets the device's link), measured, and started again.
  size_t device_tls_bytes() {
    world_->server().stop();
    world_->run_for(kSecondMs);
    const size_t bytes = TlsArena::current_bytes();
    EXPECT_TRUE(world_->server().start().ok());
    return bytes;
  }
  /// 4: the device holds no more TLS memory than before the fault (its
  /// configuration and the session it resumes; nothing of the broken
  /// connections stayed), and its JSON arena stayed under its size.
  void expect_memory_flat() {
    const size_t bytes = device_tls_bytes();
    EXPECT_LE(bytes, tls_baseline_ + kSlack) << "TLS memory kept after the fault: " << bytes << " bytes, "
                                             << tls_baseline_ << " before";
    EXPECT_LT(world_->device().json_high_water(), size_t{48 * 1024});
  }
  // The session kept for resumption varies by a few bytes (ticket length);
  // what one broken connection would leave is tens of KiB.
  static constexpr size_t kSlack = 1024;

  /// Events of `kind` the device stored over its life.
  size_t stored_count(EventKind kind) {
    size_t n = 0;
    for (const Event& e : world_->device().recorded_events()) n += e.kind == kind;
    return n;
  }

  std::vector<uint8_t> tls_memory_;
  TlsArena tls_arena_;
  std::unique_ptr<SimWorld> world_;
  std::string serial_;
  size_t grace_started_ = 0;  // grace_started events stored at the baseline
  size_t tls_baseline_ = 0;
};

TEST_F(FaultMatrix, ServerCrash) {
  fault_row("server crash", "grace with every feature on; licensed again with the same license when it is back",
            "connect_refused");
  start_licensed();
  world().server().stop();  // the process dies: every connection reset
  world().run_for(10 * kMinute);
  expect_running();
  expect_reason("connect_refused");
  EXPECT_EQ(status().state, LicenseState::grace);
  expect_license_kept();
  EXPECT_NEAR(static_cast<double>(status().grace_elapsed_s), 600.0, 2.0);
  ASSERT_TRUE(world().server().start().ok());
  expect_nothing_lost();
  EXPECT_EQ(stored_count(EventKind::grace_started), grace_started_ + 1);
  EXPECT_EQ(server_count(world(), "grace_started"), server_count(world(), "grace_cleared"));
  expect_memory_flat();
}

TEST_F(FaultMatrix, BlackholedLink) {
  fault_row("blackholed link (no FIN)", "declared dead after 3 heartbeat intervals, grace, relinks when the path is back",
            "connect_timeout");
  start_licensed();
  world().server().blackhole(true);
  world().run_for(10 * kMinute);
  expect_running();
  EXPECT_FALSE(status().link_up);
  EXPECT_EQ(status().state, LicenseState::grace);
  expect_license_kept();
  expect_reason("connect_timeout");
  world().server().blackhole(false);
  expect_nothing_lost();
  expect_memory_flat();
}

TEST_F(FaultMatrix, DnsFailureThenRecovery) {
  fault_row("DNS failure then recovery", "grace while the name does not resolve; relinks once it does",
            "dns_failed");
  start_licensed();
  world().net().set_dns_failure(SimWorld::kServerName, true);
  ASSERT_TRUE(world().server().drop_connection());
  world().run_for(10 * kMinute);
  expect_running();
  EXPECT_EQ(status().state, LicenseState::grace);
  expect_license_kept();
  expect_reason("dns_failed");
  world().net().set_dns_failure(SimWorld::kServerName, false);
  expect_nothing_lost();
  expect_memory_flat();
}

TEST_F(FaultMatrix, Revoke) {
  fault_row("revoke", "features off at once, no grace; a new grant later licenses again", "license_revoked");
  start_licensed();
  ASSERT_TRUE(world().server().revoke("contract ended"));
  world().run_for(kSecondMs);
  expect_running();
  EXPECT_EQ(status().state, LicenseState::unlicensed);
  EXPECT_FALSE(world().device().agent()->feature_enabled("trunks"));
  EXPECT_EQ(stored_count(EventKind::license_revoked), 1u);
  // Nothing of the revoked license survives a reboot; the next grant is new.
  world().device().reboot();
  world().run_for(kMinute);
  EXPECT_NE(std::string(status().serial), serial_) << "a revoked license is never in force again";
  expect_nothing_lost();
  EXPECT_EQ(server_count(world(), "license_revoked"), 1u);
  EXPECT_EQ(stored_count(EventKind::grace_started), grace_started_) << "no grace for a revoked license";
  expect_memory_flat();
}

TEST_F(FaultMatrix, ReplayedOlderLicense) {
  fault_row("replayed older license", "refused; the newer license stays in force", "license_refused (replay)");
  start_licensed();
  ASSERT_TRUE(world().server().push_grant());
  world().run_for(kSecondMs);
  const std::string newer = world().server().directory().issued().back().serial;
  ASSERT_EQ(std::string(status().serial), newer);
  ASSERT_TRUE(world().server().replay_grant(0));
  world().run_for(kSecondMs);
  expect_running();
  EXPECT_EQ(std::string(status().serial), newer);
  ASSERT_EQ(stored_count(EventKind::license_refused), 1u);
  expect_nothing_lost();
  bool named = false;
  for (const DeviceEvent& e : server_events(world())) {
    if (e.kind == "license_refused") named = e.json.find("replay") != std::string::npos;
  }
  EXPECT_TRUE(named) << timeline_text(world());
  expect_memory_flat();
}

TEST_F(FaultMatrix, DisconnectStorm) {
  fault_row("disconnect storm", "each disconnect honoured with its retry_after_s; license kept, features on, no alarm",
            "disconnect (maintenance), logged");
  start_licensed();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(sim_until_licensed(world(), 5 * kMinute)) << "disconnect " << i << "\n" << timeline_text(world());
    const Millis at = world().now();
    ASSERT_TRUE(world().server().disconnect("maintenance", 30));
    world().run_for(25 * kSecondMs);
    EXPECT_FALSE(status().link_up) << "disconnect " << i << ": back before retry_after_s";
    EXPECT_GE(world().now() - at, 25 * kSecondMs);
  }
  expect_running();
  EXPECT_EQ(device_lines("log: server asked to disconnect (maintenance)"), 20u) << timeline_text(world());
  EXPECT_EQ(server_count(world(), "grace_started"), server_count(world(), "grace_cleared"));
  EXPECT_EQ(stored_count(EventKind::grace_alarm), 0u);
  expect_nothing_lost();
  EXPECT_FALSE(status().alarm);
  expect_memory_flat();
}

TEST_F(FaultMatrix, ClockRollback) {
  fault_row("clock rollback", "recorded; grace time neither added nor removed", "clock_rollback");
  start_licensed();
  world().server().stop();
  world().run_for(kDayMs);
  world().device().jump_clock(-2 * kDayMs);
  world().run_for(kDayMs);
  expect_running();
  EXPECT_EQ(status().state, LicenseState::grace);
  expect_license_kept();
  EXPECT_NEAR(static_cast<double>(status().grace_elapsed_s), 2.0 * 86400.0, 1.0);
  EXPECT_EQ(stored_count(EventKind::clock_rollback), 1u) << timeline_text(world());
  ASSERT_TRUE(world().server().start().ok());
  world().device().ntp_sync();
  expect_nothing_lost();
  EXPECT_EQ(server_count(world(), "clock_rollback"), 1u);
  expect_memory_flat();
}

TEST_F(FaultMatrix, ClockForwardJump) {
  fault_row("clock forward jump", "recorded; the 20 days the clock skipped are not charged to grace", "clock_jump");
  start_licensed();
  world().server().stop();
  world().run_for(2 * kDayMs);
  world().device().jump_clock(20 * kDayMs);
  world().run_for(kDayMs);
  expect_running();
  EXPECT_EQ(status().state, LicenseState::grace);
  expect_license_kept();
  EXPECT_NEAR(static_cast<double>(status().grace_elapsed_s), 3.0 * 86400.0, 1.0);
  EXPECT_EQ(stored_count(EventKind::clock_jump), 1u) << timeline_text(world());
  world().device().ntp_sync();
  ASSERT_TRUE(world().server().start().ok());
  expect_nothing_lost();
  EXPECT_EQ(server_count(world(), "clock_jump"), 1u);
  expect_memory_flat();
}

TEST_F(FaultMatrix, RtcLost) {
  fault_row("RTC lost", "state held (a 1970 clock is unknown, not tampering); links on the build time",
            "no rollback recorded; clock source server");
  start_licensed();
  world().server().stop();
  world().run_for(kDayMs);
  world().device().power_off();
  world().device().lose_clock();
  world().run_for(kHourMs);
  ASSERT_TRUE(world().device().boot().ok());
  world().run_for(kHourMs);
  expect_running();
  EXPECT_EQ(status().state, LicenseState::grace);
  expect_license_kept();
  EXPECT_FALSE(status().clock.trusted);
  ASSERT_TRUE(world().server().start().ok());
  expect_nothing_lost();
  EXPECT_EQ(status().clock.source, "server");
  EXPECT_EQ(stored_count(EventKind::clock_rollback), 0u);
  expect_memory_flat();
}

TEST_F(FaultMatrix, StateWipe) {
  fault_row("state wipe", "boots unlicensed on a new event stream, licensed again; the server keeps both streams",
            "new event stream");
  start_licensed();
  const std::string stream_before(status().event_stream);
  const uint64_t writes = world().device().storage().writes();
  world().device().wipe_after_write(writes + 1, kMinute);
  world().run_until([&] { return world().device().wipes() > 0; }, kDayMs);
  ASSERT_EQ(world().device().wipes(), 1u);
  world().run_for(2 * kMinute);
  expect_running();
  EXPECT_NE(std::string(status().event_stream), stream_before);
  expect_nothing_lost();
  expect_memory_flat();
}

TEST_F(FaultMatrix, ClonedIdentity) {
  fault_row("cloned identity", "never both linked; the server raises duplicate_identity; the original relinks",
            "disconnect (replaced); duplicate_identity at the server");
  start_licensed(11);
  SimDevice& clone = world().add_clone("clone", IpAddress::parse("10.0.0.3"));
  ASSERT_TRUE(clone.boot().ok());
  for (int step = 0; step < 600; ++step) {  // 10 minutes in steps of 1 s
    world().run_for(kSecondMs);
    ASSERT_LE(world().server().linked_sessions(), 1u) << timeline_text(world());
  }
  expect_running();
  ASSERT_EQ(world().server().directory().alarms().size(), 1u) << timeline_text(world());
  EXPECT_EQ(world().server().directory().alarms()[0].kind, "duplicate_identity");
  clone.power_off();
  EXPECT_GE(device_lines("log: server asked to disconnect (replaced)"), 1u) << timeline_text(world());
  expect_nothing_lost();
  expect_memory_flat();
}

TEST_F(FaultMatrix, CrashLoopInGrace) {
  fault_row("crash loop in grace", "grace advances through every restart; alarm and expiry on schedule",
            "grace_alarm, grace_expired");
  start_licensed(1, [](SimWorldSetup& s) { s.ntp_after_boot_ms = 0; });
  world().server().stop();
  // A crash every hour for 31 days: the power goes, back 10 s later.
  for (Millis t = 0; t < 31 * kDayMs; t += kHourMs) {
    world().run_for(kHourMs - 10 * kSecondMs);
    world().device().power_off(10 * kSecondMs);
    world().run_for(10 * kSecondMs);
  }
  world().run_for(kMinute);
  expect_running();
  EXPECT_EQ(status().state, LicenseState::expired) << timeline_text(world());
  EXPECT_FALSE(world().device().agent()->feature_enabled("trunks"));
  EXPECT_EQ(stored_count(EventKind::grace_expired), 1u);
  EXPECT_GE(stored_count(EventKind::grace_alarm), 28u);
  ASSERT_TRUE(world().server().start().ok());
  ASSERT_TRUE(sim_until_licensed(world(), 15 * kMinute)) << timeline_text(world());
  expect_nothing_lost();
  EXPECT_EQ(server_count(world(), "grace_expired"), 1u);
  expect_memory_flat();
}

TEST_F(FaultMatrix, PowerCutAtEveryStorageWrite) {
  fault_row("power cut at every storage write",
            "after each cut: boots, relinks, licensed, every event delivered once; a record cut in a later "
            "write keeps its old or new value",
            "record_damaged (no_intact_copy) only for a cut in a record's first write");
  // One short life: licensed, an hour of grace, licensed again. First its
  // writes as they happen without a cut, then the same life with the power
  // cut half-way through each of them in turn.
  const auto life = [](SimWorld& w) {
    EXPECT_TRUE(sim_until_licensed(w, 15 * kMinute)) << timeline_text(w);
    w.server().stop();
    w.run_for(kHourMs);
    EXPECT_TRUE(w.server().start().ok());
  };
  std::vector<SimWrite> writes;
  {
    world_ = std::make_unique<SimWorld>(scenario_setup());
    ASSERT_TRUE(world_->start().ok());
    life(world());
    writes = world().device().storage().ledger();
    world_.reset();
  }
  ASSERT_GT(writes.size(), 3u);
  for (const SimWrite& write : writes) {
    SCOPED_TRACE("cut in write " + std::to_string(write.index) + " of " + std::to_string(writes.size()));
    world_ = std::make_unique<SimWorld>(scenario_setup());
    world().device().cut_power_in_write(write.index, write.flash_operations / 2);
    world().device().set_power_back_after_cut(10 * kSecondMs);
    ASSERT_TRUE(world_->start().ok());
    life(world());
    expect_running();
    EXPECT_EQ(world().device().power_cuts(), 1u);
    bool first_of_its_record = true;
    for (const SimWrite& earlier : writes) {
      if (earlier.index < write.index && earlier.record == write.record) first_of_its_record = false;
    }
    EXPECT_EQ(stored_count(EventKind::record_damaged), first_of_its_record ? 1u : 0u) << timeline_text(world());
    expect_nothing_lost();
    world_.reset();
    EXPECT_EQ(TlsArena::current_bytes(), 0u) << "a world left TLS memory behind";
  }
}

}  // namespace
}  // namespace sublink::test
