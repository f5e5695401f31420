// Power-loss-safe records on raw NOR flash, without a file system.
//
// Each record owns two slots (A and B) of whole sectors. A slot is a log of
// entries, appended until full, so a small record costs one erase per many
// writes rather than one per write. When the slot holding the newest value
// is full, the other slot is erased and the entry goes there. The newest
// value therefore always survives in the slot that is not being erased or
// written, whatever operation the power cuts.
//
// Entry on flash (little endian), at a word-aligned offset in its slot:
//   0  u32 magic 0x314C5253 ("SRL1")   4 u8 record id   5 u8 format (1)
//   6  u16 reserved (0)   8 u32 sequence   12 u32 payload length
//   16 u32 CRC-32 of the payload        20 u32 CRC-32 of bytes 0..19
//   then 0xFF padding to a word boundary, then the commit word (all 0x00),
//   then the payload padded with 0xFF to a word boundary.
// Programming order is the header fields, the payload, the commit word last,
// so an entry cut anywhere before the end never has a commit word of all
// zeros and is never taken for valid, and one cut after its fields says how
// long it is: it is stepped over whole, so no value stored in a torn entry
// can pass for an entry. Reading takes the valid entry with the newest
// sequence (serial-number comparison, so the 32-bit sequence may wrap). A
// header that does not check out is skipped word by word until the next
// committed one, so one flipped bit in an old entry does not hide the newer
// ones after it; appends go only onto erased cells after the last committed
// entry.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hal/flash/nor_flash.h"
#include "hal/storage.h"

namespace sublink {

/// Where the records live on the flash and how big they may be.
struct FlashLayout {
  size_t first_sector = 0;     // first sector of the record area
  size_t record_count = 6;     // records 0 .. record_count-1 get slots (RecordId::identity is 5)
  size_t max_record_size = 4096;
};

/// The on-flash entry format, public so tools and tests can read or build
/// images (see the file comment for the byte layout).
namespace flash_entry {
inline constexpr uint32_t kMagic = 0x314C5253;
inline constexpr uint8_t kFormat = 1;
inline constexpr size_t kHeaderFieldsSize = 24;
/// Bytes from the entry start to its payload for word size `word_size`.
size_t header_size(size_t word_size);
/// Writes the header fields and the commit word for an entry into `out`
/// (header_size(word_size) bytes, padding set to 0xFF).
void encode_header(std::span<uint8_t> out, size_t word_size, RecordId id, uint32_t sequence,
                   std::span<const uint8_t> payload);
}  // namespace flash_entry

class FlashRecordStore : public Storage {
 public:
  /// Uses `flash` (not owned; must outlive the store) with `layout`.
  /// Check layout_status() before use; read/write fail the same way if the
  /// layout does not fit.
  FlashRecordStore(NorFlash& flash, FlashLayout layout);

  /// Ok, or kNoSpace when the layout needs more sectors than the flash has,
  /// or invalid_argument when the geometry is unusable (word size not a
  /// power of two up to 32, sector size not a multiple of it).
  Status layout_status() const { return layout_status_; }

  /// Sectors the layout needs on a flash of `geometry` (2 slots per record).
  static size_t sectors_needed(const NorGeometry& geometry, const FlashLayout& layout);

  Result<size_t> read(RecordId id, std::span<uint8_t> out) override;
  Status write(RecordId id, std::span<const uint8_t> data) override;
  size_t max_record_size() const override { return layout_.max_record_size; }
  bool read_fell_back(RecordId id) const override {
    return (fell_back_ >> static_cast<unsigned>(id)) & 1u;
  }

 private:
  struct Entry {
    size_t offset = 0;  // in the slot
    uint32_t sequence = 0;
    uint32_t length = 0;
    uint32_t payload_crc = 0;
  };
  struct SlotScan {
    bool has_valid = false;
    Entry newest;                 // newest entry whose payload checks out
    bool has_header = false;      // any committed header, payload good or not
    uint32_t max_sequence = 0;    // newest sequence among committed headers
    size_t end = 0;               // first byte after the last committed entry
    bool tail_erased = false;     // [end, slot end) is all 0xFF
  };

  Status check_id(RecordId id) const;
  size_t slot_offset(RecordId id, int slot) const;
  Status scan(RecordId id, int slot, SlotScan& out);
  Status payload_crc(size_t offset, size_t length, uint32_t& crc);
  Status is_erased(size_t offset, size_t length, bool& erased);
  // The offset in the slot at `base` from which every byte reads erased
  // (0xFF): one pass from the slot's end, so resynchronising over a damaged
  // slot reads it once, not once per word.
  Status erased_from(size_t base, size_t& from);
  Status erase_slot(RecordId id, int slot);
  Status program_entry(RecordId id, size_t offset, uint32_t sequence,
                       std::span<const uint8_t> data);

  NorFlash& flash_;
  FlashLayout layout_;
  NorGeometry geometry_;
  size_t header_size_ = 0;
  size_t sectors_per_slot_ = 0;
  size_t slot_bytes_ = 0;
  Status layout_status_;
  uint32_t fell_back_ = 0;  // bit per record id: the latest read fell back
};

}  // namespace sublink
