// The license JSON of PROTOCOL.md section 4, written by the server. The
// device verifies the signature over these exact bytes and keeps them, so
// the writer is deterministic: the same content always gives the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hal/clock.h"
#include "hal/status.h"

namespace sublink {

/// One licensed feature and its quantity.
struct LicensedQuantity {
  std::string name;
  uint32_t qty = 0;

  bool operator==(const LicensedQuantity&) const = default;
};

/// What a license says; times are UTC milliseconds.
struct LicenseContent {
  std::string serial;
  std::string customer_id;
  std::string system_id;
  Millis issued = 0;
  Millis not_before = 0;
  Millis expires = 0;
  std::vector<LicensedQuantity> features;  // written in this order
};

/// The license JSON: one object with serial, customer_id, system_id, issued,
/// not_before, expires, features [{name, qty}] in that order, no spaces.
/// invalid_argument when a string is not valid UTF-8 (the device would
/// refuse the bytes).
Result<std::string> make_license_json(const LicenseContent& content);

}  // namespace sublink
