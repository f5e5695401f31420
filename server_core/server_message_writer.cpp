#include "server_core/server_message_writer.h"

#include "server_core/json_text.h"

namespace sublink {

namespace {

JsonWriter& start(JsonWriter& w, std::string_view type, AnswerTo re) {
  w.begin_object().key("type").string(type);
  if (re) w.key("re").integer(*re);
  return w;
}

JsonWriter& start_request(JsonWriter& w, std::string_view type, int64_t id) {
  return w.begin_object().key("type").string(type).key("id").integer(id);
}

}  // namespace

Result<std::string> build_welcome(AnswerTo re, Millis time, int64_t heartbeat_s, int64_t audit_s,
                                  std::string_view session) {
  return write_json_text([&](JsonWriter& w) {
    start(w, "welcome", re)
        .key("time").integer(time)
        .key("heartbeat_s").integer(heartbeat_s)
        .key("audit_s").integer(audit_s)
        .key("session").string(session)
        .end_object();
  });
}

Result<std::string> build_heartbeat_ack(AnswerTo re, Millis time) {
  return write_json_text([&](JsonWriter& w) { start(w, "heartbeat_ack", re).key("time").integer(time).end_object(); });
}

Result<std::string> build_license_grant(AnswerTo re, const SignedGrant& grant, std::string_view kid) {
  return write_json_text([&](JsonWriter& w) {
    start(w, "license_grant", re)
        .key("license").string(grant.license)
        .key("sig").string(grant.sig)
        .key("alg").string("ES256");
    if (!kid.empty()) w.key("kid").string(kid);
    w.end_object();
  });
}

Result<std::string> build_license_denied(AnswerTo re, std::string_view code, std::string_view message) {
  return write_json_text([&](JsonWriter& w) {
    start(w, "license_denied", re).key("code").string(code).key("message").string(message).end_object();
  });
}

Result<std::string> build_license_revoke(int64_t id, std::string_view serial, std::string_view reason) {
  return write_json_text([&](JsonWriter& w) {
    start_request(w, "license_revoke", id).key("serial").string(serial).key("reason").string(reason).end_object();
  });
}

Result<std::string> build_audit_ack(AnswerTo re, AuditResult status, std::span<const Overuse> over) {
  return write_json_text([&](JsonWriter& w) {
    start(w, "audit_ack", re).key("status").string(audit_result_name(status)).key("over").begin_array();
    for (const Overuse& o : over) {
      w.begin_object().key("name").string(o.name).key("peak").integer(o.peak).key("licensed").integer(o.licensed)
          .end_object();
    }
    w.end_array().end_object();
  });
}

Result<std::string> build_event_ack(AnswerTo re, const std::optional<std::string>& stream, int64_t upto) {
  return write_json_text([&](JsonWriter& w) {
    start(w, "event_ack", re);
    if (stream) w.key("stream").string(*stream);
    w.key("upto").integer(upto).end_object();
  });
}

Result<std::string> build_request(int64_t id, std::string_view method, std::string_view params_json) {
  return write_json_text([&](JsonWriter& w) {
    start_request(w, "request", id).key("method").string(method);
    if (!params_json.empty()) w.key("params").raw(params_json);
    w.end_object();
  });
}

Result<std::string> build_disconnect(std::string_view reason, std::optional<int64_t> retry_after_s) {
  return write_json_text([&](JsonWriter& w) {
    start(w, "disconnect", std::nullopt).key("reason").string(reason);
    if (retry_after_s) w.key("retry_after_s").integer(*retry_after_s);
    w.end_object();
  });
}

Result<std::string> build_error(AnswerTo re, std::string_view code, std::string_view message,
                                std::optional<int64_t> retry_after_s) {
  return write_json_text([&](JsonWriter& w) {
    start(w, "error", re).key("code").string(code).key("message").string(message);
    if (retry_after_s) w.key("retry_after_s").integer(*retry_after_s);
    w.end_object();
  });
}

}  // namespace sublink
