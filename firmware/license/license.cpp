#include "firmware/license/license.h"

#include <cJSON.h>

#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"

namespace sublink {

uint32_t LicenseTerms::quantity(std::string_view name) const {
  for (const LicensedFeature& f : feature_list()) {
    if (f.name == name) return f.qty;
  }
  return 0;
}

namespace {
LicenseParseError field_error(const JsonError& json) {
  LicenseParseError e;
  e.json = json;
  e.refusal = json.problem == JsonProblem::too_long ? LicenseRefusal::field_too_long : LicenseRefusal::bad_field;
  return e;
}
}  // namespace

LicenseParseError parse_license_terms(std::span<const uint8_t> json, LicenseTerms& terms) {
  std::string_view text(reinterpret_cast<const char*>(json.data()), json.size());
  auto doc = JsonDocument::parse(text);
  if (!doc.ok()) return {LicenseRefusal::bad_json, doc.error()};

  LicenseTerms& parsed = terms;
  parsed.feature_count = 0;
  JsonReader r(doc->root());
  // Over-long strings are refused here so they never reach fixed storage.
  parsed.serial.assign(r.string("serial", kMaxLicenseIdLength));
  parsed.customer_id.assign(r.string("customer_id", kMaxLicenseIdLength));
  parsed.system_id.assign(r.string("system_id", kMaxLicenseIdLength));
  parsed.issued = r.integer("issued", 0, kMaxLicenseTimeMs);
  parsed.not_before = r.integer("not_before", 0, kMaxLicenseTimeMs);
  parsed.expires = r.integer("expires", 0, kMaxLicenseTimeMs);
  // A license that ends before it starts, or was issued after its end, is
  // never valid: refused as a bad expires rather than kept and never used.
  if (r.ok() && (parsed.expires < parsed.not_before || parsed.expires < parsed.issued)) r.reject("expires");
  const cJSON* features = r.array("features");
  if (!r.ok()) {
    LicenseParseError e = field_error(r.error());
    if (r.error().field == nullptr) e.refusal = LicenseRefusal::bad_json;  // root not an object
    return e;
  }
  if (static_cast<size_t>(cJSON_GetArraySize(features)) > kMaxLicenseFeatures) {
    LicenseParseError e;
    e.refusal = LicenseRefusal::too_many_features;
    e.json.status = Status(Reason::protocol_violation);
    e.json.problem = JsonProblem::too_long;
    e.json.field = "features";
    return e;
  }
  int32_t index = 0;
  for (const cJSON* item = features->child; item != nullptr; item = item->next, ++index) {
    JsonReader f(item, "features", index);
    std::string_view name = f.string("name", kMaxFeatureNameLength);
    int64_t qty = f.integer("qty", 0, kMaxFeatureQuantity);
    for (const LicensedFeature& seen : parsed.feature_list()) {
      if (f.ok() && seen.name == name) f.reject("name");
    }
    if (!f.ok()) {
      LicenseParseError e = field_error(f.error());
      if (f.error().problem == JsonProblem::bad_value) e.refusal = LicenseRefusal::duplicate_feature;
      return e;
    }
    LicensedFeature& slot = parsed.features[parsed.feature_count++];
    slot.name.assign(name);
    slot.qty = static_cast<uint32_t>(qty);
  }
  return {};
}

}  // namespace sublink
