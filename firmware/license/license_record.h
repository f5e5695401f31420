// Durable form of a held license: the original signed bytes and signature,
// so the license is verified again at boot with the same key instead of
// trusting whatever storage returns. Layout (version 1):
//   "SLL" 0x01 | length u16 big endian | license bytes | signature (64)
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
Result<size_t> write_license_record(const SignedLicense& license, std::span<uint8_t> out);

/// Reads a record into `out`. A wrong magic, unknown version or a length
/// that disagrees with the record size is invalid_argument. The result is
/// not trusted yet: pass it to verify_stored_license.
Status read_license_record(std::span<const uint8_t> record, SignedLicense& out);

}  // namespace sublink
