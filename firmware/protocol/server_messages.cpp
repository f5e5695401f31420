#include "firmware/protocol/server_messages.h"

#include <cJSON.h>

#include "firmware/json/json_reader.h"

namespace sublink {

namespace {

// Durations become milliseconds and timeouts (3 * heartbeat_s) downstream;
// the bound keeps that arithmetic far from overflow.
constexpr int64_t kMaxDurationS = INT32_MAX;

ServerMessageBody read_body(std::string_view type, JsonReader& r) {
  if (type == "welcome") {
    Welcome m;
    m.time = r.integer("time");
    m.heartbeat_s = r.integer_or("heartbeat_s", kDefaultHeartbeatS, 1, kMaxDurationS);
    m.audit_s = r.integer_or("audit_s", kDefaultAuditS, 1, kMaxDurationS);
    m.session = r.optional_any("session");
    return m;
  }
  if (type == "heartbeat_ack") return HeartbeatAck{r.integer("time")};
  if (type == "license_grant") {
    LicenseGrant m;
    m.license = r.string("license");
    m.sig = r.string("sig");
    m.alg = r.string("alg");
    m.kid = r.optional_string("kid");
    return m;
  }
  if (type == "license_denied") {
    LicenseDenied m;
    m.code = r.string("code");
    m.message = r.optional_string("message").value_or("");
    return m;
  }
  if (type == "license_revoke") {
    LicenseRevoke m;
    m.serial = r.string("serial");
    m.reason = r.optional_string("reason").value_or("");
    return m;
  }
  if (type == "audit_ack") {
    AuditAck m;
    std::string_view status = r.string("status");
    if (r.ok() && status != "ok" && status != "overuse") r.reject("status");
    m.overuse = status == "overuse";
    m.over = r.optional_any("over");
    return m;
  }
  if (type == "event_ack") {
    EventAck m;
    m.stream = r.optional_string("stream", 64);
    m.upto = r.integer("upto", 0);
    return m;
  }
  if (type == "request") {
    Request m;
    m.method = r.string("method");
    m.params = r.optional_any("params");
    return m;
  }
  if (type == "disconnect") {
    Disconnect m;
    m.reason = r.optional_string("reason").value_or("");
    m.retry_after_s = r.optional_integer("retry_after_s", 0, kMaxDurationS);
    return m;
  }
  if (type == "error") {
    ServerError m;
    m.code = r.string("code");
    m.message = r.optional_string("message").value_or("");
    m.retry_after_s = r.optional_integer("retry_after_s", 0, kMaxDurationS);
    return m;
  }
  return UnknownMessage{type};
}

}  // namespace

namespace {

JsonWriter& start(JsonWriter& w, std::string_view type, const Envelope& envelope) {
  w.begin_object().key("type").string(type);
  if (envelope.id) w.key("id").integer(*envelope.id);
  if (envelope.re) w.key("re").integer(*envelope.re);
  return w;
}

void open_field(JsonWriter& w, const char* name, const JsonValue& value) {
  if (!value.text.empty()) w.key(name).raw(value.text);
}

void retry_after(JsonWriter& w, const std::optional<int64_t>& retry_after_s) {
  if (retry_after_s) w.key("retry_after_s").integer(*retry_after_s);
}

}  // namespace

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const Welcome& m) {
  JsonWriter w(out);
  start(w, "welcome", envelope).key("time").integer(m.time).key("heartbeat_s").integer(m.heartbeat_s)
      .key("audit_s").integer(m.audit_s);
  open_field(w, "session", m.session);
  w.end_object();
  return w.finish();
}

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const HeartbeatAck& m) {
  JsonWriter w(out);
  start(w, "heartbeat_ack", envelope).key("time").integer(m.time).end_object();
  return w.finish();
}

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const LicenseGrant& m) {
  JsonWriter w(out);
  start(w, "license_grant", envelope).key("license").string(m.license).key("sig").string(m.sig)
      .key("alg").string(m.alg);
  if (m.kid) w.key("kid").string(*m.kid);
  w.end_object();
  return w.finish();
}

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const LicenseDenied& m) {
  JsonWriter w(out);
  start(w, "license_denied", envelope).key("code").string(m.code).key("message").string(m.message).end_object();
  return w.finish();
}

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const LicenseRevoke& m) {
  JsonWriter w(out);
  start(w, "license_revoke", envelope).key("serial").string(m.serial).key("reason").string(m.reason).end_object();
  return w.finish();
}

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const AuditAck& m) {
  JsonWriter w(out);
  start(w, "audit_ack", envelope).key("status").string(m.overuse ? "overuse" : "ok");
  open_field(w, "over", m.over);
  w.end_object();
  return w.finish();
}

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const EventAck& m) {
  JsonWriter w(out);
  start(w, "event_ack", envelope);
  if (m.stream) w.key("stream").string(*m.stream);
  w.key("upto").integer(m.upto).end_object();
  return w.finish();
}

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const Request& m) {
  JsonWriter w(out);
  start(w, "request", envelope).key("method").string(m.method);
  open_field(w, "params", m.params);
  w.end_object();
  return w.finish();
}

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const Disconnect& m) {
  JsonWriter w(out);
  start(w, "disconnect", envelope).key("reason").string(m.reason);
  retry_after(w, m.retry_after_s);
  w.end_object();
  return w.finish();
}

Result<size_t> write_message(std::span<char> out, const Envelope& envelope, const ServerError& m) {
  JsonWriter w(out);
  start(w, "error", envelope).key("code").string(m.code).key("message").string(m.message);
  retry_after(w, m.retry_after_s);
  w.end_object();
  return w.finish();
}

JsonResult<ServerMessage> parse_server_message(std::string_view text) {
  auto doc = JsonDocument::parse(text);
  if (!doc.ok()) return doc.error();
  JsonReader r(doc->root());
  std::string_view type = r.string("type");
  std::optional<int64_t> id = r.optional_integer("id");
  std::optional<int64_t> re = r.optional_integer("re");
  if (!r.ok()) return r.error();
  ServerMessageBody body = read_body(type, r);
  // A request without an id could never be answered.
  if (r.ok() && std::holds_alternative<Request>(body) && !id) r.integer("id");
  if (!r.ok()) return r.error();
  return ServerMessage{std::move(doc.value()), id, re, body};
}

uint16_t close_code_for(const Status& status) {
  switch (status.reason()) {
    case Reason::invalid_payload: return 1007;
    case Reason::protocol_violation: return 1002;
    case Reason::out_of_memory:
    case Reason::message_too_big: return 1009;
    default: return 1011;
  }
}

}  // namespace sublink
