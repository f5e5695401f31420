#include "firmware/protocol/device_messages.h"

namespace sublink {

namespace {
JsonWriter& start(JsonWriter& w, std::string_view type, int64_t id) {
  return w.begin_object().key("type").string(type).key("id").integer(id);
}
}  // namespace

Result<size_t> build_hello(std::span<char> out, int64_t id, const HelloMessage& h) {
  JsonWriter w(out);
  start(w, "hello", id)
      .key("proto").integer(kProtocolVersion)
      .key("customer_id").string(h.customer_id)
      .key("system_id").string(h.system_id)
      .key("agent").string(h.agent)
      .key("fw").string(h.fw)
      .key("role").string(h.role)
      .key("boot").integer(h.boot);
  if (!h.event_stream.empty()) w.key("event_stream").string(h.event_stream);
  if (h.instance) w.key("instance").string(*h.instance);
  w.key("time");
  if (h.time) {
    w.integer(*h.time);
  } else {
    w.null();
  }
  w.key("state").string(h.state).key("grace_elapsed_s").integer(h.grace_elapsed_s).key("license_serial");
  if (h.license_serial) {
    w.string(*h.license_serial);
  } else {
    w.null();
  }
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
  start(w, "license_audit", id)
      .key("serial").string(audit.serial)
      .key("from").integer(audit.from)
      .key("to").integer(audit.to)
      .key("usage").begin_array();
  for (const FeatureUsage& u : audit.usage) {
    w.begin_object().key("name").string(u.name).key("in_use").integer(u.in_use).key("peak").integer(u.peak).end_object();
  }
  w.end_array().end_object();
  return w.finish();
}

bool write_event_object(JsonWriter& w, const EventMessage& e) {
  w.begin_object().key("seq").integer(e.seq).key("time");
  if (e.time) {
    w.integer(*e.time);
  } else {
    w.null();
  }
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

}  // namespace sublink
