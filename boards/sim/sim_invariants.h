// The invariants of model/sublink.pml, asserted on the real agent at every
// step of a simulation run (after each call into the device's code), so the
// model and the code cannot drift apart silently:
//  - features are on exactly in `licensed` and `grace`;
//  - grace elapsed never decreases except at reconnection (a boot that
//    reported damaged or lost state starts a new baseline: the agent names
//    what it lost there);
//  - an alarm is active only in `grace` past grace_alarm_delay_s;
//  - `grace` ends exactly at grace_period_s: never in grace past it, never
//    expired before it (unless the grace account itself was lost);
//  - a revoke turns features off, and a revoked license is never in force
//    again.
// Crash and restart patterns (§5) are swept by tests/scenario/crash_loop_test.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "firmware/agent/agent.h"
#include "firmware/grace/grace_config.h"

namespace sublink {

class SimInvariants {
 public:
  explicit SimInvariants(const GraceConfig& grace) : grace_(grace) {}

  /// A boot: `damaged` when the agent reported damaged or lost records, or
  /// the grace record could not be written in the run before (then grace
  /// elapsed restarts from what survived: the agent names the damage; the
  /// refused writes are the limit of section 5 without storage).
  void on_boot(bool damaged);
  /// A license_revoked event for `serial` was stored.
  void on_revoked(const std::string& serial) { revoked_.insert(serial); }

  /// Checks `agent` now; `welcomes_sent` is how many `welcome`s the server
  /// has sent so far (a welcome the device handled just before a power cut
  /// resets grace although the device never showed its link up). Returns
  /// what is broken (empty when all hold).
  std::vector<std::string> check(const Agent& agent, uint64_t welcomes_sent);

 private:
  GraceConfig grace_;
  std::set<std::string> revoked_;
  bool have_previous_ = false;
  bool previous_counting_ = false;  // grace or expired
  LicenseState previous_state_ = LicenseState::unlicensed;
  bool previous_link_up_ = false;
  int64_t previous_elapsed_s_ = 0;
  bool damaged_boot_ = false;
  uint64_t welcomes_seen_ = 0;
  bool welcome_pending_ = false;  // the server sent a welcome the device has not shown yet
};

}  // namespace sublink
