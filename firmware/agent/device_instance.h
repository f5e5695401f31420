// The identity record (RecordId::identity): this device's `instance`, the
// random 64-bit value made at its first boot and sent in every hello
// (PROTOCOL.md section 4), so the server tells a reconnect of this device
// from a second appliance that carries the same certificate (a clone, whose
// own state holds another instance).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "firmware/events/record_codec.h"
#include "hal/random.h"
#include "hal/status.h"

namespace sublink {

inline constexpr size_t kIdentityRecordSize = kRecordOverhead + 8;
using IdentityRecordBytes = std::array<uint8_t, kIdentityRecordSize>;

/// The record for `instance` (never 0: see make_instance).
IdentityRecordBytes encode_identity_record(uint64_t instance);

/// The instance in a record: exactly 8 bytes, not 0; invalid_payload
/// (RecordFault detail) when the record is damaged or out of range.
Result<uint64_t> decode_identity_record(std::span<const uint8_t> bytes);

/// A fresh instance from `random`: any 64-bit value but 0 (0 is what a
/// zeroed record would hold, so it is never a real one); the random
/// source's failure otherwise.
Result<uint64_t> make_instance(Random& random);

}  // namespace sublink
