// Storage on Linux: one record is two files in the state directory,
// `<name>.a` and `<name>.b`, holding the two newest generations. A write
// replaces the older generation (temp file, fsync, rename over it, fsync the
// directory), so the newest committed value is never touched while the new
// one is in flight, and a newest file found torn or bit-flipped later falls
// back to the previous good generation instead of to nothing.
//
// File format (little endian): u32 magic 0x53464C53 ("SLFS"), u16 format
// (1), u8 record id, u8 reserved (0), u32 sequence, u32 payload length,
// u32 CRC-32 of the payload, u32 CRC-32 of the preceding 20 bytes, payload.
// The file is exactly 24 + length bytes; anything else is corrupt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hal/linux/file_ops.h"
#include "hal/storage.h"

namespace sublink {

class FileStorage : public Storage {
 public:
  /// Records under `state_dir` through `ops` (not owned; must outlive this).
  /// Nothing touches the disk until open().
  FileStorage(FileOps& ops, std::string_view state_dir, size_t max_record_size);

  /// Creates the state directory (mode 0700) when it is missing and makes
  /// its creation durable. Its parent must exist. Call once before
  /// read/write.
  Status open();

  Result<size_t> read(RecordId id, std::span<uint8_t> out) override;
  Status write(RecordId id, std::span<const uint8_t> data) override;
  size_t max_record_size() const override { return max_record_size_; }
  /// For an errno detail, the file it happened to and strerror()
  /// ("/var/lib/sublink/events.tmp: No space left on device"); else the
  /// storage layer's words. Valid until the next call.
  const char* failure_text(const Status& s) const override;
  bool read_fell_back(RecordId id) const override { return (fell_back_ >> static_cast<unsigned>(id)) & 1u; }

  static constexpr size_t kHeaderSize = 24;

 private:
  struct Generation {
    bool exists = false;      // the file could be opened
    bool committed = false;   // header checks out (sequence is meaningful)
    bool valid = false;       // header, size and payload CRC check out
    uint32_t sequence = 0;
    uint32_t length = 0;
    uint32_t payload_crc = 0;
  };
  // Longest state_dir + "/" + record name + ".tmp" we accept.
  static constexpr size_t kMaxPath = 512;
  struct Path {
    char text[kMaxPath];
  };

  Status check_id(RecordId id) const;
  void path_of(RecordId id, const char* suffix, Path& out) const;
  Status inspect(RecordId id, int generation, Generation& out);
  Status read_payload(RecordId id, int generation, const Generation& g, std::span<uint8_t> out);
  Status write_file(const char* path, std::span<const uint8_t> header,
                    std::span<const uint8_t> payload);
  Status sync_directory(const char* path);
  /// Returns `s`, remembering `path` when it is a platform error (errno).
  Status at(const char* path, Status s);

  FileOps& ops_;
  std::string dir_;
  size_t max_record_size_;
  uint32_t fell_back_ = 0;  // bit per record id: the latest read fell back
  Path failed_path_{};      // the file of the latest platform error
  mutable char failure_text_[kMaxPath + 96] = {};
};

}  // namespace sublink
