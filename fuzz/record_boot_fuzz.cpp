// The boot counter record (firmware/agent/boot_counter). Invariants: a
// decoded count is within 1..kMaxBootCount and re-encodes to exactly the
// stored bytes.
// Input: a byte saying what the target seals (fuzz_check.h sealed_record:
// the CRC, the body length), then the record.
#include "firmware/agent/boot_counter.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> record = sublink::fuzz::sealed_record(data, size);
  Result<uint64_t> count = decode_boot_record(record);
  if (!count.ok()) {
    check(count.status().reason() == Reason::invalid_payload);
    return 0;
  }
  check(*count >= 1 && *count <= kMaxBootCount);
  check(sublink::fuzz::same_bytes(encode_boot_record(*count), record));
  return 0;
}
