#include "firmware/agent/agent_status.h"

namespace sublink {

void write_tunnel_listing(JsonWriter& w, std::span<const TunnelListing> channels) {
  w.begin_array();
  for (const TunnelListing& t : channels) {
    w.begin_object().key("channel").integer(t.channel).key("service").string(t.service).key("operator").string(t.op);
    w.key("opened");
    if (t.opened) {
      w.integer(*t.opened);
    } else {
      w.null();
    }
    w.key("bytes_in").integer(static_cast<int64_t>(t.bytes_in)).key("bytes_out").integer(static_cast<int64_t>(t.bytes_out));
    w.end_object();
  }
  w.end_array();
}

void write_status_json(JsonWriter& w, const AgentStatus& s) {
  w.begin_object()
      .key("state").string(state_name(s.state))
      .key("link").string(s.link_up ? "up" : "down");
  if (s.link_up) w.key("port").integer(s.port);
  w.key("grace_elapsed_s").integer(s.grace_elapsed_s)
      .key("grace_remaining_s").integer(s.grace_remaining_s)
      .key("alarm").boolean(s.alarm)
      .key("license");
  if (s.license_held) {
    w.begin_object().key("serial").string(s.serial).key("expires").integer(s.expires).key("features").begin_array();
    for (const LicensedFeature& f : s.features) {
      w.begin_object().key("name").string(f.name.view()).key("qty").integer(f.qty).end_object();
    }
    w.end_array().end_object();
  } else {
    w.null();
  }
  w.key("events_pending").integer(static_cast<int64_t>(s.events_pending))
      .key("boot").integer(static_cast<int64_t>(s.boot))
      .key("audit_overuse").boolean(s.audit_overuse);
  w.key("clock").begin_object().key("trusted").boolean(s.clock.trusted).key("source").string(s.clock.source).end_object();
  w.key("last_failure");
  if (s.last_failure.reason.empty()) {
    w.null();
  } else {
    w.begin_object().key("reason").string(s.last_failure.reason).key("detail").string(s.last_failure.detail).key("when");
    if (s.last_failure.when) {
      w.integer(*s.last_failure.when);
    } else {
      w.null();
    }
    w.end_object();
  }
  w.key("next_attempt");
  if (s.next_attempt.in_ms) {
    w.begin_object().key("in_s").integer((*s.next_attempt.in_ms + 999) / 1000).key("at");
    if (s.next_attempt.at) {
      w.integer(*s.next_attempt.at);
    } else {
      w.null();
    }
    w.key("waiting_for_clock").boolean(s.next_attempt.waiting_for_clock);
    w.end_object();
  } else {
    w.null();
  }
  w.key("tunnels");
  write_tunnel_listing(w, s.tunnels);
  if (s.tunnels_omitted != 0) w.key("tunnels_omitted").integer(static_cast<int64_t>(s.tunnels_omitted));
  w.key("event_stream").string(s.event_stream).key("storage").string(s.storage).key("damaged").begin_array();
  for (size_t i = 0; i < s.damaged_count && i < s.damaged.size(); ++i) w.string(s.damaged[i]);
  w.end_array().end_object();
}

}  // namespace sublink
