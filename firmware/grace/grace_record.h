// The grace clock's durable checkpoint: everything needed after a reboot or
// power cut to go on counting grace where it stopped, and to measure the
// time spent powered off once a trusted clock answers. Fixed size, written
// whole through the Storage HAL.
//
// Ranges (checked by decode_grace_record; a record outside them is refused
// as damaged, and encode never produces one: the grace clock keeps its
// values inside them):
//   state            one of LicenseState; licensed/grace only with a license held
//   license_held, alarm_active, clean_stop    booleans
//   elapsed_ms       0 .. kMaxGraceDurationMs
//   unmeasured_ms    0 .. kMaxGraceDurationMs
//   alarms_raised    0 .. kMaxGraceAlarms
//   utc_ms, wall_ms  absent (stored as 0), or 0 .. kMaxRecordUtcMs
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "firmware/events/record_codec.h"
#include "firmware/grace/grace_config.h"
#include "hal/status.h"

namespace sublink {

/// Latest UTC a record may hold: 9999-12-31T23:59:59.999Z. Keeps every sum
/// of a restored time and a duration far from overflow.
inline constexpr Millis kMaxRecordUtcMs = 253402300799999;
/// Most alarms one grace period can raise: one per second (the shortest
/// configurable interval) over the longest configurable period, plus one.
inline constexpr uint32_t kMaxGraceAlarms = static_cast<uint32_t>(kMaxGraceDurationMs / kSecondMs + 1);

struct GraceRecord {
  LicenseState state = LicenseState::unlicensed;
  bool license_held = false;
  bool alarm_active = false;
  /// Written by an orderly stop (Agent::shutdown): nothing after it went
  /// unrecorded. Every other record (each start, each checkpoint) says the
  /// agent is running, so a start that finds one knows the stop was unclean.
  bool clean_stop = false;
  Millis elapsed_ms = 0;        // grace elapsed at the checkpoint
  /// Part of elapsed_ms charged for unclean stops (grace_checkpoint_s each)
  /// that no trusted clock has measured yet; replaced by the measured gap
  /// when one does.
  Millis unmeasured_ms = 0;
  uint32_t alarms_raised = 0;   // alarms raised in this grace period: fixes the next one
  std::optional<Millis> utc_ms;   // UTC at the checkpoint, counted from a trusted source
  std::optional<Millis> wall_ms;  // the device clock at the checkpoint (a lower bound)

  bool operator==(const GraceRecord&) const = default;
};

/// Version 2 added clean_stop and unmeasured_ms; version 1 records still
/// decode (as an unclean stop with nothing unmeasured).
inline constexpr uint16_t kGraceRecordVersion = 2;
inline constexpr uint16_t kGraceRecordVersion1 = 1;
inline constexpr size_t kGraceRecordSize = kRecordOverhead + 4 + 8 + 4 + 8 + 8 + 8;
inline constexpr size_t kGraceRecordSizeV1 = kRecordOverhead + 4 + 8 + 4 + 8 + 8;
using GraceRecordBytes = std::array<uint8_t, kGraceRecordSize>;

/// Whether `record` is inside the ranges above (what decode accepts).
bool grace_record_in_range(const GraceRecord& record);

/// The record as stored bytes. `record` must be in range (the grace clock's
/// records always are); an out-of-range one is stored as a record that
/// decodes to the same state with every number clamped into range.
GraceRecordBytes encode_grace_record(const GraceRecord& record);

/// Parses stored bytes. Short, foreign, other-version, corrupt or
/// out-of-range records fail with invalid_payload and a RecordFault detail.
Result<GraceRecord> decode_grace_record(std::span<const uint8_t> bytes);

}  // namespace sublink
