#include "firmware/license/license_record.h"

namespace sublink {

namespace {
constexpr uint8_t kMagic[4] = {'S', 'L', 'L', 0x01};
constexpr uint8_t kRevokedMagic[4] = {'S', 'L', 'R', 0x01};
}

Result<size_t> write_license_record(const SignedLicense& license, std::span<uint8_t> out, bool revoked) {
  if (license.size > kMaxLicenseBytes) return Status(Reason::invalid_argument);
  size_t total = kLicenseRecordHeaderBytes + license.size + kEs256SignatureBytes;
  if (out.size() < total) return Status(Reason::out_of_memory, static_cast<int32_t>(total));
  size_t at = 0;
  for (uint8_t b : revoked ? kRevokedMagic : kMagic) out[at++] = b;
  out[at++] = static_cast<uint8_t>(license.size >> 8);
  out[at++] = static_cast<uint8_t>(license.size & 0xFF);
  for (size_t i = 0; i < license.size; ++i) out[at++] = license.bytes[i];
  for (uint8_t b : license.signature) out[at++] = b;
  return at;
}

Status read_license_record(std::span<const uint8_t> record, SignedLicense& out, bool* revoked) {
  if (record.size() < kLicenseRecordHeaderBytes + kEs256SignatureBytes) return Status(Reason::invalid_argument);
  const bool is_revoked = record[2] == kRevokedMagic[2];
  const uint8_t* magic = is_revoked ? kRevokedMagic : kMagic;
  for (size_t i = 0; i < sizeof kMagic; ++i) {
    if (record[i] != magic[i]) return Status(Reason::invalid_argument, static_cast<int32_t>(i));
  }
  if (revoked != nullptr) *revoked = is_revoked;
  size_t size = (size_t{record[4]} << 8) | record[5];
  if (size > kMaxLicenseBytes || record.size() != kLicenseRecordHeaderBytes + size + kEs256SignatureBytes) {
    return Status(Reason::invalid_argument, 4);
  }
  for (size_t i = 0; i < size; ++i) out.bytes[i] = record[kLicenseRecordHeaderBytes + i];
  out.size = size;
  for (size_t i = 0; i < kEs256SignatureBytes; ++i) out.signature[i] = record[kLicenseRecordHeaderBytes + size + i];
  return Status::Ok();
}

}  // namespace sublink
