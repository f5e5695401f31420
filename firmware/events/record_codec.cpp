#include "firmware/events/record_codec.h"

#include <algorithm>

namespace sublink {

const char* record_fault_name(int32_t detail) {
  switch (static_cast<RecordFault>(detail)) {
    case RecordFault::truncated: return "truncated";
    case RecordFault::bad_magic: return "bad_magic";
    case RecordFault::unsupported_version: return "unsupported_version";
    case RecordFault::bad_length: return "bad_length";
    case RecordFault::bad_checksum: return "bad_checksum";
    case RecordFault::bad_value: return "bad_value";
  }
  return "unknown";
}

RecordWriter::RecordWriter(std::span<uint8_t> out, const RecordMagic& magic, uint16_t version)
    : out_(out) {
  bytes(magic);
  u16(version);
  u32(0);  // body length, filled in by finish()
}

void RecordWriter::put(uint64_t v, size_t n) {
  if (overflow_ || out_.size() - size_ < n) {
    overflow_ = true;
    return;
  }
  for (size_t i = 0; i < n; ++i) out_[size_++] = static_cast<uint8_t>(v >> (8 * i));
}

void RecordWriter::u8(uint8_t v) { put(v, 1); }
void RecordWriter::u16(uint16_t v) { put(v, 2); }
void RecordWriter::u32(uint32_t v) { put(v, 4); }
void RecordWriter::u64(uint64_t v) { put(v, 8); }

void RecordWriter::bytes(std::span<const uint8_t> v) {
  if (overflow_ || out_.size() - size_ < v.size()) {
    overflow_ = true;
    return;
  }
  std::copy(v.begin(), v.end(), out_.begin() + static_cast<std::ptrdiff_t>(size_));
  size_ += v.size();
}

Result<size_t> RecordWriter::finish() {
  if (overflow_ || out_.size() - size_ < kRecordTrailerSize) return Reason::out_of_memory;
  auto body = static_cast<uint32_t>(size_ - kRecordHeaderSize);
  for (size_t i = 0; i < 4; ++i) out_[6 + i] = static_cast<uint8_t>(body >> (8 * i));
  u32(crc32(out_.first(size_)));
  return size_;
}

uint64_t RecordReader::get(size_t n) {
  if (overrun_ || remaining() < n) {
    overrun_ = true;
    return 0;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(body_[pos_ + i]) << (8 * i);
  pos_ += n;
  return v;
}

void RecordReader::bytes(std::span<uint8_t> out) {
  if (overrun_ || remaining() < out.size()) {
    overrun_ = true;
    std::fill(out.begin(), out.end(), 0);
    return;
  }
  std::copy_n(body_.begin() + static_cast<std::ptrdiff_t>(pos_), out.size(), out.begin());
  pos_ += out.size();
}

Result<std::span<const uint8_t>> open_record(std::span<const uint8_t> record,
                                             const RecordMagic& magic, uint16_t version) {
  if (record.size() < kRecordHeaderSize) return record_error(RecordFault::truncated);
  if (!std::equal(magic.begin(), magic.end(), record.begin())) {
    return record_error(RecordFault::bad_magic);
  }
  RecordReader header(record.subspan(4, 6));
  uint16_t found_version = header.u16();
  uint32_t body_size = header.u32();
  if (found_version != version) return record_error(RecordFault::unsupported_version);
  if (record.size() < kRecordOverhead || body_size > record.size() - kRecordOverhead) {
    return record_error(RecordFault::truncated);
  }
  if (record.size() != kRecordOverhead + body_size) return record_error(RecordFault::bad_length);
  RecordReader trailer(record.subspan(kRecordHeaderSize + body_size));
  if (trailer.u32() != crc32(record.first(kRecordHeaderSize + body_size))) {
    return record_error(RecordFault::bad_checksum);
  }
  return record.subspan(kRecordHeaderSize, body_size);
}

}  // namespace sublink
