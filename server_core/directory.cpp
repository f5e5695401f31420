#include "server_core/directory.h"

namespace sublink {

std::string_view audit_result_name(AuditResult result) {
  return result == AuditResult::overuse ? "overuse" : "ok";
}

}  // namespace sublink
