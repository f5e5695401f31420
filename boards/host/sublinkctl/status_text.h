// The status object (PROTOCOL.md section 7) as a site engineer reads it.
#pragma once

#include <string>

struct cJSON;

namespace sublink {

/// Lines "name: value" for `status` (the parsed `status --json` object);
/// fields missing from it are left out.
std::string status_text(const cJSON* status);

/// A duration as "29d 23h 50m" (whole minutes; "0m" for less).
std::string duration_text(long long seconds);

}  // namespace sublink
