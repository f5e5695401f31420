// Readable Status in GoogleTest failure messages ("proxy_status/403").
#pragma once

#include <ostream>

#include "hal/status.h"

namespace sublink {

inline void PrintTo(const Status& s, std::ostream* os) { *os << reason_name(s.reason()) << "/" << s.detail(); }

}  // namespace sublink
