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
  // Cost of the 60 s default, only while in grace: 1440 record writes a
  // day. Files: 1440 rename-atomic writes of one 70-byte record (each a
  // write + fsync + rename + directory fsync). NOR flash (FlashRecordStore,
  // 4 KiB sectors, 2 slots of 3 sectors for the grace record on the sim
  // layout; an entry is 32 + 56 = 88 bytes): 139 entries fill a slot, so one
  // slot erase (3 sector erases) per 139 writes: each sector of the grace
  // slots is erased 1440 / (2 * 139) = 5.2 times a day; 100k erase cycles
  // last 19,300 days (53 years) of uninterrupted grace.
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
