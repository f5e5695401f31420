// Durable form of a held license: the original signed bytes and signature,
// so the license is verified again at boot with the same key instead of
// trusting whatever storage returns. Layout (version 1):
//   "SLL" 0x01 | length u16 big endian | license bytes | signature (64)
// A revoked license keeps its record under the magic "SLR" 0x01: no
// license is held, but its `issued` stays the floor a grant must be issued
// after, so the revoked grant cannot be applied again (replayed), also
// after a reboot; verified at boot like a held one, so storage cannot
// raise the floor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "firmware/license/license.h"
#include "hal/status.h"

namespace sublink {

inline constexpr size_t kLicenseRecordHeaderBytes = 6;
inline constexpr size_t kMaxLicenseRecordBytes = kLicenseRecordHeaderBytes + kMaxLicenseBytes + kEs256SignatureBytes;

/// Writes `license` into `out`; returns the record length, or out_of_memory
/// (detail: bytes needed) when `out` is too small.
/// `revoked`: the record of a license revoked (see above).
Result<size_t> write_license_record(const SignedLicense& license, std::span<uint8_t> out, bool revoked = false);

/// Reads a record into `out`. A wrong magic, unknown version or a length
/// that disagrees with the record size is invalid_argument. The result is
/// not trusted yet: pass it to verify_stored_license. `revoked` (when
/// given) tells a revoked license's record from a held one's.
Status read_license_record(std::span<const uint8_t> record, SignedLicense& out, bool* revoked = nullptr);

}  // namespace sublink
