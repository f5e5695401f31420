#include "boards/sim/sim_scenarios.h"

#include "boards/sim/sim_tunnel_exchange.h"

namespace sublink {

// ---- Building blocks -------------------------------------------------------------

bool sim_until_licensed(SimWorld& world, Millis limit) {
  return world.run_until(
      [&] {
        const AgentStatus s = world.device().status();
        return s.state == LicenseState::licensed && s.link_up;
      },
      limit, 100);
}

bool sim_until_events_delivered(SimWorld& world, Millis limit) {
  return world.run_until(
      [&] {
        const AgentStatus s = world.device().status();
        return world.device().on() && s.link_up && s.events_pending == 0;
      },
      limit, 100);
}

void sim_run_days(SimWorld& world, int days, const SimDayHook& each_day) {
  const Millis base = world.now();
  for (int d = 1; d <= days; ++d) {
    world.run_until(base + d * kDayMs);
    if (each_day) each_day(world, d);
  }
}

namespace {

// Stops the server and runs until the device has noticed (grace started).
bool server_gone(SimWorld& world) {
  world.server().stop();
  return world.run_until([&] { return world.device().status().state == LicenseState::grace; }, 10 * kSecondMs, 1);
}

bool server_back_and_licensed(SimWorld& world) {
  if (!world.server().listening() && !world.server().start().ok()) return false;
  // Up to the backoff cap (300 s by default) passes before the next round.
  return sim_until_licensed(world, 10 * 60 * kSecondMs) && sim_until_events_delivered(world);
}

}  // namespace

bool sim_grace_to_expiry(SimWorld& world, const SimDayHook& each_day) {
  if (!sim_until_licensed(world)) return false;
  world.run_for(kHourMs);
  if (!server_gone(world)) return false;
  sim_run_days(world, 31, each_day);
  return world.device().status().state == LicenseState::expired;
}

namespace {

bool reconnect_on_day_29(SimWorld& world, const SimDayHook& each_day) {
  if (!sim_until_licensed(world) || !server_gone(world)) return false;
  sim_run_days(world, 29, each_day);
  return server_back_and_licensed(world);
}

bool reboot_mid_grace(SimWorld& world, const SimDayHook& each_day) {
  if (!sim_until_licensed(world) || !server_gone(world)) return false;
  sim_run_days(world, 10, each_day);
  world.device().reboot();
  world.run_for(10 * kSecondMs);
  sim_run_days(world, 10, [&](SimWorld& w, int day) {
    if (each_day) each_day(w, 10 + day);
  });
  return server_back_and_licensed(world);
}

void with_ntp(SimWorldSetup& setup) { setup.ntp_after_boot_ms = 5 * kSecondMs; }

bool powered_off_10_days(SimWorld& world, const SimDayHook& each_day) {
  if (!sim_until_licensed(world) || !server_gone(world)) return false;
  sim_run_days(world, 8, each_day);
  world.device().power_off(10 * kDayMs);  // the RTC keeps good time meanwhile
  sim_run_days(world, 12, [&](SimWorld& w, int day) {
    if (each_day) each_day(w, 8 + day);
  });
  return server_back_and_licensed(world);
}

bool clock_set_back_2_days(SimWorld& world, const SimDayHook& each_day) {
  if (!sim_until_licensed(world) || !server_gone(world)) return false;
  sim_run_days(world, 3, each_day);
  world.device().jump_clock(-2 * kDayMs);
  sim_run_days(world, 2, [&](SimWorld& w, int day) {
    if (each_day) each_day(w, 3 + day);
  });
  world.device().reboot();  // the clock is still two days behind after the reboot
  world.run_for(10 * kSecondMs);
  sim_run_days(world, 1, [&](SimWorld& w, int day) {
    if (each_day) each_day(w, 5 + day);
  });
  return server_back_and_licensed(world);
}

bool rtc_lost(SimWorld& world, const SimDayHook& each_day) {
  if (!sim_until_licensed(world) || !server_gone(world)) return false;
  sim_run_days(world, 2, each_day);
  world.device().power_off();
  world.device().lose_clock();
  world.run_for(kDayMs);
  (void)world.device().boot();  // a failed boot shows in the timeline and fails the checks below
  sim_run_days(world, 1, [&](SimWorld& w, int day) {
    if (each_day) each_day(w, 3 + day);
  });
  // The server is back. The device reads 1970 and no NTP answers: it checks
  // the server's certificate against its firmware's build time (PROTOCOL.md
  // 2), links, and takes the server's time from welcome as trusted.
  if (!world.server().start().ok()) return false;
  return sim_until_licensed(world, 10 * 60 * kSecondMs) && sim_until_events_delivered(world);
}

bool revoke(SimWorld& world, const SimDayHook& each_day) {
  if (!sim_until_licensed(world)) return false;
  world.run_for(kHourMs);
  if (!world.server().revoke("contract ended")) return false;
  world.run_for(kSecondMs);
  world.server().stop();  // the link goes down after the revoke: no grace for it
  sim_run_days(world, 2, each_day);
  if (!world.server().start().ok()) return false;
  world.run_until([&] { return world.device().status().link_up; }, 10 * 60 * kSecondMs, 100);
  sim_until_events_delivered(world);
  if (!world.server().push_grant()) return false;
  return sim_until_licensed(world);
}

bool replayed_license(SimWorld& world, const SimDayHook& /*each_day*/) {
  if (!sim_until_licensed(world)) return false;
  world.run_for(kHourMs);
  if (!world.server().push_grant()) return false;  // a newer license replaces the first
  world.run_for(kSecondMs);
  if (!world.server().replay_grant(0)) return false;  // the first one, sent again
  world.run_for(kSecondMs);
  return sim_until_events_delivered(world);
}

bool link_faults(SimWorld& world, const SimDayHook& /*each_day*/) {
  SimServer& server = world.server();
  server.refuse_port(443, true);
  if (!sim_until_licensed(world)) return false;  // on 8443
  server.refuse_port(443, false);
  world.run_for(kHourMs);
  server.blackhole(true);  // silent: the agent notices after 3 heartbeats
  world.run_for(10 * 60 * kSecondMs);
  server.blackhole(false);
  if (!sim_until_licensed(world, 10 * 60 * kSecondMs)) return false;
  world.run_for(kHourMs);
  server.restart(30 * kSecondMs);
  world.run_for(kSecondMs);
  if (!sim_until_licensed(world, 10 * 60 * kSecondMs)) return false;
  world.device_link_down(true);
  world.run_for(20 * 60 * kSecondMs);  // long enough for the grace alarm
  world.device_link_down(false);
  if (!sim_until_licensed(world, 10 * 60 * kSecondMs)) return false;
  server.disconnect("maintenance", 120);
  world.run_for(kSecondMs);
  return sim_until_licensed(world, 10 * 60 * kSecondMs) && sim_until_events_delivered(world);
}

bool grace_to_expiry(SimWorld& world, const SimDayHook& each_day) { return sim_grace_to_expiry(world, each_day); }

void short_life_timing(SimWorldSetup& setup) {
  DeviceConfig& c = setup.device_config;
  c.grace_period = 4 * kHourMs;
  c.grace_alarm_delay = 10 * 60 * kSecondMs;
  c.grace_alarm_interval = 30 * 60 * kSecondMs;
  c.checkpoint = 15 * 60 * kSecondMs;
  c.retry_max = 60 * kSecondMs;
  setup.server_settings.audit_s = 3600;
}

// Every kind of storage write a device makes, in one short life; each step
// tolerates a device that lost power on the way (the power-cut sweep reruns
// it with a cut at every write), and the end waits for the device to be
// licensed with every event delivered.
bool full_life(SimWorld& world, const SimDayHook& /*each_day*/) {
  SimServer& server = world.server();
  SimDevice& device = world.device();
  sim_until_licensed(world);
  sim_until_events_delivered(world);
  world.run_for(kHourMs);  // audits: usage records
  server.stop();           // grace: checkpoints, alarms
  world.run_for(kHourMs);
  device.reboot();
  world.run_for(30 * 60 * kSecondMs);
  device.power_off(30 * 60 * kSecondMs);
  world.run_for(kHourMs);
  (void)server.start();  // loaded its credentials at the first start: cannot fail again
  sim_until_licensed(world, 30 * 60 * kSecondMs);
  sim_until_events_delivered(world);
  server.revoke("sweep");  // the license record emptied
  world.run_for(kSecondMs);
  server.push_grant();
  sim_until_licensed(world);
  server.stop();  // grace to expiry
  world.run_for(5 * kHourMs);
  if (!server.listening()) (void)server.start();  // credentials loaded at the first start
  return sim_until_licensed(world, 30 * 60 * kSecondMs) && sim_until_events_delivered(world);
}

// Tunnels at the seed's worst link: two bulk channels and a small request
// at once, with heartbeats; the measurements go to the timeline.
bool tunnels_worst_link(SimWorld& world, const SimDayHook& /*each_day*/) {
  if (!sim_until_licensed(world)) return false;
  SimTunnelReport report;
  const bool ran = sim_tunnel_exchange(world, report);
  for (const std::string& line : report.lines()) world.timeline().add(world.now(), "tunnels", line);
  return ran;
}

}  // namespace

const std::vector<SimScenario>& sim_scenarios() {
  static const std::vector<SimScenario> all = {
      {"grace-expiry", "licensed, then the server is gone for good: 30 days of grace and daily alarms, then expired",
       nullptr, grace_to_expiry},
      {"reconnect-day-29", "the server is gone for 29 days and comes back: alarm cleared, events delivered", nullptr,
       reconnect_on_day_29},
      {"reboot-mid-grace", "a reboot on day 10 of grace: grace goes on where it was", nullptr, reboot_mid_grace},
      {"powered-off-10-days", "off for 10 days in grace, booted with a good clock (NTP): the time off counts",
       with_ntp, powered_off_10_days},
      {"clock-back-2-days", "the device clock is set back 2 days in grace: recorded, grace time unaffected",
       nullptr, clock_set_back_2_days},
      {"rtc-lost", "booted with a dead RTC (1970) and no NTP: state holds, links on the build time when the server is back",
       nullptr, rtc_lost},
      {"revoke", "the license is revoked: features off at once, no grace; a new grant later", nullptr, revoke},
      {"replayed-license", "an older grant sent again is refused; the newer license stays", nullptr,
       replayed_license},
      {"link-faults", "port refused, blackhole, server restart, link loss, disconnect with retry_after", nullptr,
       link_faults},
      {"full-life", "short timings: license, audits, grace, reboot, power off, revoke, new grant, expiry, back",
       short_life_timing, full_life},
      {"tunnels-worst-link", "200 ms RTT at 128 kbit/s: two bulk channels and a small request at once, with heartbeats",
       sim_configure_tunnels, tunnels_worst_link},
  };
  return all;
}

const SimScenario* find_sim_scenario(std::string_view name) {
  for (const SimScenario& s : sim_scenarios()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

}  // namespace sublink
