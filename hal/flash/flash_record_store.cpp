#include "hal/flash/flash_record_store.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "hal/crc32.h"

namespace sublink {

namespace {

constexpr size_t kMaxWordSize = 32;
constexpr size_t kMaxHeaderSize = 64;  // header_size(kMaxWordSize)
constexpr size_t kChunk = 64;          // stack buffer for streaming reads

size_t round_up(size_t n, size_t unit) { return (n + unit - 1) / unit * unit; }

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// a is newer than b in serial-number arithmetic: survives 32-bit wrap as
// long as live entries are less than 2^31 writes apart.
bool newer(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }

Status not_found() { return Status(Reason::storage_not_found); }
Status corrupt() { return Status(Reason::storage_corrupt); }

}  // namespace

namespace flash_entry {

size_t header_size(size_t word_size) {
  return round_up(kHeaderFieldsSize, word_size) + word_size;
}

void encode_header(std::span<uint8_t> out, size_t word_size, RecordId id, uint32_t sequence,
                   std::span<const uint8_t> payload) {
  const size_t fields_end = round_up(kHeaderFieldsSize, word_size);
  std::memset(out.data(), 0xFF, fields_end);
  uint8_t* h = out.data();
  put32(h + 0, kMagic);
  h[4] = static_cast<uint8_t>(id);
  h[5] = kFormat;
  h[6] = 0;
  h[7] = 0;
  put32(h + 8, sequence);
  put32(h + 12, static_cast<uint32_t>(payload.size()));
  put32(h + 16, crc32(payload));
  put32(h + 20, crc32(std::span<const uint8_t>(h, 20)));
  std::memset(h + fields_end, 0x00, word_size);
}

}  // namespace flash_entry

FlashRecordStore::FlashRecordStore(NorFlash& flash, FlashLayout layout)
    : flash_(flash), layout_(layout), geometry_(flash.geometry()) {
  const size_t w = geometry_.word_size;
  if (w == 0 || w > kMaxWordSize || (w & (w - 1)) != 0 || geometry_.sector_size == 0 ||
      geometry_.sector_size % w != 0 || layout_.record_count > kMaxRecordIds ||
      layout_.max_record_size > UINT32_MAX) {
    layout_status_ = Status(Reason::invalid_argument);
    return;
  }
  header_size_ = flash_entry::header_size(w);
  sectors_per_slot_ =
      round_up(header_size_ + round_up(layout_.max_record_size, w), geometry_.sector_size) /
      geometry_.sector_size;
  slot_bytes_ = sectors_per_slot_ * geometry_.sector_size;
  if (layout_.first_sector + sectors_needed(geometry_, layout_) > geometry_.sector_count) {
    layout_status_ = Status(Reason::storage_no_space);
  }
}

size_t FlashRecordStore::sectors_needed(const NorGeometry& geometry, const FlashLayout& layout) {
  const size_t w = geometry.word_size == 0 ? 1 : geometry.word_size;
  const size_t bytes = flash_entry::header_size(w) + round_up(layout.max_record_size, w);
  const size_t per_slot = geometry.sector_size == 0 ? 0 : round_up(bytes, geometry.sector_size) /
                                                              geometry.sector_size;
  return 2 * per_slot * layout.record_count;
}

Status FlashRecordStore::check_id(RecordId id) const {
  if (!layout_status_.ok()) return layout_status_;
  if (static_cast<size_t>(id) >= layout_.record_count) {
    return Status(Reason::storage_bad_record_id);
  }
  return Status::Ok();
}

size_t FlashRecordStore::slot_offset(RecordId id, int slot) const {
  const size_t index = static_cast<size_t>(id) * 2 + static_cast<size_t>(slot);
  return (layout_.first_sector + index * sectors_per_slot_) * geometry_.sector_size;
}

Status FlashRecordStore::payload_crc(size_t offset, size_t length, uint32_t& crc) {
  uint8_t chunk[kChunk];
  crc = 0;
  for (size_t done = 0; done < length;) {
    const size_t n = std::min(kChunk, length - done);
    if (Status s = flash_.read(offset + done, std::span<uint8_t>(chunk, n)); !s.ok()) return s;
    crc = crc32(std::span<const uint8_t>(chunk, n), crc);
    done += n;
  }
  return Status::Ok();
}

Status FlashRecordStore::is_erased(size_t offset, size_t length, bool& erased) {
  uint8_t chunk[kChunk];
  erased = true;
  for (size_t done = 0; done < length;) {
    const size_t n = std::min(kChunk, length - done);
    if (Status s = flash_.read(offset + done, std::span<uint8_t>(chunk, n)); !s.ok()) return s;
    for (size_t i = 0; i < n; ++i) {
      if (chunk[i] != 0xFF) {
        erased = false;
        return Status::Ok();
      }
    }
    done += n;
  }
  return Status::Ok();
}

Status FlashRecordStore::erased_from(size_t base, size_t& from) {
  uint8_t chunk[kChunk];
  for (size_t end = slot_bytes_; end > 0;) {
    const size_t n = std::min(kChunk, end);
    if (Status s = flash_.read(base + end - n, std::span<uint8_t>(chunk, n)); !s.ok()) return s;
    for (size_t i = n; i > 0; --i) {
      if (chunk[i - 1] != 0xFF) {
        from = end - n + i;
        return Status::Ok();
      }
    }
    end -= n;
  }
  from = 0;
  return Status::Ok();
}

Status FlashRecordStore::scan(RecordId id, int slot, SlotScan& out) {
  out = SlotScan{};
  const size_t base = slot_offset(id, slot);
  const size_t w = geometry_.word_size;
  uint8_t h[kMaxHeaderSize];
  size_t pos = 0;
  size_t erased_tail = SIZE_MAX;  // not read yet
  while (pos + header_size_ <= slot_bytes_) {
    if (Status s = flash_.read(base + pos, std::span<uint8_t>(h, header_size_)); !s.ok()) return s;
    const size_t fields_end = header_size_ - w;
    const bool fields_ok = get32(h) == flash_entry::kMagic && h[4] == static_cast<uint8_t>(id) &&
                           h[5] == flash_entry::kFormat &&
                           get32(h + 20) == crc32(std::span<const uint8_t>(h, 20));
    bool committed = fields_ok;
    for (size_t i = 0; committed && i < w; ++i) committed = h[fields_end + i] == 0x00;
    Entry e;
    e.offset = pos;
    e.sequence = get32(h + 8);
    e.length = get32(h + 12);
    e.payload_crc = get32(h + 16);
    const size_t entry_size = header_size_ + round_up(e.length, w);
    const bool fits = e.length <= layout_.max_record_size && pos + entry_size <= slot_bytes_;
    if (fields_ok && !committed && fits) {
      // A write cut after its header fields (program_entry's order): its
      // payload is skipped whole, never scanned for entries, so no value
      // stored in it can pass for one.
      pos += entry_size;
      continue;
    }
    if (!committed || !fits) {
      // Erased from here on: the log ends. Anything else is a torn write or
      // a damaged header: resynchronise on the next word, so one bad bit
      // does not hide the newer entries behind it.
      if (erased_tail == SIZE_MAX) {
        if (Status s = erased_from(base, erased_tail); !s.ok()) return s;
      }
      if (pos >= erased_tail) break;
      pos += w;
      continue;
    }
    if (!out.has_header || newer(e.sequence, out.max_sequence)) out.max_sequence = e.sequence;
    out.has_header = true;
    uint32_t crc = 0;
    if (Status s = payload_crc(base + pos + header_size_, e.length, crc); !s.ok()) return s;
    // A committed header with a damaged payload is skipped, not trusted.
    if (crc == e.payload_crc && (!out.has_valid || newer(e.sequence, out.newest.sequence))) {
      out.newest = e;
      out.has_valid = true;
    }
    pos += entry_size;
    out.end = pos;
  }
  return is_erased(base + out.end, slot_bytes_ - out.end, out.tail_erased);
}

Result<size_t> FlashRecordStore::read(RecordId id, std::span<uint8_t> out) {
  if (Status s = check_id(id); !s.ok()) return s;
  SlotScan scans[2];
  for (int slot = 0; slot < 2; ++slot) {
    if (Status s = scan(id, slot, scans[slot]); !s.ok()) return s;
  }
  int best = -1;
  for (int slot = 0; slot < 2; ++slot) {
    if (scans[slot].has_valid &&
        (best < 0 || newer(scans[slot].newest.sequence, scans[best].newest.sequence))) {
      best = slot;
    }
  }
  if (best < 0) {
    const bool blank = scans[0].end == 0 && scans[0].tail_erased && scans[1].end == 0 &&
                       scans[1].tail_erased;
    return blank ? not_found() : corrupt();
  }
  const Entry& e = scans[best].newest;
  if (e.length > out.size()) return Status(Reason::storage_too_big);
  const size_t at = slot_offset(id, best) + e.offset + header_size_;
  if (Status s = flash_.read(at, out.first(e.length)); !s.ok()) return s;
  // Checked again on the bytes handed out, so a cell that changed since the
  // scan can never produce a mixed value.
  if (crc32(out.first(e.length)) != e.payload_crc) return corrupt();
  // A committed header newer than the value returned had its payload
  // programmed before its commit word, so its payload failing the CRC is
  // damage after the fact, not a cut write: say so.
  bool fell_back = false;
  for (const SlotScan& scan : scans) {
    if (scan.has_header && newer(scan.max_sequence, e.sequence)) fell_back = true;
  }
  const uint32_t bit = uint32_t{1} << static_cast<unsigned>(id);
  fell_back_ = fell_back ? (fell_back_ | bit) : (fell_back_ & ~bit);
  return static_cast<size_t>(e.length);
}

Status FlashRecordStore::erase_slot(RecordId id, int slot) {
  // First sector first: it holds the first header, so a cut erase leaves a
  // slot that reads as empty, not one with stale entries.
  const size_t first = slot_offset(id, slot) / geometry_.sector_size;
  for (size_t i = 0; i < sectors_per_slot_; ++i) {
    if (Status s = flash_.erase_sector(first + i); !s.ok()) return s;
  }
  return Status::Ok();
}

Status FlashRecordStore::program_entry(RecordId id, size_t offset, uint32_t sequence,
                                       std::span<const uint8_t> data) {
  // Header fields first, then the payload, then the commit word: a cut
  // anywhere after the fields leaves a header that says how long the torn
  // entry is (scan() steps over it whole); a cut inside the fields leaves
  // nothing that checks out.
  const size_t w = geometry_.word_size;
  uint8_t h[kMaxHeaderSize];
  flash_entry::encode_header(std::span<uint8_t>(h, header_size_), w, id, sequence, data);
  const size_t fields_end = header_size_ - w;
  if (Status s = flash_.program(offset, std::span<const uint8_t>(h, fields_end)); !s.ok()) return s;
  const size_t payload_at = offset + header_size_;
  const size_t whole = data.size() / w * w;
  if (whole > 0) {
    if (Status s = flash_.program(payload_at, data.first(whole)); !s.ok()) return s;
  }
  if (whole < data.size()) {
    uint8_t tail[kMaxWordSize];
    std::memset(tail, 0xFF, w);
    std::memcpy(tail, data.data() + whole, data.size() - whole);
    if (Status s = flash_.program(payload_at + whole, std::span<const uint8_t>(tail, w)); !s.ok()) {
      return s;
    }
  }
  return flash_.program(offset + fields_end, std::span<const uint8_t>(h + fields_end, w));
}

Status FlashRecordStore::write(RecordId id, std::span<const uint8_t> data) {
  if (Status s = check_id(id); !s.ok()) return s;
  if (data.size() > layout_.max_record_size) {
    return Status(Reason::storage_too_big);
  }
  SlotScan scans[2];
  for (int slot = 0; slot < 2; ++slot) {
    if (Status s = scan(id, slot, scans[slot]); !s.ok()) return s;
  }
  int active = 0;
  if (scans[0].has_valid && scans[1].has_valid) {
    active = newer(scans[1].newest.sequence, scans[0].newest.sequence) ? 1 : 0;
  } else if (scans[1].has_valid) {
    active = 1;
  }
  uint32_t sequence = 1;
  bool seen = false;
  for (const SlotScan& s : scans) {
    if (s.has_header && (!seen || newer(s.max_sequence + 1, sequence))) {
      sequence = s.max_sequence + 1;
      seen = true;
    }
  }
  const size_t entry_size = header_size_ + round_up(data.size(), geometry_.word_size);
  int target = active;
  size_t offset = scans[active].end;
  // Appending is safe only onto erased cells after the last committed entry;
  // anything else there (a cut write) means the slot is used up.
  if (!scans[active].tail_erased || offset + entry_size > slot_bytes_) {
    target = 1 - active;
    offset = 0;
    // The slot holding the newest value is never touched here.
    if (Status s = erase_slot(id, target); !s.ok()) return s;
  }
  const size_t base = slot_offset(id, target);
  if (Status s = program_entry(id, base + offset, sequence, data); !s.ok()) return s;
  // Read back: a worn sector that does not hold its bits must not report Ok.
  uint32_t crc = 0;
  if (Status s = payload_crc(base + offset + header_size_, data.size(), crc); !s.ok()) return s;
  if (crc != crc32(data)) return corrupt();
  return Status::Ok();
}

}  // namespace sublink
