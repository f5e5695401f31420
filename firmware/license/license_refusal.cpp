#include "firmware/license/license_refusal.h"

namespace sublink {

const char* license_refusal_name(LicenseRefusal refusal) {
  switch (refusal) {
    case LicenseRefusal::none: return "none";
    case LicenseRefusal::unsupported_alg: return "unsupported_alg";
    case LicenseRefusal::bad_encoding: return "bad_encoding";
    case LicenseRefusal::too_large: return "too_large";
    case LicenseRefusal::bad_signature: return "bad_signature";
    case LicenseRefusal::no_key: return "no_key";
    case LicenseRefusal::bad_json: return "bad_json";
    case LicenseRefusal::bad_field: return "bad_field";
    case LicenseRefusal::field_too_long: return "field_too_long";
    case LicenseRefusal::too_many_features: return "too_many_features";
    case LicenseRefusal::duplicate_feature: return "duplicate_feature";
    case LicenseRefusal::wrong_customer: return "wrong_customer";
    case LicenseRefusal::wrong_system: return "wrong_system";
    case LicenseRefusal::no_server_time: return "no_server_time";
    case LicenseRefusal::not_yet_valid: return "not_yet_valid";
    case LicenseRefusal::expired: return "expired";
    case LicenseRefusal::replayed: return "replayed";
    case LicenseRefusal::bad_record: return "bad_record";
  }
  return "unknown";
}

}  // namespace sublink
