#include "tools/demo/status_view.h"

#include <cJSON.h>

#include <memory>

namespace sublink::demo {

namespace {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

JsonPtr parse(std::string_view text) { return JsonPtr(cJSON_ParseWithLength(text.data(), text.size()), cJSON_Delete); }

const cJSON* member(const cJSON* object, const char* name) { return cJSON_GetObjectItemCaseSensitive(object, name); }

std::string text_of(const cJSON* object, const char* name) {
  const cJSON* item = member(object, name);
  return cJSON_IsString(item) ? item->valuestring : "";
}

int64_t number_of(const cJSON* object, const char* name) {
  const cJSON* item = member(object, name);
  return cJSON_IsNumber(item) ? static_cast<int64_t>(cJSON_GetNumberValue(item)) : 0;
}

}  // namespace

std::string feature_text(const std::vector<FeatureQty>& features) {
  std::string out;
  for (const FeatureQty& f : features) {
    out += (out.empty() ? "" : " ") + f.name + "=" + std::to_string(f.qty);
  }
  return out.empty() ? "none" : out;
}

std::string AgentStatusView::summary() const {
  std::string out = "state " + state + ", link " + (link_up ? "up on port " + std::to_string(port) : "down");
  out += std::string(", alarm ") + (alarm ? "on" : "off");
  out += ", license " + (serial.empty() ? "none" : serial + " (" + feature_text() + ")");
  out += ", events pending " + std::to_string(events_pending);
  return out;
}

std::optional<AgentStatusView> parse_agent_status(std::string_view json) {
  JsonPtr root = parse(json);
  if (!root || !cJSON_IsString(member(root.get(), "state"))) return std::nullopt;
  AgentStatusView s;
  s.state = text_of(root.get(), "state");
  s.link_up = text_of(root.get(), "link") == "up";
  s.port = static_cast<int>(number_of(root.get(), "port"));
  s.grace_elapsed_s = number_of(root.get(), "grace_elapsed_s");
  s.grace_remaining_s = number_of(root.get(), "grace_remaining_s");
  s.alarm = cJSON_IsTrue(member(root.get(), "alarm"));
  s.events_pending = number_of(root.get(), "events_pending");
  const cJSON* license = member(root.get(), "license");
  if (cJSON_IsObject(license)) {
    s.serial = text_of(license, "serial");
    const cJSON* f = nullptr;
    cJSON_ArrayForEach(f, member(license, "features")) {
      s.features.push_back({text_of(f, "name"), number_of(f, "qty")});
    }
  }
  return s;
}

std::optional<ServerDeviceView> find_server_device(std::string_view devices_output, std::string_view system_id) {
  size_t start = 0;
  while (start < devices_output.size()) {
    size_t end = devices_output.find('\n', start);
    if (end == std::string_view::npos) end = devices_output.size();
    JsonPtr root = parse(devices_output.substr(start, end - start));
    start = end + 1;
    if (!root || text_of(root.get(), "system_id") != system_id) continue;
    ServerDeviceView d;
    d.system_id = text_of(root.get(), "system_id");
    d.link_up = text_of(root.get(), "link") == "up";
    d.port = static_cast<int>(number_of(root.get(), "port"));
    d.peer = text_of(root.get(), "peer");
    if (cJSON_IsNumber(member(root.get(), "last_contact"))) d.last_contact = number_of(root.get(), "last_contact");
    d.serial = text_of(root.get(), "serial");
    return d;
  }
  return std::nullopt;
}

}  // namespace sublink::demo
