#include "server_core/directory.h"

namespace sublink {

std::string_view audit_result_name(AuditResult result) {
  return result == AuditResult::overuse ? "overuse" : "ok";
}

bool is_event_stream_id(std::string_view text) {
  if (text.size() != 16) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace sublink
