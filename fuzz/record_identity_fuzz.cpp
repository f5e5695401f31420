// The identity record (firmware/agent/device_instance): the device's
// `instance`. Invariants: a decoded instance is never 0 and re-encodes to
// exactly the stored bytes.
#include "firmware/agent/device_instance.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<uint64_t> instance = decode_identity_record({data, size});
  if (!instance.ok()) {
    check(instance.status().reason() == Reason::invalid_payload);
    return 0;
  }
  check(*instance != 0);
  check(sublink::fuzz::same_bytes(encode_identity_record(*instance), {data, size}));
  return 0;
}
