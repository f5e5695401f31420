#include "firmware/agent/record_keeper.h"

#include "firmware/agent/event_delivery.h"
#include "firmware/agent/text_builder.h"

namespace sublink {

Status RecordKeeper::store_status(RecordId id, std::span<const uint8_t> bytes) {
  Status s = storage_.write(id, bytes);
  const uint32_t bit = uint32_t{1} << static_cast<unsigned>(id);
  if (s.ok()) {
    failing_records_ &= ~bit;
    if (failing_records_ == 0) storage_text_[0] = '\0';
    return s;
  }
  const char* name = record_name(id);
  // "events not stored: /var/lib/sublink/events.tmp: No space left on
  // device": the record, and the file and the system's words from storage.
  const std::string_view why = storage_.failure_text(s);
  TextBuilder(storage_text_).add(name != nullptr ? name : "record").add(": ").add(why);
  std::array<char, 40> what{};
  log_.write(LogLevel::error, TextBuilder(what).add(name != nullptr ? name : "record").add(" not stored").view(), why);
  if ((failing_records_ & bit) == 0) {
    failing_records_ |= bit;
    // Once per streak: a full disk must not fill the event log with copies.
    // Before the log is restored at boot, the event waits for it (the
    // restore would replace it).
    if (events_ready_) {
      push_storage_failed(id, storage_wire_detail(s));
    } else {
      const int32_t detail = storage_wire_detail(s);
      unreported_failures_[static_cast<size_t>(id) % kMaxRecordIds] = detail == 0 ? -1 : detail;
    }
  }
  return s;
}

void RecordKeeper::events_ready() {
  events_ready_ = true;
  for (size_t i = 0; i < kMaxRecordIds; ++i) {
    if (unreported_failures_[i] == 0) continue;
    push_storage_failed(static_cast<RecordId>(i), unreported_failures_[i] == -1 ? 0 : unreported_failures_[i]);
    unreported_failures_[i] = 0;
  }
}

void RecordKeeper::push_storage_failed(RecordId id, int32_t detail) {
  const char* name = record_name(id);
  EventPayload p;
  p.set_text(name != nullptr ? name : "record");
  p.detail = detail;
  events_.push(EventKind::storage_failed, Severity::major, p);
}

void RecordKeeper::note_damage(RecordId id, int32_t fault, std::string_view consequence, uint32_t events_lost) {
  const char* name = record_name(id);
  std::array<char, 128> unused{};
  std::array<char, 128>& text = damage_count_ < kMaxDamageNotes ? damage_text_[damage_count_++] : unused;
  TextBuilder t(text);
  t.add(name).add(fault == kDamageNewestCopy ? ": newest copy damaged" : ": record damaged (");
  if (fault != kDamageNewestCopy) t.add(record_damage_name(fault)).add(")");
  t.add(", ").add(consequence);
  log_.write(LogLevel::error, "record damaged", t.view());
  EventPayload p;
  p.set_text(name);
  p.detail = fault;
  p.count = events_lost;
  events_.queue_now(EventKind::record_damaged, Severity::major, p);
}

std::string_view RecordKeeper::failure_text() const {
  return failing_records_ != 0 ? text_of(storage_text_) : std::string_view();
}

std::string_view RecordKeeper::damage(size_t i) const {
  return i < damage_count_ && i < kMaxDamageNotes ? text_of(damage_text_[i]) : std::string_view();
}

}  // namespace sublink
