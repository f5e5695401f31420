// The agent's durable records, as the status and the server see them:
// every write goes through here, so a failing write is logged with the
// record's name and the system's words, shown in the status `storage` and
// reported once per failure streak as a `storage_failed` event; damage
// found at boot is named in the log and the status `damaged` and reported
// as `record_damaged`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "firmware/agent/agent_log.h"
#include "firmware/license/license_record.h"
#include "hal/storage.h"

namespace sublink {

class EventDelivery;

class RecordKeeper {
 public:
  static constexpr size_t kMaxDamageNotes = 6;

  RecordKeeper(Storage& storage, const AgentLog& log, EventDelivery& events)
      : storage_(storage), log_(log), events_(events) {}

  Storage& storage() { return storage_; }
  /// A buffer the size of the largest record but the event log, for
  /// building or reading one record at a time.
  std::span<uint8_t> scratch() { return record_; }

  /// Writes record `id`; true when stored. See store_status().
  bool store(RecordId id, std::span<const uint8_t> bytes) { return store_status(id, bytes).ok(); }
  /// Writes record `id`. A failure is logged, shown in the status and
  /// reported as a `storage_failed` event (text: the record's name) once
  /// per failure streak of the record; a success ends the streak.
  Status store_status(RecordId id, std::span<const uint8_t> bytes);

  /// The event log is restored at boot: failures found before it are
  /// reported now (the restore would have replaced them).
  void events_ready();
  /// Damage found at boot: logged, kept for the status, and reported as a
  /// `record_damaged` event (detail: `fault`, count: `events_lost`).
  void note_damage(RecordId id, int32_t fault, std::string_view consequence, uint32_t events_lost = 0);

  /// The status `storage`: the last failure while any record is failing.
  std::string_view failure_text() const;
  /// The status `damaged`: what the boot found (at most kMaxDamageNotes).
  size_t damage_count() const { return damage_count_; }
  std::string_view damage(size_t i) const;

 private:
  void push_storage_failed(RecordId id, int32_t detail);

  Storage& storage_;
  const AgentLog& log_;
  EventDelivery& events_;
  // Records whose latest write failed (bit per RecordId), the status text
  // of the last failure, and the damage found at boot.
  uint32_t failing_records_ = 0;
  bool events_ready_ = false;  // storage_failed events wait for the log at boot
  std::array<int32_t, kMaxRecordIds> unreported_failures_{};  // detail (-1: 0) per record, 0: none
  std::array<char, 256> storage_text_{};
  std::array<std::array<char, 128>, kMaxDamageNotes> damage_text_{};
  size_t damage_count_ = 0;
  std::array<uint8_t, kMaxLicenseRecordBytes> record_{};
};

}  // namespace sublink
