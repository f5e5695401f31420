// Durable records: the few pieces of agent state that must survive reboots
// and power loss (PROTOCOL.md section 5): the license, the grace accounting,
// usage counters, the event queue with its seq counter, the boot counter,
// the device's instance (section 4, identity).
//
// A narrow HAL facade with one backend per platform: files in a state
// directory on Linux (hal/linux/file_storage.h), A/B records on raw NOR
// flash on a board (hal/flash/flash_record_store.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "hal/status.h"

namespace sublink {

/// Which record. The values are stored on flash and in file headers: never
/// renumber, only append. Values up to kMaxRecordIds - 1 are valid; the
/// unnamed ones are room for later records.
enum class RecordId : uint8_t {
  license = 0,  // the accepted license and its signature
  grace = 1,    // grace accounting checkpoint
  usage = 2,    // usage counters for the audit
  events = 3,   // the undelivered event queue and its seq counter
  boot = 4,     // the boot counter
  identity = 5, // the device's `instance`, made at its first boot
};

/// Number of record ids a backend must be able to address.
inline constexpr size_t kMaxRecordIds = 16;

/// Stable lower-case name of a record ("license", ...), used for file names
/// and logs; "record6" ... "record15" for the unnamed ids, nullptr when the
/// id is out of range.
const char* record_name(RecordId id);

/// Storage failures: the storage layer's own outcomes have their own
/// reasons (Reason::storage_not_found ... storage_bad_record_id, hal/status.h);
/// a platform's refusal is Reason::io_error with a positive errno (or 0) in
/// `detail`.

/// True when `s` is the "nothing stored yet" outcome of Storage::read.
constexpr bool is_not_found(const Status& s) { return s.reason() == Reason::storage_not_found; }
/// True when `s` is the "stored but unreadable" outcome of Storage::read:
/// bit rot, a foreign file, or a first write that was cut before it committed.
constexpr bool is_corrupt(const Status& s) { return s.reason() == Reason::storage_corrupt; }

/// The storage layer's own outcomes in words ("nothing stored", "no room on
/// the medium", ...); "platform error" for io_error, the reason's name for
/// any other reason.
const char* storage_failure_text(const Status& s);

/// The number a storage failure is reported with in the `storage_failed`
/// event's `detail` (PROTOCOL.md section 5, events): io_error's errno, and
/// for the storage layer's own reasons the negative numbers they have always
/// gone on the wire as, so they never collide with an errno: -1001 not
/// found, -1002 corrupt, -1003 too big, -1004 no space, -1005 bad record id.
/// The one place those numbers live.
int32_t storage_wire_detail(const Status& s);

/// Atomic, power-loss-safe records. Each record holds one byte string of at
/// most max_record_size() bytes; a write replaces it as a whole.
class Storage {
 public:
  virtual ~Storage() = default;

  /// Copies the newest committed value of `id` into the front of `out` and
  /// returns its length. Never returns a mix of two values: when the newest
  /// copy is damaged, it returns the previous committed value instead.
  /// Failures: storage_not_found (never written), storage_corrupt (no
  /// intact copy), storage_too_big (`out` too small), or a platform error. The contents of `out`
  /// are unspecified after a failure.
  virtual Result<size_t> read(RecordId id, std::span<uint8_t> out) = 0;

  /// Replaces the value of `id` with `data` (may be empty). When it returns
  /// Ok the new value is durable. When power is lost before, a later read
  /// returns either the previous value or the new one, never a mix and never
  /// nothing once a first value was committed.
  virtual Status write(RecordId id, std::span<const uint8_t> data) = 0;

  /// Largest value write() accepts.
  virtual size_t max_record_size() const = 0;

  /// The failure `s` of read() or write() in the words of the platform, for
  /// logs ("No space left on device" for a file system's ENOSPC). This
  /// default names the storage layer's own reasons and calls io_error
  /// "platform error"; a backend whose details are errno values says more.
  virtual const char* failure_text(const Status& s) const { return storage_failure_text(s); }

  /// True when the latest successful read() of `id` returned an older value
  /// because a newer committed one failed its checks since it was written
  /// (a flipped bit, not a cut write, which never commits): what only the
  /// newer value held is lost, and the reader must not take the older one
  /// for the latest. Backends that keep a single copy answer false.
  virtual bool read_fell_back(RecordId /*id*/) const { return false; }
};

}  // namespace sublink
