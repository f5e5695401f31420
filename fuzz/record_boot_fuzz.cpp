// The boot counter record (firmware/agent/boot_counter). Invariants: a
// decoded count is within 1..kMaxBootCount and re-encodes to exactly the
// stored bytes.
#include "firmware/agent/boot_counter.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<uint64_t> count = decode_boot_record({data, size});
  if (!count.ok()) {
    check(count.status().reason() == Reason::invalid_payload);
    return 0;
  }
  check(*count >= 1 && *count <= kMaxBootCount);
  check(sublink::fuzz::same_bytes(encode_boot_record(*count), {data, size}));
  return 0;
}
