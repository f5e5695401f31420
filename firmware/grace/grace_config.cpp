#include "firmware/grace/grace_config.h"

namespace sublink {

std::string_view state_name(LicenseState state) {
  switch (state) {
    case LicenseState::unlicensed: return "unlicensed";
    case LicenseState::licensed: return "licensed";
    case LicenseState::grace: return "grace";
    case LicenseState::expired: return "expired";
  }
  return "unknown";
}

}  // namespace sublink
