// The identity record (firmware/agent/device_instance): the device's
// `instance`. Invariants: a decoded instance is never 0 and re-encodes to
// exactly the stored bytes.
// Input: a byte saying what the target seals (fuzz_check.h sealed_record:
// the CRC, the body length), then the record.
#include "firmware/agent/device_instance.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> record = sublink::fuzz::sealed_record(data, size);
  Result<uint64_t> instance = decode_identity_record(record);
  if (!instance.ok()) {
    check(instance.status().reason() == Reason::invalid_payload);
    return 0;
  }
  check(*instance != 0);
  check(sublink::fuzz::same_bytes(encode_identity_record(*instance), record));
  return 0;
}
