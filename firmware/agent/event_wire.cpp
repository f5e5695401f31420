#include "firmware/agent/event_wire.h"

#include <algorithm>

#include "firmware/agent/tunnel_service.h"

namespace sublink {

namespace {
// The payload text means a different thing per kind; the wire name says which.
std::string_view text_name(EventKind kind) {
  switch (kind) {
    case EventKind::license_applied:
    case EventKind::license_revoked: return "serial";
    case EventKind::license_refused: return "reason";
    case EventKind::license_denied: return "code";
    case EventKind::record_damaged:
    case EventKind::storage_failed: return "record";
    default: return "text";
  }
}

// The other kinds: the payload's fields that are set, by their wire names.
size_t payload_attributes(const Event& e, WireEvent& out, size_t n) {
  const EventPayload& p = e.payload;
  if (p.days_left >= 0) out.attributes[n++] = EventAttribute::of("days_left", int64_t{p.days_left});
  if (e.kind == EventKind::record_damaged) {
    // What was wrong by name, and how many undelivered events went with it.
    out.attributes[n++] = EventAttribute::of("fault", std::string_view(record_damage_name(p.detail)));
    if (p.count > 0) out.attributes[n++] = EventAttribute::of("lost", int64_t{p.count});
  } else if (p.detail != 0) {
    out.attributes[n++] = EventAttribute::of("detail", p.detail);
  }
  if (e.kind == EventKind::events_summarised) {
    out.attributes[n++] = EventAttribute::of("count", int64_t{p.count});
    out.attributes[n++] = EventAttribute::of("first_seq", static_cast<int64_t>(p.first_seq));
    out.attributes[n++] = EventAttribute::of("last_seq", static_cast<int64_t>(p.last_seq));
  } else if (!p.text_view().empty()) {
    out.attributes[n++] = EventAttribute::of(text_name(e.kind), p.text_view());
  }
  return n;
}

// PROTOCOL.md section 6's fields, from where tunnel_service.cpp put them.
size_t tunnel_attributes(const Event& e, WireEvent& out, size_t n) {
  const EventPayload& p = e.payload;
  const std::string_view text = p.text_view();
  const size_t cut = std::min(text.find('\x1f'), text.size());
  out.attributes[n++] = EventAttribute::of("channel", int64_t{p.count});
  out.attributes[n++] = EventAttribute::of("service", text.substr(0, cut));
  if (e.kind == EventKind::tunnel_opened) {
    out.attributes[n++] = EventAttribute::of("operator", cut < text.size() ? text.substr(cut + 1) : std::string_view());
    return n;
  }
  out.attributes[n++] = EventAttribute::of("bytes_in", static_cast<int64_t>(p.first_seq));
  out.attributes[n++] = EventAttribute::of("bytes_out", static_cast<int64_t>(p.last_seq));
  out.attributes[n++] = EventAttribute::of("seconds", p.detail);
  out.attributes[n++] = EventAttribute::of("reason", std::string_view(tunnel_closed_reason_name(p.days_left)));
  return n;
}
}  // namespace

void to_wire_event(const Event& e, WireEvent& out) {
  size_t n = 0;
  out.attributes[n++] = EventAttribute::of("severity", severity_name(e.severity));
  if (e.kind == EventKind::tunnel_opened || e.kind == EventKind::tunnel_closed) {
    n = tunnel_attributes(e, out, n);
  } else {
    n = payload_attributes(e, out, n);
  }
  out.message.seq = static_cast<int64_t>(e.seq);
  out.message.time = e.time_utc_ms;
  out.message.kind = kind_name(e.kind);
  out.message.attributes = {out.attributes.data(), n};
}

}  // namespace sublink
