// The boot counter record (RecordId::boot): how many times the agent has
// started, sent in `hello` so the server can tell a reboot from a reconnect.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "firmware/events/record_codec.h"
#include "hal/status.h"

namespace sublink {

inline constexpr size_t kBootRecordSize = kRecordOverhead + 8;
using BootRecordBytes = std::array<uint8_t, kBootRecordSize>;

/// Range of a stored count: 1 .. kMaxBootCount. The upper bound keeps
/// count << 32 (the event seq floor after a lost event record) from
/// wrapping; at one start a second it is 136 years away.
inline constexpr uint64_t kMaxBootCount = 0xFFFFFFFFull;

/// The count after `previous` (a decoded count, or 0 when none): one more,
/// held at kMaxBootCount so nothing out of range is ever written.
constexpr uint64_t next_boot_count(uint64_t previous) {
  return previous >= kMaxBootCount ? kMaxBootCount : previous + 1;
}

/// The record for `count` (1 .. kMaxBootCount; other values are clamped
/// into it, so the record always decodes).
BootRecordBytes encode_boot_record(uint64_t count);

/// The count in a record; invalid_payload (RecordFault detail) when damaged
/// or outside 1 .. kMaxBootCount (bad_value).
Result<uint64_t> decode_boot_record(std::span<const uint8_t> bytes);

}  // namespace sublink
