#include "firmware/agent/boot_counter.h"

namespace sublink {

namespace {
constexpr RecordMagic kMagic = {'S', 'L', 'B', 'C'};
constexpr uint16_t kVersion = 1;
}  // namespace

BootRecordBytes encode_boot_record(uint64_t count) {
  BootRecordBytes out{};
  RecordWriter w(out, kMagic, kVersion);
  w.u64(count < 1 ? 1 : count > kMaxBootCount ? kMaxBootCount : count);
  (void)w.finish();  // the array is exactly the record size
  return out;
}

Result<uint64_t> decode_boot_record(std::span<const uint8_t> bytes) {
  Result<std::span<const uint8_t>> body = open_record(bytes, kMagic, kVersion);
  if (!body.ok()) return body.status();
  RecordReader r(*body);
  uint64_t count = r.u64();
  if (r.overrun() || r.remaining() != 0) return record_error(RecordFault::bad_length);
  if (count < 1 || count > kMaxBootCount) return record_error(RecordFault::bad_value);
  return count;
}

}  // namespace sublink
