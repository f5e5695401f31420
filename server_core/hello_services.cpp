#include "server_core/hello_services.h"

#include <cJSON.h>

#include "firmware/json/json_document.h"

namespace sublink {

namespace {

// An OPEN carries the service name behind a 1-byte length.
constexpr size_t kMaxServiceName = 255;

}  // namespace

std::optional<std::vector<std::string>> read_hello_services(std::string_view text) {
  JsonResult<JsonDocument> doc = JsonDocument::parse(text);
  if (!doc.ok()) return std::nullopt;
  const cJSON* list = cJSON_GetObjectItemCaseSensitive(doc.value().root(), "services");
  if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > static_cast<int>(kMaxHelloServices)) return std::nullopt;
  std::vector<std::string> names;
  for (const cJSON* item = list->child; item != nullptr; item = item->next) {
    if (!cJSON_IsString(item)) return std::nullopt;
    const std::string_view name(item->valuestring);
    if (name.empty() || name.size() > kMaxServiceName) return std::nullopt;
    names.emplace_back(name);
  }
  return names;
}

}  // namespace sublink
