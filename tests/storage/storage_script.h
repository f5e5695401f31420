// A scripted history of writes to every record, and the check that after a
// power cut each record holds its previous or its new value, never a mix and
// never nothing once a first value was committed. Shared by the flash and
// the file backend sweeps.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "hal/storage.h"

namespace sublink::test {

inline constexpr RecordId kNamedRecords[] = {RecordId::license, RecordId::grace, RecordId::usage,
                                             RecordId::events, RecordId::boot};

struct ScriptedWrite {
  RecordId id;
  std::vector<uint8_t> value;
};

/// Values with a distinct pattern per write, so any mix of two is visible.
inline std::vector<uint8_t> pattern(size_t size, uint32_t tag) {
  std::vector<uint8_t> v(size);
  uint32_t x = tag * 2654435761u + 12345;
  for (auto& b : v) {
    x = x * 1103515245u + 12345;
    b = static_cast<uint8_t>(x >> 16);
  }
  return v;
}

/// `rounds` writes of every named record, sizes cycling through `sizes`.
inline std::vector<ScriptedWrite> make_script(const std::vector<size_t>& sizes, int rounds) {
  std::vector<ScriptedWrite> script;
  uint32_t tag = 1;
  for (int r = 0; r < rounds; ++r) {
    for (RecordId id : kNamedRecords) {
      script.push_back({id, pattern(sizes[tag % sizes.size()], tag)});
      ++tag;
    }
  }
  return script;
}

/// Runs writes in order until one fails; returns the index of the failed
/// write, or script.size() when all succeeded.
inline size_t run_script(Storage& storage, const std::vector<ScriptedWrite>& script,
                         size_t from = 0) {
  for (size_t i = from; i < script.size(); ++i) {
    if (!storage.write(script[i].id, script[i].value).ok()) return i;
  }
  return script.size();
}

/// After a cut during write `failed` (writes before it returned Ok), every
/// record must read as its last committed value, or, for the record being
/// written, as the new value. Before a record's first commit, "not found"
/// (and "corrupt" when `corrupt_ok_before_first`) is also right.
inline ::testing::AssertionResult holds_previous_or_new(Storage& storage,
                                                        const std::vector<ScriptedWrite>& script,
                                                        size_t failed,
                                                        bool corrupt_ok_before_first) {
  std::vector<uint8_t> buffer(storage.max_record_size());
  for (RecordId id : kNamedRecords) {
    std::optional<std::vector<uint8_t>> previous;
    for (size_t i = 0; i < failed && i < script.size(); ++i) {
      if (script[i].id == id) previous = script[i].value;
    }
    const bool in_flight = failed < script.size() && script[failed].id == id;
    Result<size_t> got = storage.read(id, buffer);
    if (!got.ok()) {
      const bool nothing_yet = !previous.has_value();
      if (nothing_yet && (is_not_found(got.status()) ||
                          (corrupt_ok_before_first && is_corrupt(got.status())))) {
        continue;
      }
      return ::testing::AssertionFailure()
             << record_name(id) << ": read failed with detail " << got.status().detail()
             << (nothing_yet ? " before its first commit" : " although a value was committed");
    }
    std::vector<uint8_t> value(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(*got));
    if (previous && value == *previous) continue;
    if (in_flight && value == script[failed].value) continue;
    return ::testing::AssertionFailure()
           << record_name(id) << ": holds a value (" << value.size()
           << " bytes) that is neither the previous nor the new one";
  }
  return ::testing::AssertionSuccess();
}

/// The store still works after the cut: a fresh value for every record
/// reads back.
inline ::testing::AssertionResult writes_after_recovery(Storage& storage, uint32_t tag) {
  std::vector<uint8_t> buffer(storage.max_record_size());
  for (RecordId id : kNamedRecords) {
    const auto value = pattern(7 + static_cast<size_t>(id), tag + static_cast<uint32_t>(id));
    if (Status s = storage.write(id, value); !s.ok()) {
      return ::testing::AssertionFailure() << record_name(id) << ": write after recovery failed "
                                           << s.detail();
    }
    Result<size_t> got = storage.read(id, buffer);
    if (!got.ok() || std::vector<uint8_t>(buffer.begin(), buffer.begin() + *got) != value) {
      return ::testing::AssertionFailure() << record_name(id) << ": read after recovery differs";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace sublink::test
