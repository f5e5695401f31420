// A license as the agent holds it: the parsed terms in fixed-size storage
// plus the exact signed bytes and signature, kept so the stored license can
// be verified again at boot.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "firmware/json/json_error.h"
#include "firmware/license/license_key.h"
#include "firmware/license/license_refusal.h"
#include "hal/clock.h"

namespace sublink {

inline constexpr size_t kMaxLicenseBytes = 2048;
inline constexpr size_t kMaxLicenseFeatures = 32;
inline constexpr size_t kMaxFeatureNameLength = 31;
inline constexpr size_t kMaxLicenseIdLength = 63;  // serial, customer_id, system_id
/// License times (`issued`, `not_before`, `expires`) and the usage record's
/// period times are UTC ms within [0, kMaxLicenseTimeMs], the last
/// millisecond of 9999-12-31: far from the int64 limits, so differences and
/// sums of two of them never overflow.
inline constexpr Millis kMaxLicenseTimeMs = 253'402'300'799'999;
/// Quantities (a granted `qty`, a usage `in_use` or `peak`) are within
/// [0, kMaxFeatureQuantity], as everywhere in sublink/1.
inline constexpr int64_t kMaxFeatureQuantity = UINT32_MAX;

/// A fixed-capacity string; too-long input is refused before assignment.
template <size_t N>
class BoundedString {
 public:
  static constexpr size_t kCapacity = N;
  /// False (and unchanged) when `text` is longer than N.
  bool assign(std::string_view text) {
    if (text.size() > N) return false;
    for (size_t i = 0; i < text.size(); ++i) data_[i] = text[i];
    size_ = text.size();
    return true;
  }
  std::string_view view() const { return {data_.data(), size_}; }
  bool operator==(std::string_view other) const { return view() == other; }

 private:
  std::array<char, N> data_{};
  size_t size_ = 0;
};

struct LicensedFeature {
  BoundedString<kMaxFeatureNameLength> name;
  uint32_t qty = 0;
};

/// The terms of a license (the license JSON of PROTOCOL.md section 4).
struct LicenseTerms {
  BoundedString<kMaxLicenseIdLength> serial;
  BoundedString<kMaxLicenseIdLength> customer_id;
  BoundedString<kMaxLicenseIdLength> system_id;
  Millis issued = 0;
  Millis not_before = 0;
  Millis expires = 0;
  std::array<LicensedFeature, kMaxLicenseFeatures> features{};
  size_t feature_count = 0;

  std::span<const LicensedFeature> feature_list() const { return {features.data(), feature_count}; }
  /// True when the license grants `name` with a quantity above zero.
  bool feature_on(std::string_view name) const { return quantity(name) > 0; }
  /// Granted quantity of `name`, 0 when not licensed.
  uint32_t quantity(std::string_view name) const;
};

/// The signed form, exactly as received.
struct SignedLicense {
  std::array<uint8_t, kMaxLicenseBytes> bytes{};
  size_t size = 0;
  std::array<uint8_t, kEs256SignatureBytes> signature{};

  std::span<const uint8_t> license_bytes() const { return {bytes.data(), size}; }
};

/// A license the agent holds: its terms and the bytes that prove them.
struct License {
  LicenseTerms terms;
  SignedLicense signed_form;
};

/// Why parsing license JSON failed: the refusal and, for bad_field /
/// field_too_long, which field.
struct LicenseParseError {
  LicenseRefusal refusal = LicenseRefusal::none;
  JsonError json;
};

/// Parses license JSON into `terms` (left unspecified on failure). Unknown
/// fields are ignored; qty must be an integer in [0, kMaxFeatureQuantity];
/// times are integers (UTC ms) in [0, kMaxLicenseTimeMs] with
/// not_before <= expires and issued <= expires (bad_field names the field).
/// Uses the installed JsonArena, released before returning.
LicenseParseError parse_license_terms(std::span<const uint8_t> json, LicenseTerms& terms);

}  // namespace sublink
