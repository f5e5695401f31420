#include "firmware/agent/usage_tracker.h"

#include <algorithm>

#include "firmware/events/record_codec.h"

namespace sublink {

namespace {
constexpr RecordMagic kMagic = {'S', 'L', 'U', 'S'};
constexpr uint16_t kVersion = 1;

void put_optional(RecordWriter& w, const std::optional<Millis>& v) {
  w.u8(v ? 1 : 0);
  w.i64(v.value_or(0));
}

bool get_optional(RecordReader& r, std::optional<Millis>& v) {
  uint8_t has = r.u8();
  Millis value = r.i64();
  // Absent is stored as 0: one encoding per state, so a record re-encodes
  // to the bytes it was read from.
  if (has > 1 || (has == 0 && value != 0)) return false;
  v = has ? std::optional<Millis>(value) : std::nullopt;
  return true;
}

bool time_in_range(const std::optional<Millis>& t) { return !t || (*t >= 0 && *t <= kMaxLicenseTimeMs); }
bool quantity_in_range(int64_t q) { return q >= 0 && q <= kMaxFeatureQuantity; }

// The field of a period out of range or inconsistent, nullptr when none.
const char* period_problem(const std::optional<Millis>& from, const std::optional<Millis>& last_ack) {
  if (!time_in_range(from)) return "from";
  if (!time_in_range(last_ack)) return "last_ack";
  if (from && last_ack && *from < *last_ack) return "from";
  return nullptr;
}
}  // namespace

void UsageTracker::configure(std::span<const FeatureRequest> features) {
  count_ = std::min(features.size(), usage_.size());
  for (size_t i = 0; i < count_; ++i) usage_[i] = FeatureUsage{features[i].name, 0, 0};
}

FeatureUsage* UsageTracker::find(std::string_view name) {
  for (size_t i = 0; i < count_; ++i) {
    if (usage_[i].name == name) return &usage_[i];
  }
  return nullptr;
}

Status UsageTracker::report(std::string_view name, int64_t in_use) {
  FeatureUsage* u = find(name);
  if (u == nullptr || !quantity_in_range(in_use)) return Status(Reason::invalid_argument);
  u->in_use = in_use;
  if (in_use > u->peak) {
    u->peak = in_use;
    dirty_ = true;
  }
  return Status::Ok();
}

void UsageTracker::start_period(Millis utc_ms) {
  if (from_) return;
  from_ = utc_ms;
  dirty_ = true;
}

void UsageTracker::acknowledge(Millis to) {
  from_ = to;
  last_ack_ = to;
  for (size_t i = 0; i < count_; ++i) usage_[i].peak = usage_[i].in_use;
  dirty_ = true;
}

Result<size_t> UsageTracker::encode(std::span<uint8_t> out) {
  problem_ = period_problem(from_, last_ack_);
  for (size_t i = 0; problem_ == nullptr && i < count_; ++i) {
    if (!quantity_in_range(usage_[i].peak)) problem_ = "peak";
  }
  if (problem_ != nullptr) return Status(Reason::invalid_argument);
  problem_ = "";
  RecordWriter w(out, kMagic, kVersion);
  put_optional(w, from_);
  put_optional(w, last_ack_);
  w.u8(static_cast<uint8_t>(count_));
  for (size_t i = 0; i < count_; ++i) {
    std::string_view name = usage_[i].name.substr(0, kMaxFeatureNameLength);
    w.u8(static_cast<uint8_t>(name.size()));
    w.bytes({reinterpret_cast<const uint8_t*>(name.data()), name.size()});
    w.i64(usage_[i].peak);
  }
  Result<size_t> size = w.finish();
  if (size.ok()) dirty_ = false;
  return size;
}

Status UsageTracker::restore(std::span<const uint8_t> record) {
  Result<std::span<const uint8_t>> body = open_record(record, kMagic, kVersion);
  if (!body.ok()) {
    problem_ = record_fault_name(body.status().detail());
    return body.status();
  }
  RecordReader r(*body);
  auto refuse = [&](const char* field) {
    problem_ = field;
    return record_error(RecordFault::bad_value);
  };
  std::optional<Millis> from, last_ack;
  if (!get_optional(r, from)) return refuse("from");
  if (!get_optional(r, last_ack)) return refuse("last_ack");
  if (const char* bad = period_problem(from, last_ack)) return refuse(bad);
  size_t n = r.u8();
  if (n > kMaxLicenseFeatures) return refuse("features");
  std::array<char, kMaxFeatureNameLength> name{};
  std::array<int64_t, kMaxLicenseFeatures> peaks{};
  std::array<int8_t, kMaxLicenseFeatures> match{};
  match.fill(-1);
  for (size_t i = 0; i < n; ++i) {
    size_t len = r.u8();
    if (len > name.size()) return refuse("name");
    r.bytes({reinterpret_cast<uint8_t*>(name.data()), len});
    int64_t peak = r.i64();
    if (r.overrun()) break;  // reported as bad_length below
    if (!quantity_in_range(peak)) return refuse("peak");
    for (size_t j = 0; j < count_; ++j) {
      if (usage_[j].name == std::string_view(name.data(), len)) {
        if (match[j] == 1) return refuse("name");  // named twice: which peak holds?
        match[j] = 1;
        peaks[j] = peak;
      }
    }
  }
  if (r.overrun() || r.remaining() != 0) {
    problem_ = "length";
    return record_error(RecordFault::bad_length);
  }
  problem_ = "";
  from_ = from;
  last_ack_ = last_ack;
  for (size_t j = 0; j < count_; ++j) {
    if (match[j] == 1) usage_[j].peak = std::max(usage_[j].peak, peaks[j]);
  }
  dirty_ = false;
  return Status::Ok();
}

}  // namespace sublink
