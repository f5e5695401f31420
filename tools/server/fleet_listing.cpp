#include "tools/server/fleet_listing.h"

#include <map>

namespace sublink {

std::vector<DeviceRow> merge_fleet(const std::vector<SystemSummary>& systems, const std::vector<SessionInfo>& links) {
  std::map<std::string, DeviceRow> rows;
  for (const SystemSummary& s : systems) {
    DeviceRow& row = rows[s.system_id];
    row.system_id = s.system_id;
    row.customer_id = s.customer_id;
    row.serial = s.last_serial;
    row.duplicate_identity = s.duplicate_identity;
    if (s.last_connection) {
      // A connection still open in the records but not live here ended
      // without its end recorded (the server stopped hard): it is down, last
      // heard no later than its welcome.
      row.last_contact = s.last_connection->last_contact.value_or(s.last_connection->record.up);
    }
  }
  std::map<std::string, Millis> newest;  // system_id -> connected_since of the link shown
  for (const SessionInfo& link : links) {
    const Millis since = link.connected_since.value_or(0);
    auto shown = newest.find(link.system_id);
    if (shown != newest.end() && shown->second > since) continue;
    newest[link.system_id] = since;
    DeviceRow& row = rows[link.system_id];
    row.system_id = link.system_id;
    if (row.customer_id.empty()) row.customer_id = link.customer_id;
    row.up = true;
    row.port = link.port;
    row.peer = link.peer;
    row.last_contact = link.last_contact;
    if (link.license_serial) row.serial = link.license_serial;
    row.held = link.held_serial;
    row.blackholed = link.blackholed;
  }
  std::vector<DeviceRow> out;
  out.reserve(rows.size());
  for (auto& [id, row] : rows) out.push_back(std::move(row));
  return out;
}

void write_device_row(JsonWriter& w, const DeviceRow& row) {
  auto optional_text = [&w](const std::optional<std::string>& text) {
    if (text) {
      w.string(*text);
    } else {
      w.null();
    }
  };
  w.begin_object();
  w.key("system_id").string(row.system_id);
  w.key("customer_id").string(row.customer_id);
  w.key("link").string(row.up ? "up" : "down");
  w.key("port");
  if (row.port) {
    w.integer(*row.port);
  } else {
    w.null();
  }
  w.key("peer");
  optional_text(row.peer);
  w.key("last_contact");
  if (row.last_contact) {
    w.integer(*row.last_contact);
  } else {
    w.null();
  }
  w.key("serial");
  optional_text(row.serial);
  w.key("held");
  optional_text(row.held);
  w.key("blackholed").boolean(row.blackholed);
  w.key("alarms").begin_array();
  if (row.duplicate_identity) {
    const SystemAlarm& a = *row.duplicate_identity;
    w.begin_object().key("kind").string(a.kind).key("raised").integer(a.raised).key("detail").string(a.detail);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

}  // namespace sublink
