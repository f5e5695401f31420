// The usage record (firmware/agent/usage_tracker). The tracker is
// configured with the feature names the record lists (read here from the
// record's layout: from, last_ack, count, then name/peak pairs), so every
// accepted record must come back whole. Invariants: an accepted record
// re-encodes to exactly the stored bytes (one encoding per state, each
// feature named once); a refused one leaves the tracker unchanged and
// names the field; what encode writes restores again.
// Input: a byte saying what the target seals (fuzz_check.h sealed_record:
// the CRC, the body length), then the record.
#include <string>
#include <vector>

#include "firmware/agent/usage_tracker.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

// The names a record lists, distinct, in order (at most kMaxLicenseFeatures).
std::vector<std::string> listed_names(std::span<const uint8_t> record) {
  std::vector<std::string> names;
  size_t at = 10 + 9 + 9;  // header, from, last_ack
  if (record.size() <= at) return names;
  size_t n = record[at++];
  for (size_t i = 0; i < n && at < record.size(); ++i) {
    size_t len = record[at++];
    if (at + len > record.size()) break;
    std::string name(reinterpret_cast<const char*>(record.data() + at), len);
    at += len + 8;
    bool seen = false;
    for (const std::string& s : names) seen = seen || s == name;
    if (!seen && names.size() < kMaxLicenseFeatures) names.push_back(name);
  }
  return names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> sealed = sublink::fuzz::sealed_record(data, size);
  const std::span<const uint8_t> record(sealed);
  const std::vector<std::string> names = listed_names(record);
  std::vector<FeatureRequest> features;
  for (const std::string& name : names) features.push_back({name, 1});

  UsageTracker tracker;
  tracker.configure(features);
  tracker.start_period(1'000);
  uint8_t before[kMaxUsageRecordBytes];
  Result<size_t> before_size = tracker.encode(before);
  check(before_size.ok());

  Status restored = tracker.restore(record);
  const std::string_view problem = tracker.problem();
  uint8_t out[kMaxUsageRecordBytes];
  Result<size_t> encoded = tracker.encode(out);
  check(encoded.ok());
  if (!restored.ok()) {
    check(restored.reason() == Reason::invalid_payload);
    check(!problem.empty());
    check(sublink::fuzz::same_bytes({before, *before_size}, {out, *encoded}));
    return 0;
  }
  check(sublink::fuzz::same_bytes({out, *encoded}, record));
  UsageTracker again;
  again.configure(features);
  check(again.restore({out, *encoded}).ok());
  return 0;
}
