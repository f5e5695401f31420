// The grace clock's durable checkpoint: everything needed after a reboot or
// power cut to go on counting grace where it stopped, and to measure the
// time spent powered off once a trusted clock answers. Fixed size, written
// whole through the Storage HAL.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "firmware/events/record_codec.h"
#include "firmware/grace/grace_config.h"
#include "hal/status.h"

namespace sublink {

struct GraceRecord {
  LicenseState state = LicenseState::unlicensed;
  bool license_held = false;
  bool alarm_active = false;
  Millis elapsed_ms = 0;        // grace elapsed at the checkpoint
  uint32_t alarms_raised = 0;   // alarms raised in this grace period: fixes the next one
  std::optional<Millis> utc_ms;   // UTC at the checkpoint, counted from a trusted source
  std::optional<Millis> wall_ms;  // the device clock at the checkpoint (a lower bound)

  bool operator==(const GraceRecord&) const = default;
};

inline constexpr uint16_t kGraceRecordVersion = 1;
inline constexpr size_t kGraceRecordSize = kRecordOverhead + 4 + 8 + 4 + 8 + 8;
using GraceRecordBytes = std::array<uint8_t, kGraceRecordSize>;

/// The record as stored bytes.
GraceRecordBytes encode_grace_record(const GraceRecord& record);

/// Parses stored bytes. Short, foreign, other-version, corrupt or
/// out-of-range records fail with invalid_payload and a RecordFault detail.
Result<GraceRecord> decode_grace_record(std::span<const uint8_t> bytes);

}  // namespace sublink
