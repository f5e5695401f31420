// Framing and little-endian fields for the durable records the agent
// checkpoints through the Storage HAL (grace clock, event queue). A record is
//   magic[4] | version u16 | body length u32 | body | CRC-32 of all before it
// so a reader can tell a short write, a foreign file, an older format and a
// flipped bit apart, and never acts on any of them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "hal/crc32.h"
#include "hal/status.h"

namespace sublink {

/// The `detail` of a Status(Reason::invalid_payload) from open_record() or a
/// record decoder: which check failed.
enum class RecordFault : int32_t {
  truncated = 1,        // shorter than its header, or than the length it declares
  bad_magic,            // not this kind of record
  unsupported_version,  // written by another format version
  bad_length,           // declared length disagrees with the bytes or the format
  bad_checksum,         // CRC-32 mismatch: torn write or corruption
  bad_value,            // framing fine, a field out of range
};

/// Stable name of a fault ("bad_checksum"); "unknown" for other values.
const char* record_fault_name(int32_t detail);

/// Status for a record that failed `fault`.
constexpr Status record_error(RecordFault fault) {
  return Status(Reason::invalid_payload, static_cast<int32_t>(fault));
}

using RecordMagic = std::array<uint8_t, 4>;

inline constexpr size_t kRecordHeaderSize = 4 + 2 + 4;
inline constexpr size_t kRecordTrailerSize = 4;
inline constexpr size_t kRecordOverhead = kRecordHeaderSize + kRecordTrailerSize;

/// Writes a record into a caller buffer. Fields go in order; finish() seals
/// it. Writing past the buffer sets a flag instead of overrunning it.
class RecordWriter {
 public:
  RecordWriter(std::span<uint8_t> out, const RecordMagic& magic, uint16_t version);

  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void bytes(std::span<const uint8_t> v);

  /// Fills in the length and appends the CRC. Returns the record's size, or
  /// out_of_memory when the buffer was too small.
  Result<size_t> finish();

 private:
  void put(uint64_t v, size_t n);
  std::span<uint8_t> out_;
  size_t size_ = 0;
  bool overflow_ = false;
};

/// Reads fields of a record body in order; a read past the end sets a flag
/// and yields zeros, so a decoder checks once at the end.
class RecordReader {
 public:
  explicit RecordReader(std::span<const uint8_t> body) : body_(body) {}

  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint16_t u16() { return static_cast<uint16_t>(get(2)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  int64_t i64() { return static_cast<int64_t>(get(8)); }
  void bytes(std::span<uint8_t> out);

  bool overrun() const { return overrun_; }
  size_t remaining() const { return body_.size() - pos_; }

 private:
  uint64_t get(size_t n);
  std::span<const uint8_t> body_;
  size_t pos_ = 0;
  bool overrun_ = false;
};

/// Checks framing, magic, version and CRC, and returns the body.
Result<std::span<const uint8_t>> open_record(std::span<const uint8_t> record,
                                             const RecordMagic& magic, uint16_t version);

}  // namespace sublink
