#include "server_core/device_message_parser.h"

#include <cJSON.h>

#include <algorithm>

#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"
#include "firmware/protocol/device_messages.h"
#include "hal/hex64.h"
#include "net/websocket/utf8_validator.h"

namespace sublink {

namespace {

// Identifiers longer than this cannot be meant seriously (the device keeps
// them in 63 bytes); the bound keeps records small.
constexpr size_t kMaxIdLength = 255;
constexpr size_t kMaxNameLength = 255;
constexpr int64_t kMaxQuantity = UINT32_MAX;

std::string owned(std::string_view view) { return std::string(view); }

std::optional<std::string> owned(const std::optional<std::string_view>& view) {
  if (!view) return std::nullopt;
  return std::string(*view);
}

/// The whole value as compact JSON (cJSON on the installed hooks).
std::string print(const cJSON* item) {
  if (item == nullptr) return "null";
  char* text = cJSON_PrintUnformatted(item);
  if (text == nullptr) return "null";
  std::string out(text);
  cJSON_free(text);
  return out;
}

/// Calls `read(JsonReader&)` for every element of array `name` (each must be
/// an object); stops at the first error, which `r` keeps.
template <class ReadElement>
void for_each_object(JsonReader& r, const char* name, ReadElement&& read) {
  const cJSON* array = r.array(name);
  if (!r.ok()) return;
  int32_t index = 0;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, array) {
    JsonReader element(item, name, index++);
    read(element, item);
    if (!element.ok()) {
      r = element;
      return;
    }
  }
}

HelloRequest read_hello(JsonReader& r) {
  HelloRequest h;
  h.proto = r.integer("proto");
  if (!r.ok() || h.proto != kProtocolVersion) return h;
  h.customer_id = owned(r.string("customer_id", kMaxIdLength));
  h.system_id = owned(r.string("system_id", kMaxIdLength));
  // The rest describes the device for the operator; a peer that leaves a
  // field out is still served.
  h.info.agent = owned(r.optional_string("agent", kMaxNameLength).value_or(""));
  h.info.fw = owned(r.optional_string("fw", kMaxNameLength).value_or(""));
  h.info.role = owned(r.optional_string("role", kMaxNameLength).value_or(""));
  h.info.boot = r.integer_or("boot", 0, 0);
  h.info.event_stream = owned(r.optional_string("event_stream", 16));
  if (r.ok() && h.info.event_stream && !is_event_stream_id(*h.info.event_stream)) r.reject("event_stream");
  // `instance` tells a clone from a reconnect (section 4, identity): a peer
  // that leaves it out is served without that judgement, but one that sends
  // it sends exactly 16 lower-case hex digits.
  std::optional<std::string_view> instance = r.optional_string("instance", kHex64Length);
  if (instance && !is_hex64(*instance)) r.reject("instance");
  h.info.instance = owned(instance);
  h.info.device_time = r.optional_integer("time");
  h.info.state = owned(r.optional_string("state", kMaxNameLength).value_or(""));
  h.info.grace_elapsed_s = r.integer_or("grace_elapsed_s", 0, 0);
  h.info.license_serial = owned(r.optional_string("license_serial", kMaxIdLength));
  return h;
}

LicenseRequestMessage read_license_request(JsonReader& r) {
  LicenseRequestMessage m;
  for_each_object(r, "features", [&](JsonReader& e, const cJSON*) {
    std::string name = owned(e.string("name", kMaxNameLength));
    auto qty = static_cast<uint32_t>(e.integer("qty", 0, kMaxQuantity));
    if (!e.ok()) return;
    auto same = std::find_if(m.features.begin(), m.features.end(),
                             [&](const LicensedQuantity& f) { return f.name == name; });
    if (same == m.features.end()) {
      m.features.push_back({std::move(name), qty});
    } else {
      same->qty = std::max(same->qty, qty);
    }
  });
  return m;
}

LicenseAuditMessage read_audit(JsonReader& r) {
  LicenseAuditMessage m;
  m.serial = owned(r.string("serial", kMaxIdLength));
  m.from = r.integer("from");
  m.to = r.integer("to");
  for_each_object(r, "usage", [&](JsonReader& e, const cJSON*) {
    FeatureUsageReport u;
    u.name = owned(e.string("name", kMaxNameLength));
    u.in_use = e.integer("in_use", 0);
    u.peak = e.integer("peak", 0);
    m.usage.push_back(std::move(u));
  });
  return m;
}

EventBatchMessage read_events(JsonReader& r) {
  EventBatchMessage m;
  m.stream = owned(r.optional_string("stream", 16));
  if (!r.ok()) return m;
  if (m.stream && !is_event_stream_id(*m.stream)) {
    r.reject("stream");
    return m;
  }
  for_each_object(r, "events", [&](JsonReader& e, const cJSON* item) {
    DeviceEvent event;
    event.stream = m.stream.value_or(std::string(kLegacyEventStream));
    event.seq = e.integer("seq", 1);
    event.time = e.optional_integer("time");
    event.kind = owned(e.string("kind", kMaxNameLength));
    if (!e.ok()) return;
    event.json = print(item);
    m.events.push_back(std::move(event));
  });
  return m;
}

ResponseMessage read_response(JsonReader& r) {
  ResponseMessage m;
  DeviceResponse& d = m.response;
  d.id = r.integer("re");
  d.ok = r.boolean("ok");
  if (!r.ok()) return m;
  if (d.ok) {
    d.result_json = print(r.optional_any("result"));
    return m;
  }
  JsonReader e(r.object("error"), "error");
  if (!r.ok()) return m;
  d.error_code = owned(e.string("code", kMaxNameLength));
  d.error_message = owned(e.optional_string("message").value_or(""));
  if (!e.ok()) r = e;
  return m;
}

DeviceMessageBody read_body(std::string_view type, JsonReader& r) {
  if (type == "hello") return read_hello(r);
  if (type == "heartbeat") {
    HeartbeatRequest m;
    m.seq = r.integer_or("seq", 0);
    m.uptime_s = r.integer_or("uptime_s", 0);
    return m;
  }
  if (type == "license_request") return read_license_request(r);
  if (type == "license_audit") return read_audit(r);
  if (type == "event") return read_events(r);
  if (type == "response") return read_response(r);
  return UnknownDeviceMessage{std::string(type)};
}

}  // namespace

JsonResult<DeviceMessage> parse_device_message(std::string_view text) {
  if (!is_valid_utf8(text)) {
    JsonError e;
    e.status = Status(Reason::invalid_payload);
    e.problem = JsonProblem::not_json;
    return e;
  }
  auto doc = JsonDocument::parse(text);
  if (!doc.ok()) return doc.error();
  JsonReader r(doc->root());
  DeviceMessage m;
  m.type = owned(r.string("type", kMaxNameLength));
  m.id = r.optional_integer("id");
  if (!r.ok()) return r.error();
  m.body = read_body(m.type, r);
  if (!r.ok()) return r.error();
  return m;
}

}  // namespace sublink
