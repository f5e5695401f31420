#include "boards/sim/sim_invariants.h"

namespace sublink {

namespace {
bool counting(LicenseState s) { return s == LicenseState::grace || s == LicenseState::expired; }
}  // namespace

void SimInvariants::on_boot(bool damaged) {
  damaged_boot_ = damaged;
  // Grace carries across an ordinary boot; a damaged one starts over.
  if (damaged) have_previous_ = false;
  previous_link_up_ = false;
}

std::vector<std::string> SimInvariants::check(const Agent& agent, uint64_t welcomes_sent) {
  std::vector<std::string> broken;
  const AgentStatus s = agent.snapshot();
  const std::string state(state_name(s.state));

  bool any_on = false;
  for (const LicensedFeature& f : s.features) any_on |= agent.feature_enabled(f.name.view());
  const bool should_be_on = s.state == LicenseState::licensed || s.state == LicenseState::grace;
  if (any_on && !should_be_on) broken.push_back("features on in state " + state);
  if (!any_on && should_be_on && !s.features.empty()) broken.push_back("features off in state " + state);

  const int64_t delay_s = grace_.alarm_delay / 1000;
  const int64_t period_s = grace_.grace_period / 1000;
  if (s.alarm && !(s.state == LicenseState::grace && s.grace_elapsed_s >= delay_s)) {
    broken.push_back("alarm active in state " + state + " at grace " + std::to_string(s.grace_elapsed_s) + " s");
  }
  if (s.state == LicenseState::grace && s.grace_elapsed_s >= period_s) {
    broken.push_back("still in grace at " + std::to_string(s.grace_elapsed_s) + " s of " + std::to_string(period_s));
  }
  // Expiry is the step from grace to expired (a device that reconnects
  // without a valid license stays expired with grace reset).
  if (have_previous_ && previous_state_ == LicenseState::grace && s.state == LicenseState::expired &&
      s.grace_elapsed_s != period_s) {
    broken.push_back("expired at " + std::to_string(s.grace_elapsed_s) + " s of " + std::to_string(period_s));
  }

  if (welcomes_sent > welcomes_seen_) welcome_pending_ = true;
  welcomes_seen_ = welcomes_sent;
  const bool reconnected = (s.link_up && !previous_link_up_) || welcome_pending_;
  if (s.link_up) welcome_pending_ = false;
  if (have_previous_ && previous_counting_ && counting(s.state) && !reconnected &&
      s.grace_elapsed_s < previous_elapsed_s_) {
    broken.push_back("grace elapsed went back from " + std::to_string(previous_elapsed_s_) + " s to " +
                     std::to_string(s.grace_elapsed_s) + " s without a reconnection");
  }

  if (s.license_held && revoked_.count(std::string(s.serial))) {
    broken.push_back("revoked license " + std::string(s.serial) + " in force again");
  }

  have_previous_ = true;
  previous_counting_ = counting(s.state);
  previous_state_ = s.state;
  previous_elapsed_s_ = s.grace_elapsed_s;
  previous_link_up_ = s.link_up;
  return broken;
}

}  // namespace sublink
