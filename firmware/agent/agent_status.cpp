#include "firmware/agent/agent_status.h"

namespace sublink {

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
  w.key("event_stream").string(s.event_stream).key("storage").string(s.storage).key("damaged").begin_array();
  for (size_t i = 0; i < s.damaged_count && i < s.damaged.size(); ++i) w.string(s.damaged[i]);
  w.end_array().end_object();
}

}  // namespace sublink
