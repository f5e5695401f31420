#include "firmware/protocol/device_messages.h"

#include <cJSON.h>

#include "firmware/json/json_reader.h"
#include "hal/hex64.h"
#include "net/websocket/utf8_validator.h"

namespace sublink {

namespace {

JsonWriter& start(JsonWriter& w, std::string_view type, int64_t id) {
  return w.begin_object().key("type").string(type).key("id").integer(id);
}

void optional_integer(JsonWriter& w, const std::optional<int64_t>& value) {
  if (value) {
    w.integer(*value);
  } else {
    w.null();
  }
}

// An OPEN carries a service name behind a 1-byte length.
constexpr size_t kTunnelServiceNameLength = 255;

}  // namespace

std::string_view WireNames::Iterator::operator*() const {
  if (item_ != nullptr) return *item_;
  return element_->valuestring;
}

WireNames::Iterator& WireNames::Iterator::operator++() {
  if (item_ != nullptr) {
    ++item_;
  } else {
    element_ = json_next_element(element_);
  }
  return *this;
}

WireNames::Iterator WireNames::begin() const {
  if (array_ != nullptr) return {nullptr, json_first_element(array_)};
  return {items_.data(), nullptr};
}

WireNames::Iterator WireNames::end() const {
  if (array_ != nullptr) return {nullptr, nullptr};
  return {items_.data() + items_.size(), nullptr};
}

size_t WireNames::size() const {
  if (array_ == nullptr) return items_.size();
  size_t n = 0;
  for (const cJSON* e = json_first_element(array_); e != nullptr; e = json_next_element(e)) ++n;
  return n;
}

std::optional<WireNames> read_wire_names(const JsonReader& r, const char* name, size_t max_length, size_t max_count) {
  const cJSON* array = r.optional_any(name);
  if (!cJSON_IsArray(array)) return std::nullopt;
  size_t count = 0;
  for (const cJSON* e = json_first_element(array); e != nullptr; e = json_next_element(e)) {
    if (++count > max_count || !cJSON_IsString(e)) return std::nullopt;
    const size_t length = std::string_view(e->valuestring).size();
    if (length == 0 || length > max_length) return std::nullopt;
  }
  return WireNames(array);
}

bool is_event_stream_id(std::string_view text) {
  if (text.size() != kEventStreamIdLength) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// ---- Writers ----------------------------------------------------------------------

Result<size_t> build_hello(std::span<char> out, int64_t id, const HelloMessage& h) {
  JsonWriter w(out);
  start(w, "hello", id)
      .key("proto").integer(h.proto)
      .key("customer_id").string(h.customer_id)
      .key("system_id").string(h.system_id)
      .key("agent").string(h.agent)
      .key("fw").string(h.fw)
      .key("role").string(h.role)
      .key("boot").integer(h.boot);
  if (!h.event_stream.empty()) w.key("event_stream").string(h.event_stream);
  if (h.instance) w.key("instance").string(*h.instance);
  w.key("time");
  optional_integer(w, h.time);
  w.key("state").string(h.state).key("grace_elapsed_s").integer(h.grace_elapsed_s).key("license_serial");
  if (h.license_serial) {
    w.string(*h.license_serial);
  } else {
    w.null();
  }
  w.key("services").begin_array();
  for (std::string_view s : h.services.items()) w.string(s);
  w.end_array();
  w.end_object();
  return w.finish();
}

Result<size_t> build_heartbeat(std::span<char> out, int64_t id, int64_t seq, int64_t uptime_s) {
  JsonWriter w(out);
  start(w, "heartbeat", id).key("seq").integer(seq).key("uptime_s").integer(uptime_s).end_object();
  return w.finish();
}

Result<size_t> build_license_request(std::span<char> out, int64_t id, std::span<const FeatureRequest> features) {
  JsonWriter w(out);
  start(w, "license_request", id).key("features").begin_array();
  for (const FeatureRequest& f : features) {
    w.begin_object().key("name").string(f.name).key("qty").integer(f.qty).end_object();
  }
  w.end_array().end_object();
  return w.finish();
}

Result<size_t> build_license_audit(std::span<char> out, int64_t id, const LicenseAudit& audit) {
  JsonWriter w(out);
  if (audit.usage.received()) w.reject();
  start(w, "license_audit", id)
      .key("serial").string(audit.serial)
      .key("from").integer(audit.from)
      .key("to").integer(audit.to)
      .key("usage").begin_array();
  for (const FeatureUsage& u : audit.usage.items()) {
    w.begin_object().key("name").string(u.name).key("in_use").integer(u.in_use).key("peak").integer(u.peak).end_object();
  }
  w.end_array().end_object();
  return w.finish();
}

bool write_event_object(JsonWriter& w, const EventMessage& e) {
  w.begin_object().key("seq").integer(e.seq).key("time");
  optional_integer(w, e.time);
  w.key("kind").string(e.kind);
  for (const EventAttribute& a : e.attributes) {
    if (a.name == "seq" || a.name == "time" || a.name == "kind") return false;
    w.key(a.name);
    switch (a.kind) {
      case EventAttribute::Kind::integer: w.integer(a.integer); break;
      case EventAttribute::Kind::string: w.string(a.text); break;
      case EventAttribute::Kind::boolean: w.boolean(a.flag); break;
    }
  }
  w.end_object();
  return true;
}

Result<size_t> build_event_batch(std::span<char> out, int64_t id, std::optional<std::string_view> stream,
                                 std::span<const EventMessage> events) {
  JsonWriter w(out);
  start(w, "event", id);
  if (stream) w.key("stream").string(*stream);
  w.key("events").begin_array();
  for (const EventMessage& e : events) {
    if (!write_event_object(w, e)) return Status(Reason::invalid_argument);
  }
  w.end_array().end_object();
  return w.finish();
}

Result<size_t> build_response_error(std::span<char> out, int64_t re, std::string_view code, std::string_view message) {
  JsonWriter w(out);
  w.begin_object()
      .key("type").string("response")
      .key("re").integer(re)
      .key("ok").boolean(false)
      .key("error").begin_object().key("code").string(code).key("message").string(message).end_object()
      .end_object();
  return w.finish();
}

// ---- Readers ----------------------------------------------------------------------

namespace {

HelloMessage read_hello(JsonReader& r) {
  HelloMessage h;
  h.proto = r.integer("proto");
  if (!r.ok() || h.proto != kProtocolVersion) return h;
  h.customer_id = r.string("customer_id", kMaxWireIdLength);
  h.system_id = r.string("system_id", kMaxWireIdLength);
  // The rest describes the device for the operator; a peer that leaves a
  // field out is still served.
  h.agent = r.optional_string("agent", kMaxWireNameLength).value_or("");
  h.fw = r.optional_string("fw", kMaxWireNameLength).value_or("");
  h.role = r.optional_string("role", kMaxWireNameLength).value_or("");
  h.boot = r.integer_or("boot", 0, 0);
  std::optional<std::string_view> stream = r.optional_string("event_stream", kEventStreamIdLength);
  if (r.ok() && stream && !is_event_stream_id(*stream)) r.reject("event_stream");
  h.event_stream = stream.value_or("");
  // `instance` tells a clone from a reconnect (section 4, identity): a peer
  // that leaves it out is served without that judgement, but one that sends
  // it sends exactly 16 lower-case hex digits.
  h.instance = r.optional_string("instance", kHex64Length);
  if (h.instance && !is_hex64(*h.instance)) r.reject("instance");
  h.time = r.optional_integer("time");
  h.state = r.optional_string("state", kMaxWireNameLength).value_or("");
  h.grace_elapsed_s = r.integer_or("grace_elapsed_s", 0, 0);
  h.license_serial = r.optional_string("license_serial", kMaxWireIdLength);
  if (std::optional<WireNames> names = read_wire_names(r, "services", kTunnelServiceNameLength, kMaxHelloServices)) {
    h.services = *names;
  }
  return h;
}

Heartbeat read_heartbeat(JsonReader& r) { return Heartbeat{r.integer_or("seq", 0), r.integer_or("uptime_s", 0)}; }

FeatureRequest read_feature_request(JsonReader& e) {
  FeatureRequest f;
  f.name = e.string("name", kMaxWireNameLength);
  f.qty = e.integer("qty", 0, kMaxWireQuantity);
  return f;
}

FeatureUsage read_feature_usage(JsonReader& e) {
  FeatureUsage u;
  u.name = e.string("name", kMaxWireNameLength);
  u.in_use = e.integer("in_use", 0);
  u.peak = e.integer("peak", 0);
  return u;
}

LicenseAudit read_audit(JsonReader& r) {
  LicenseAudit a;
  a.serial = r.string("serial", kMaxWireIdLength);
  a.from = r.integer("from");
  a.to = r.integer("to");
  a.usage = read_wire_list<FeatureUsage>(r, "usage", read_feature_usage);
  return a;
}

EventMessage read_event(JsonReader& e) {
  EventMessage event;
  event.seq = e.integer("seq", 1);
  event.time = e.optional_integer("time");
  event.kind = e.string("kind", kMaxWireNameLength);
  event.object = e.node();
  return event;
}

EventBatch read_events(JsonReader& r) {
  EventBatch b;
  b.stream = r.optional_string("stream", kEventStreamIdLength);
  if (!r.ok()) return b;
  if (b.stream && !is_event_stream_id(*b.stream)) {
    r.reject("stream");
    return b;
  }
  b.events = read_wire_list<EventMessage>(r, "events", read_event);
  return b;
}

Response read_response(JsonReader& r) {
  Response m;
  m.re = r.integer("re");
  m.ok = r.boolean("ok");
  if (!r.ok()) return m;
  if (m.ok) {
    m.result = r.optional_any("result");
    return m;
  }
  JsonReader e(r.object("error"), "error");
  if (!r.ok()) return m;
  m.error_code = e.string("code", kMaxWireNameLength);
  m.error_message = e.optional_string("message").value_or("");
  if (!e.ok()) r = e;
  return m;
}

DeviceMessageBody read_body(std::string_view type, JsonReader& r) {
  if (type == "hello") return read_hello(r);
  if (type == "heartbeat") return read_heartbeat(r);
  if (type == "license_request") return LicenseRequest{read_wire_list<FeatureRequest>(r, "features", read_feature_request)};
  if (type == "license_audit") return read_audit(r);
  if (type == "event") return read_events(r);
  if (type == "response") return read_response(r);
  return UnknownMessage{type};
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
  std::string_view type = r.string("type", kMaxWireNameLength);
  std::optional<int64_t> id = r.optional_integer("id");
  if (!r.ok()) return r.error();
  DeviceMessageBody body = read_body(type, r);
  if (!r.ok()) return r.error();
  return DeviceMessage{std::move(doc.value()), type, id, body};
}

}  // namespace sublink
