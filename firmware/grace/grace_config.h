// Timing of the grace period (PROTOCOL.md section 5) and the licensing states.
#pragma once

#include <cstdint>
#include <string_view>

#include "hal/clock.h"

namespace sublink {

inline constexpr Millis kSecondMs = 1000;
inline constexpr Millis kHourMs = 3600 * kSecondMs;
inline constexpr Millis kDayMs = 24 * kHourMs;
/// Longest duration any grace timing may be configured to (100 years, the
/// configuration's limit for every `_s` key): bounds restored records.
inline constexpr Millis kMaxGraceDurationMs = Millis{100} * 365 * kDayMs;

struct GraceConfig {
  Millis grace_period = 30 * kDayMs;        // grace_period_s
  Millis alarm_delay = 600 * kSecondMs;     // grace_alarm_delay_s: link down this long raises the alarm
  Millis alarm_interval = kDayMs;           // grace_alarm_interval_s: then raised again this often
  Millis checkpoint_interval = kHourMs;     // checkpoint_s
  // grace_checkpoint_s: while in grace the record is written at least this
  // often, and a start after an unclean stop that no trusted clock can
  // measure is charged this much (the most that can have gone unrecorded).
  // Cost of the 60 s default, only while in grace: 1440 grace record writes
  // a day (the record is 54 bytes). Files (FileStorage): 1440 rename-atomic
  // writes of a 78-byte file a day, each a write + fsync of the temporary
  // file, a rename and a directory fsync (2880 fsyncs a day). NOR flash
  // (FlashRecordStore, measured by the storage test
  // GraceCheckpointsEveryMinuteWearTheFlashForDecadesNotYears): an entry is
  // 28 + 56 = 84 bytes; on the mps2-an385 layout (one 4 KiB sector per
  // slot) 48 entries fill a slot, so 30 sector erases a day shared by the
  // two sectors of the record: 15 erases a day each, 100k cycles after 18
  // years of uninterrupted grace (56 years on the simulation's 3-sector
  // slots). Grace lasts at most grace_period_s at a time.
  Millis grace_checkpoint = 60 * kSecondMs;
  Millis skew_limit = kDayMs;               // a trusted difference below this is skew, not tampering
  Millis skew_tolerance = 5 * kSecondMs;    // differences below this are not worth an event
  Millis earliest_valid_utc = 1577836800000;  // 2020-01-01: a device clock before this is unset
};

/// Licensing state. Values are stored in records: never renumber.
enum class LicenseState : uint8_t {
  unlicensed = 0,  // no valid license: features off
  licensed,        // license held, link up: features on
  grace,           // license held, link down, grace running: features on
  expired,         // grace ran out: features off until link up + valid license
};
inline constexpr uint8_t kLicenseStateCount = static_cast<uint8_t>(LicenseState::expired) + 1;

/// Stable wire name ("grace"), as in `status --json` and `hello.state`.
std::string_view state_name(LicenseState state);

/// Whether subscription features may run in `state`.
constexpr bool features_on(LicenseState state) {
  return state == LicenseState::licensed || state == LicenseState::grace;
}

}  // namespace sublink
