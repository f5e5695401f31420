#include "hal/storage.h"

namespace sublink {

const char* record_name(RecordId id) {
  // Names are file names on Linux: changing one orphans the stored record.
  static constexpr const char* kNames[kMaxRecordIds] = {
      "license",  "grace",    "usage",    "events",   "boot",     "identity",
      "record6",  "record7",  "record8",  "record9",  "record10", "record11",
      "record12", "record13", "record14", "record15",
  };
  const auto i = static_cast<size_t>(id);
  return i < kMaxRecordIds ? kNames[i] : nullptr;
}

namespace {
bool is_storage_reason(Reason r) { return r >= Reason::storage_not_found && r <= Reason::storage_bad_record_id; }
}  // namespace

const char* storage_failure_text(const Status& s) {
  if (s.ok()) return "ok";
  if (s.reason() == Reason::io_error) return "platform error";
  // The storage reasons' hints are their words ("nothing stored", ...).
  return is_storage_reason(s.reason()) ? reason_hint(s.reason()) : reason_name(s.reason());
}

int32_t storage_wire_detail(const Status& s) {
  // The reasons are declared in the order of their wire numbers.
  if (!is_storage_reason(s.reason())) return s.detail();
  return -1001 - (static_cast<int32_t>(s.reason()) - static_cast<int32_t>(Reason::storage_not_found));
}

}  // namespace sublink
