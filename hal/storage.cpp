#include "hal/storage.h"

namespace sublink {

const char* record_name(RecordId id) {
  // Names are file names on Linux: changing one orphans the stored record.
  static constexpr const char* kNames[kMaxRecordIds] = {
      "license",  "grace",    "usage",    "events",   "boot",     "record5",
      "record6",  "record7",  "record8",  "record9",  "record10", "record11",
      "record12", "record13", "record14", "record15",
  };
  const auto i = static_cast<size_t>(id);
  return i < kMaxRecordIds ? kNames[i] : nullptr;
}

}  // namespace sublink
