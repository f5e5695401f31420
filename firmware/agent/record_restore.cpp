#include "firmware/agent/record_restore.h"

#include "firmware/agent/boot_counter.h"
#include "firmware/agent/device_instance.h"
#include "firmware/agent/text_builder.h"
#include "firmware/agent/usage_tracker.h"
#include "firmware/grace/grace_record.h"

namespace sublink {

Status RecordRestore::run(Millis now, DeviceIdentity& identity) {
  boot_counter(identity);
  instance(identity);
  p_.events.set_boot_count(identity.boot_count);
  event_log();
  const bool held = license();
  grace_account(now, held);
  usage();
  return first_error_;
}

void RecordRestore::note(const Status& s) {
  if (!s.ok() && !is_not_found(s) && !is_corrupt(s) && first_error_.ok()) first_error_ = s;
}

void RecordRestore::defer(RecordId id, int32_t fault, const char* consequence) {
  if (pending_count_ < pending_.size()) pending_[pending_count_++] = {id, fault, consequence};
}

std::optional<std::span<const uint8_t>> RecordRestore::read(RecordId id, std::span<uint8_t> buffer, int32_t& fault) {
  fault = 0;
  Storage& storage = p_.records.storage();
  Result<size_t> r = storage.read(id, buffer);
  if (r.ok()) {
    if (storage.read_fell_back(id)) fault = kDamageNewestCopy;
    return std::span<const uint8_t>(buffer.data(), *r);
  }
  note(r.status());
  if (!is_not_found(r.status())) fault = is_corrupt(r.status()) ? kDamageNoIntactCopy : kDamageReadFailed;
  return std::nullopt;
}

void RecordRestore::boot_counter(DeviceIdentity& identity) {
  // A damaged counter restarts at 1: the server learns of the reboot from
  // the record_damaged event.
  uint64_t previous = 0;
  int32_t fault = 0;
  if (auto bytes = read(RecordId::boot, p_.records.scratch(), fault)) {
    Result<uint64_t> count = decode_boot_record(*bytes);
    if (count.ok()) {
      previous = *count;
    } else {
      fault = count.status().detail();
    }
  }
  if (fault != 0) defer(RecordId::boot, fault, "boot counter restarted");
  identity.boot_count = next_boot_count(previous);
  BootRecordBytes boot_record = encode_boot_record(identity.boot_count);
  Status stored = p_.records.store_status(RecordId::boot, boot_record);
  note(stored);
  // A count that is not durable would be counted again by the next start
  // (it reads the old value back): hello says 0 (not counted) instead of
  // a number another boot will also send.
  identity.boot_counted = stored.ok();
  if (!identity.boot_counted) {
    p_.log.write(LogLevel::error, "boot counter not stored: this start is not counted", reason_name(stored.reason()));
  }
}

void RecordRestore::instance(DeviceIdentity& identity) {
  // Instance: the same for the device's whole life, a new one only when its
  // record is gone (then the server may see one replacement it cannot tell
  // from a clone's, never the several that make an alarm).
  int32_t fault = 0;
  if (auto bytes = read(RecordId::identity, p_.records.scratch(), fault)) {
    Result<uint64_t> instance = decode_identity_record(*bytes);
    if (instance.ok()) {
      identity.instance = format_hex64(*instance);
      if (fault == kDamageNewestCopy) {
        // The older copy's instance is kept, and stored again so the record
        // is whole once more (else every boot would report the same damage).
        IdentityRecordBytes record = encode_identity_record(*instance);
        note(p_.records.store_status(RecordId::identity, record));
        defer(RecordId::identity, fault, "older copy of the instance kept");
      }
    } else {
      fault = instance.status().detail();
    }
  }
  if (identity.instance) return;
  Result<uint64_t> made = make_instance(p_.random);
  if (made.ok()) {
    IdentityRecordBytes record = encode_identity_record(*made);
    // An instance that is not durable would be made anew at every start,
    // and a restart loop would look like two appliances taking turns: it
    // goes in hello only once stored (the server counts no replacement
    // of a link that says no instance). The failure is reported as
    // storage_failed once the event log runs.
    Status stored = p_.records.store_status(RecordId::identity, record);
    note(stored);
    if (stored.ok()) {
      identity.instance = format_hex64(*made);
    } else {
      p_.log.write(LogLevel::error, "instance not stored: hello says none this start", reason_name(stored.reason()));
    }
  } else {
    p_.log.write(LogLevel::error, "no instance: the random source failed", reason_name(made.status().reason()));
  }
  if (fault != 0) {
    defer(RecordId::identity, fault,
          identity.instance ? "new instance made" : "no instance until one can be made and stored");
  }
}

void RecordRestore::event_log() {
  // When the log starts empty (first boot, a wiped state, a record lost or
  // damaged) its seqs may already be at the server: a new stream keeps new
  // events from being taken for duplicates. When storage fell back to an
  // older copy, the events it kept go out in their stream (the server drops
  // any it already has) and new ones in a new stream, since the newer copy
  // may have issued the seqs that follow.
  EventQueue& queue = p_.events.queue();
  uint32_t lost = 0;
  int32_t fault = 0;
  if (auto bytes = read(RecordId::events, p_.events.record_buffer(), fault)) {
    Status restored = queue.restore(*bytes);
    if (!restored.ok()) {
      fault = restored.detail();
      lost = EventQueue::events_in_record(*bytes);
    }
  }
  if (fault != 0 || queue.needs_new_stream()) p_.events.start_stream();
  p_.events.restored();
  p_.records.events_ready();
  if (fault != 0) {
    std::array<char, 96> consequence_text{};
    TextBuilder consequence(consequence_text);
    if (fault == kDamageNewestCopy) {
      consequence.add("older copy kept (").number(queue.size()).add(" undelivered events), newer events lost");
    } else if (lost > 0) {
      consequence.number(lost).add(lost == 1 ? " undelivered event lost" : " undelivered events lost");
    } else {
      consequence.add("undelivered events lost");
    }
    consequence.add(", new stream ").add(p_.events.stream_text());
    p_.records.note_damage(RecordId::events, fault, consequence.view(), lost);
  }
  for (size_t i = 0; i < pending_count_; ++i) {
    p_.records.note_damage(pending_[i].id, pending_[i].fault, pending_[i].consequence);
  }
  pending_count_ = 0;
}

bool RecordRestore::license() {
  LicenseRefusal refusal = LicenseRefusal::none;
  int32_t fault = 0;
  if (auto bytes = read(RecordId::license, p_.records.scratch(), fault)) refusal = p_.license.restore(*bytes, fault);
  if (fault != 0 && fault != kDamageNewestCopy) refusal = LicenseRefusal::bad_record;
  if (fault != 0) {
    p_.records.note_damage(RecordId::license, fault,
                           fault == kDamageNewestCopy ? "older copy kept, the newer license lost until granted again"
                                                      : "license lost until the server grants it again");
  }
  if (refusal != LicenseRefusal::none) {
    p_.events.push(EventKind::license_refused, Severity::major, license_refusal_name(refusal));
  }
  return p_.license.held();
}

void RecordRestore::grace_account(Millis now, bool license_held) {
  std::optional<GraceRecord> record;
  int32_t fault = 0;
  if (auto bytes = read(RecordId::grace, p_.records.scratch(), fault)) {
    Result<GraceRecord> r = decode_grace_record(*bytes);
    if (r.ok()) {
      record = *r;
    } else {
      fault = r.status().detail();
    }
  }
  if (fault != 0) {
    p_.records.note_damage(RecordId::grace, fault,
                           fault == kDamageNewestCopy ? "older checkpoint kept, grace time since it lost"
                           : license_held ? "grace account lost, state expired until the server is reached"
                                          : "grace account lost");
  }
  p_.grace.on_boot(now, p_.wall.now(), record, license_held);
}

void RecordRestore::usage() {
  std::array<uint8_t, kMaxUsageRecordBytes> bytes{};
  int32_t fault = 0;
  if (auto record = read(RecordId::usage, bytes, fault)) {
    Status restored = p_.audit.restore(*record);
    if (!restored.ok()) {
      fault = restored.detail() != 0 ? restored.detail() : static_cast<int32_t>(RecordFault::bad_value);
    }
  }
  if (fault != 0) {
    p_.records.note_damage(RecordId::usage, fault,
                           fault == kDamageNewestCopy ? "older counters kept, usage since lost"
                                                      : "usage since the last audit lost");
  }
}

}  // namespace sublink
