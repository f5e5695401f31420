#include "firmware/agent/device_instance.h"

namespace sublink {

namespace {
constexpr RecordMagic kMagic = {'S', 'L', 'I', 'D'};
constexpr uint16_t kVersion = 1;
// A random source that keeps giving 0 is broken, not unlucky.
constexpr int kDraws = 4;
}  // namespace

IdentityRecordBytes encode_identity_record(uint64_t instance) {
  IdentityRecordBytes out{};
  RecordWriter w(out, kMagic, kVersion);
  w.u64(instance);
  (void)w.finish();  // the array is exactly the record size
  return out;
}

Result<uint64_t> decode_identity_record(std::span<const uint8_t> bytes) {
  Result<std::span<const uint8_t>> body = open_record(bytes, kMagic, kVersion);
  if (!body.ok()) return body.status();
  RecordReader r(*body);
  const uint64_t instance = r.u64();
  if (r.overrun() || r.remaining() != 0) return record_error(RecordFault::bad_length);
  if (instance == 0) return record_error(RecordFault::bad_value);
  return instance;
}

Result<uint64_t> make_instance(Random& random) {
  for (int i = 0; i < kDraws; ++i) {
    std::array<uint8_t, 8> bytes{};
    Status s = random.fill(bytes);
    if (!s.ok()) return s;
    uint64_t v = 0;
    for (uint8_t b : bytes) v = (v << 8) | b;
    if (v != 0) return v;
  }
  return Status(Reason::io_error);
}

}  // namespace sublink
