// Usage per feature for license audits (PROTOCOL.md section 4): what the
// application has in use now and the peak of the current period, and the
// period itself. A period ends only when the server acknowledges its audit,
// so the time spent offline is reported after reconnection. Peaks and the
// period survive reboots through RecordId::usage.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "firmware/license/license.h"
#include "firmware/protocol/device_messages.h"
#include "hal/clock.h"
#include "hal/status.h"

namespace sublink {

inline constexpr size_t kMaxUsageRecordBytes = 64 + kMaxLicenseFeatures * (1 + kMaxFeatureNameLength + 8);

class UsageTracker {
 public:
  /// Tracks the features named in `features` (the first kMaxLicenseFeatures);
  /// the names must outlive the tracker.
  void configure(std::span<const FeatureRequest> features);

  /// The application has `in_use` of `name` now. invalid_argument for a
  /// feature not configured or a count outside [0, kMaxFeatureQuantity].
  Status report(std::string_view name, int64_t in_use);

  /// Usage of the current period, one entry per configured feature.
  std::span<const FeatureUsage> usage() const { return {usage_.data(), count_}; }
  /// Start of the current period (UTC ms), once known.
  std::optional<Millis> period_from() const { return from_; }
  /// End of the last period the server acknowledged.
  std::optional<Millis> last_ack() const { return last_ack_; }
  /// Opens the first period at `utc_ms` unless one is open.
  void start_period(Millis utc_ms);
  /// The server acknowledged the audit up to `to`: the next period starts
  /// there, and peaks restart from what is in use now.
  void acknowledge(Millis to);

  /// True when something the record holds changed since the last encode.
  bool dirty() const { return dirty_; }
  /// Writes the record (peaks and period, not the live counts).
  /// invalid_argument, and nothing written, when a value is outside the
  /// ranges restore() accepts: the tracker never writes a record it would
  /// refuse to read back.
  Result<size_t> encode(std::span<uint8_t> out);
  /// Loads a record; peaks of features no longer configured are dropped.
  /// The ranges checked: `from` and `last_ack` UTC ms within
  /// [0, kMaxLicenseTimeMs] or absent (stored as 0), with from >= last_ack when both are set (a
  /// period starts where the last acknowledged one ended), at most
  /// kMaxLicenseFeatures features of names up to kMaxFeatureNameLength
  /// bytes, each named once, peaks within [0, kMaxFeatureQuantity].
  /// invalid_payload (RecordFault detail) leaves the tracker unchanged and
  /// problem() names the field.
  Status restore(std::span<const uint8_t> record);
  /// The field the last refused restore() or encode() found out of range
  /// ("peak", "last_ack", ...), "" when none.
  const char* problem() const { return problem_; }

 private:
  FeatureUsage* find(std::string_view name);

  std::array<FeatureUsage, kMaxLicenseFeatures> usage_{};
  size_t count_ = 0;
  std::optional<Millis> from_;
  std::optional<Millis> last_ack_;
  bool dirty_ = false;
  const char* problem_ = "";
};

}  // namespace sublink
