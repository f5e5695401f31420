// The stored license record (firmware/license/license_record), as storage
// returns it at boot, before verify_stored_license checks the signature.
// Invariants: a read record (held or revoked) holds at most kMaxLicenseBytes
// and re-encodes to exactly the stored bytes, revoked or not as it was;
// anything refused is invalid_argument.
#include "firmware/license/license_record.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static SignedLicense license;
  bool revoked = false;
  Status read = read_license_record({data, size}, license, &revoked);
  if (!read.ok()) {
    check(read.reason() == Reason::invalid_argument);
    return 0;
  }
  check(license.size <= kMaxLicenseBytes);
  static uint8_t out[kMaxLicenseRecordBytes];
  Result<size_t> written = write_license_record(license, out, revoked);
  check(written.ok() && sublink::fuzz::same_bytes({out, *written}, {data, size}));
  return 0;
}
