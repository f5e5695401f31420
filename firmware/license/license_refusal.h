// Why a license was not accepted: one named outcome per rule of PROTOCOL.md
// section 4, so logs and events say exactly which rule refused it.
#pragma once

#include <cstdint>

namespace sublink {

enum class LicenseRefusal : uint8_t {
  none = 0,           // accepted
  unsupported_alg,    // `alg` is not ES256
  bad_encoding,       // `license` or `sig` is not strict base64url
  too_large,          // license bytes over kMaxLicenseBytes
  bad_signature,      // signature missing, malformed or not by the license key
  no_key,             // no license key configured
  bad_json,           // signed bytes are not one JSON object
  bad_field,          // a license field is missing, mistyped or out of range
  field_too_long,     // serial, ids or a feature name over its fixed storage
  too_many_features,  // more than kMaxLicenseFeatures features
  duplicate_feature,  // a feature named twice (which quantity would hold?)
  wrong_customer,     // customer_id is not ours
  wrong_system,       // system_id is not ours
  no_server_time,     // no server clock yet to check the validity window
  not_yet_valid,      // server time before not_before
  expired,            // server time after expires
  replayed,           // issued not later than the held license's
  bad_record,         // a stored record is damaged or of an unknown version
};

/// Stable lower-case name ("bad_signature", ...), as logged and sent in events.
const char* license_refusal_name(LicenseRefusal refusal);

}  // namespace sublink
