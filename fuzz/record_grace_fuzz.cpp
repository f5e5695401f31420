// The grace checkpoint record (firmware/grace). Invariants: a decoded
// record is inside the ranges grace_record.h states, and a current-version
// record re-encodes to exactly the stored bytes (one encoding per state);
// what encode writes for any decoded state decodes back to that state.
// Input: a byte saying what the target seals (fuzz_check.h sealed_record:
// the CRC, the body length), then the record.
#include "firmware/grace/grace_record.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> record = sublink::fuzz::sealed_record(data, size);
  Result<GraceRecord> decoded = decode_grace_record(record);
  if (!decoded.ok()) {
    check(decoded.status().reason() == Reason::invalid_payload);
    return 0;
  }
  check(grace_record_in_range(*decoded));
  const GraceRecordBytes encoded = encode_grace_record(*decoded);
  if (record.size() == kGraceRecordSize) check(sublink::fuzz::same_bytes(encoded, record));
  Result<GraceRecord> again = decode_grace_record(encoded);
  check(again.ok() && *again == *decoded);
  return 0;
}
