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

const char* storage_failure_text(const Status& s) {
  if (s.ok()) return "ok";
  if (s.reason() != Reason::io_error) return reason_name(s.reason());
  switch (s.detail()) {
    case storage_detail::kNotFound: return "nothing stored";
    case storage_detail::kCorrupt: return "no intact copy";
    case storage_detail::kTooBig: return "record too large";
    case storage_detail::kNoSpace: return "no room on the medium";
    case storage_detail::kBadRecordId: return "no such record";
    default: return "platform error";
  }
}

}  // namespace sublink
