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

/// The record for `count`.
BootRecordBytes encode_boot_record(uint64_t count);

/// The count in a record; invalid_payload (RecordFault detail) when damaged.
Result<uint64_t> decode_boot_record(std::span<const uint8_t> bytes);

}  // namespace sublink
