#include "tools/server/admin_service.h"

#include <algorithm>
#include <cstring>

#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"
#include "tools/server/admin_commands.h"
#include "server_core/json_text.h"
#include "tools/server/fleet_listing.h"

namespace sublink {

namespace {

// {"ok":false,"error":TEXT}. Operator words are echoed in errors; one that
// is not UTF-8 cannot be, so the answer says that instead.
std::string error_line(std::string_view text) {
  Result<std::string> line = write_json_text([&](JsonWriter& w) {
    w.begin_object().key("ok").boolean(false).key("error").string(text).end_object();
  });
  return line.ok() ? *line : R"({"ok":false,"error":"the request is not valid UTF-8"})";
}

// {"ok":true, ...members written by `members`}.
template <class Members>
std::string ok_line(Members&& members) {
  Result<std::string> line = write_json_text([&](JsonWriter& w) {
    w.begin_object().key("ok").boolean(true);
    members(w);
    w.end_object();
  });
  return line.ok() ? *line : error_line("the answer is not valid UTF-8");
}

std::string ok_line() {
  return ok_line([](JsonWriter&) {});
}

// The device's `response` as the operator sees it.
void write_response(JsonWriter& w, const DeviceResponse& r) {
  w.begin_object().key("ok").boolean(r.ok);
  if (r.ok) {
    w.key("result").raw(r.result_json.empty() ? "null" : r.result_json);
  } else {
    w.key("error").begin_object().key("code").string(r.error_code).key("message").string(r.error_message).end_object();
  }
  w.end_object();
}

std::string not_linked(const std::string& system_id) { return error_line(system_id + " is not linked"); }

const char* port_state_name(PortState state) {
  switch (state) {
    case PortState::listening: return "listening";
    case PortState::stopped: return "stopped";
    case PortState::stalled: return "stalled";
  }
  return "?";
}

}  // namespace

AdminService::AdminService(ServerLoop& loop, SqliteDirectory& db, ServerContext& context, TunnelForwards& forwards)
    : loop_(loop), db_(db), context_(context), forwards_(forwards), socket_(*this) {
  context_.observer = this;
}

AdminService::~AdminService() {
  if (context_.observer == this) context_.observer = nullptr;
}

Millis AdminService::step(Millis now) {
  // Collected first: finishing answers the client, which may change waits_.
  std::vector<Wait> late;
  for (auto it = waits_.begin(); it != waits_.end();) {
    if (it->deadline <= now) {
      late.push_back(std::move(*it));
      it = waits_.erase(it);
    } else {
      ++it;
    }
  }
  for (const Wait& w : late) {
    finish(w, nullptr, w.system_id + " did not answer within " + std::to_string(w.timeout_s) + " s", now);
  }
  Millis next = socket_.step(now);
  for (const Wait& w : waits_) next = std::min(next, w.deadline);
  return next;
}

void AdminService::on_request(AdminClientId client, std::string_view line, Millis now) {
  std::vector<std::string> words;
  std::string error;
  AdminRequest request;
  if (!admin_request_words(line, words, error) || !parse_admin_words(words, request, error)) {
    socket_.answer(client, error_line(error), now);
    return;
  }
  std::string answer = run(request, client, now);
  if (!answer.empty()) socket_.answer(client, answer, now);
}

std::string AdminService::run(const AdminRequest& request, AdminClientId client, Millis now) {
  switch (request.command) {
    case AdminCommand::devices: return devices();
    case AdminCommand::add_customer: return add_customer(request);
    case AdminCommand::add_system: return add_system(request);
    case AdminCommand::entitle: return entitle(request, now);
    case AdminCommand::revoke: return revoke(request, client, now);
    case AdminCommand::disconnect: return disconnect(request, now);
    case AdminCommand::request: return device_request(request, client, now);
    case AdminCommand::port: return port(request);
    case AdminCommand::drop: return drop(request, now);
    case AdminCommand::blackhole: return blackhole(request, now);
    case AdminCommand::clear_alarm: return clear_alarm(request, now);
    case AdminCommand::forward: return forward(request, now);
    case AdminCommand::tunnels: return tunnels(now);
  }
  return error_line("unknown command");
}

DeviceConnection* AdminService::served_link(const std::string& system_id, std::string& error) {
  DeviceConnection* link = loop_.link_of(system_id);
  if (link == nullptr) {
    error = system_id + " is not linked";
  } else if (link->blackholed()) {
    error = system_id + "'s link is blackholed (blackhole " + system_id + " off first)";
    link = nullptr;
  }
  return link;
}

std::string AdminService::database_failed(Status s) {
  context_.log.write(LogLevel::error, "operator command: database: %s (%d): %s", reason_name(s.reason()), s.detail(),
                     db_.error_message().c_str());
  return error_line("the database failed: " + db_.error_message());
}

// ---- Records --------------------------------------------------------------------------

std::string AdminService::devices() {
  Result<std::vector<SystemSummary>> systems = db_.system_summaries();
  if (!systems.ok()) return database_failed(systems.status());
  const std::vector<DeviceRow> rows = merge_fleet(*systems, loop_.links());
  return ok_line([&](JsonWriter& w) {
    w.key("devices").begin_array();
    for (const DeviceRow& row : rows) write_device_row(w, row);
    w.end_array();
  });
}

std::string AdminService::clear_alarm(const AdminRequest& request, Millis now) {
  Result<bool> cleared = db_.clear_alarm(request.system_id, kDuplicateIdentityAlarm, now);
  if (!cleared.ok()) return database_failed(cleared.status());
  if (!*cleared) return error_line(request.system_id + " has no duplicate_identity alarm standing");
  // The count of replacements starts again: the appliances that took turns
  // before the operator acted do not raise it again at their next turn.
  context_.identities.forget_replacements(request.system_id);
  context_.log.write(LogLevel::notice, "operator: %s duplicate_identity alarm cleared", request.system_id.c_str());
  return ok_line();
}

std::string AdminService::add_customer(const AdminRequest& request) {
  const Status s = db_.put_customer(request.customer_id, request.name);
  if (!s.ok()) return database_failed(s);
  context_.log.write(LogLevel::notice, "operator: customer %s added", request.customer_id.c_str());
  return ok_line();
}

std::string AdminService::add_system(const AdminRequest& request) {
  Result<std::optional<std::string>> customer = db_.customer_name(request.customer_id);
  if (!customer.ok()) return database_failed(customer.status());
  // Unlike the offline command, a running server does not invent the
  // customer: a mistyped id is caught here, not found later as a stray row.
  if (!customer->has_value()) return error_line("no customer " + request.customer_id + " (add-customer first)");
  SystemRecord record;
  record.customer_id = request.customer_id;
  record.system_id = request.system_id;
  const Status s = register_system(db_, std::move(record));
  if (!s.ok()) return database_failed(s);
  context_.log.write(LogLevel::notice, "operator: system %s added for customer %s", request.system_id.c_str(),
                     request.customer_id.c_str());
  return ok_line();
}

std::string AdminService::entitle(const AdminRequest& request, Millis now) {
  const Status s = db_.set_entitlement(request.system_id, request.feature, request.qty);
  if (s.reason() == Reason::invalid_argument) return error_line("no system " + request.system_id);
  if (!s.ok()) return database_failed(s);
  std::string not_pushed;
  DeviceConnection* link = served_link(request.system_id, not_pushed);
  std::optional<std::string> serial;
  if (link != nullptr) {
    if (link->session()->push_grant(now)) {
      serial = link->session()->info().license_serial;
    } else {
      not_pushed = "nothing it asked for is entitled (license_denied sent)";
    }
    loop_.serviced(*link, now);
  }
  context_.log.write(LogLevel::notice, "operator: %s %s = %u%s%s", request.system_id.c_str(),
                     request.feature.c_str(), request.qty, serial ? ", license pushed: " : "",
                     serial ? serial->c_str() : "");
  return ok_line([&](JsonWriter& w) {
    w.key("pushed").boolean(serial.has_value());
    if (serial) {
      w.key("serial").string(*serial);
    } else {
      w.key("why").string(not_pushed);
    }
  });
}

// ---- Messages to a linked device ---------------------------------------------------------

std::string AdminService::revoke(const AdminRequest& request, AdminClientId client, Millis now) {
  DeviceConnection* link = loop_.link_of(request.system_id);
  if (link != nullptr && link->blackholed()) {
    return error_line(request.system_id + "'s link is blackholed (blackhole " + request.system_id + " off first)");
  }
  if (link == nullptr) {
    // Recorded now; the device is told when it links again holding it.
    Result<std::optional<IssuedLicense>> last = db_.last_issued(request.system_id);
    if (!last.ok()) return database_failed(last.status());
    if (!last->has_value()) return error_line(request.system_id + " has no license to revoke");
    const std::string serial = (*last)->serial;
    const Status s = db_.record_revoked(request.system_id, serial, request.reason, now);
    if (!s.ok()) return database_failed(s);
    context_.log.write(LogLevel::notice, "operator: %s license %s revoked (not linked: told when it links)",
                       request.system_id.c_str(), serial.c_str());
    return ok_line([&](JsonWriter& w) { w.key("linked").boolean(false).key("serial").string(serial); });
  }
  // The license the device reported in force, not the one last issued: a
  // grant it could not apply (or that is still in flight) is not what it
  // runs. While a grant is unconfirmed the revoke goes out as "*".
  const SessionInfo info = link->session()->info();
  if (!info.held_serial && info.unconfirmed_serials.empty()) {
    return error_line(request.system_id + " holds no license");
  }
  std::optional<ServerSession::HeldRevoke> sent = link->session()->revoke_held(request.reason, now);
  if (!sent) return error_line("cannot revoke (the reason must be UTF-8, or the records failed)");
  loop_.serviced(*link, now);
  context_.log.write(LogLevel::notice, "operator: %s license %s revoked", request.system_id.c_str(),
                     sent->serial.c_str());
  wait_for(client, *link, sent->id, request, sent->serial, now);
  return "";
}

std::string AdminService::disconnect(const AdminRequest& request, Millis now) {
  std::string error;
  DeviceConnection* link = served_link(request.system_id, error);
  if (link == nullptr) return error_line(error);
  if (!link->session()->disconnect("operator", request.retry_after_s, now)) {
    return error_line("cannot send disconnect to " + request.system_id);
  }
  loop_.serviced(*link, now);
  context_.log.write(LogLevel::notice, "operator: %s told to disconnect (retry after %lld s)",
                     request.system_id.c_str(), static_cast<long long>(request.retry_after_s.value_or(0)));
  return ok_line();
}

std::string AdminService::device_request(const AdminRequest& request, AdminClientId client, Millis now) {
  std::string error;
  DeviceConnection* link = served_link(request.system_id, error);
  if (link == nullptr) return error_line(error);
  std::optional<int64_t> id = link->session()->request(request.method, request.params_json, now);
  if (!id) return error_line("cannot send the request (METHOD and PARAMS_JSON must be UTF-8 and JSON)");
  loop_.serviced(*link, now);
  wait_for(client, *link, *id, request, "", now);
  return "";
}

void AdminService::wait_for(AdminClientId client, DeviceConnection& connection, int64_t request_id,
                            const AdminRequest& request, std::string serial, Millis now) {
  waits_.push_back({client, &connection, request_id, now + request.timeout_s * 1000, request.timeout_s,
                    request.system_id, std::move(serial)});
}

void AdminService::on_response(DeviceConnection& connection, const DeviceResponse& response) {
  auto it = std::find_if(waits_.begin(), waits_.end(), [&](const Wait& w) {
    return w.connection == &connection && w.request_id == response.id;
  });
  if (it == waits_.end()) return;
  const Wait wait = std::move(*it);
  waits_.erase(it);
  (void)connection.session()->take_response(response.id);  // the session need not keep it
  finish(wait, &response, "", server_now());
}

void AdminService::on_ended(DeviceConnection& connection) {
  std::vector<Wait> ended;
  for (auto it = waits_.begin(); it != waits_.end();) {
    if (it->connection == &connection) {
      ended.push_back(std::move(*it));
      it = waits_.erase(it);
    } else {
      ++it;
    }
  }
  for (const Wait& w : ended) finish(w, nullptr, "the link to " + w.system_id + " ended before it answered",
                                      server_now());
}

void AdminService::finish(const Wait& wait, const DeviceResponse* response, std::string_view failure, Millis now) {
  if (response == nullptr) {
    socket_.answer(wait.client, error_line(failure), now);
    return;
  }
  // A revoke of "*" is reported with the serial the device says it revoked.
  std::string serial = wait.serial;
  if (serial == "*" && response->ok) {
    auto result = JsonDocument::parse(response->result_json);
    if (result.ok()) {
      JsonReader r(result->root());
      std::optional<std::string_view> revoked = r.optional_string("serial");
      if (r.ok() && revoked) serial = std::string(*revoked);
    }
  }
  socket_.answer(wait.client, ok_line([&](JsonWriter& w) {
                   if (!serial.empty()) w.key("linked").boolean(true).key("serial").string(serial);
                   w.key("response");
                   write_response(w, *response);
                 }),
                 now);
}

// ---- Fault controls --------------------------------------------------------------------------

std::string AdminService::port(const AdminRequest& request) {
  const Status s = loop_.control_port(request.port, request.port_action);
  const std::string port = std::to_string(request.port);
  if (s.reason() == Reason::invalid_argument) {
    return error_line(s.detail() == 1 ? "port " + port + " is stopped; start it first"
                                      : "the server does not listen on port " + port);
  }
  if (!s.ok()) return error_line("cannot listen on port " + port + " again: " + strerror(s.detail()));
  return ok_line([&](JsonWriter& w) {
    w.key("port").integer(request.port).key("state").string(port_state_name(*loop_.port_state(request.port)));
  });
}

std::string AdminService::drop(const AdminRequest& request, Millis now) {
  DeviceConnection* link = loop_.link_of(request.system_id);
  if (link == nullptr) return not_linked(request.system_id);
  context_.log.write(LogLevel::notice, "operator: dropping %s's connection", request.system_id.c_str());
  link->close_now(now, "dropped_by_operator", true);
  loop_.serviced(*link, now);  // gone after this
  return ok_line();
}

std::string AdminService::blackhole(const AdminRequest& request, Millis now) {
  DeviceConnection* link = loop_.link_of(request.system_id);
  if (link == nullptr) return not_linked(request.system_id);
  link->set_blackhole(request.on);
  loop_.serviced(*link, now);
  context_.log.write(LogLevel::notice, "operator: %s blackholed %s", request.system_id.c_str(),
                     request.on ? "on" : "off");
  return ok_line();
}

// ---- Tunnels ---------------------------------------------------------------------------------

std::string AdminService::forward(const AdminRequest& request, Millis now) {
  std::string error;
  if (request.close) {
    if (!forwards_.close(request.listen, error, now)) return error_line(error);
    return ok_line([&](JsonWriter& w) { w.key("closed").string(listen_address_text(request.listen)); });
  }
  std::optional<ListenAddress> listening =
      forwards_.add(request.system_id, request.service, request.op, request.listen, error, now);
  if (!listening) return error_line(error);
  return ok_line([&](JsonWriter& w) {
    w.key("listen").string(listen_address_text(*listening)).key("port").integer(listening->port);
  });
}

std::string AdminService::tunnels(Millis now) {
  return ok_line([&](JsonWriter& w) {
    w.key("forwards").begin_array();
    for (const ForwardInfo& f : forwards_.forwards()) {
      w.begin_object()
          .key("listen").string(f.listen)
          .key("system_id").string(f.system_id)
          .key("service").string(f.service)
          .key("operator").string(f.op)
          .key("channels").integer(static_cast<int64_t>(f.channels))
          .key("accepted").integer(static_cast<int64_t>(f.accepted))
          .end_object();
    }
    w.end_array().key("channels").begin_array();
    for (const ChannelInfo& c : forwards_.channels()) {
      w.begin_object()
          .key("system_id").string(c.system_id)
          .key("channel").integer(c.channel)
          .key("service").string(c.service)
          .key("operator").string(c.op)
          .key("listen").string(c.listen)
          .key("peer").string(c.peer)
          .key("opened").integer(c.opened)
          .key("age_s").integer((now - c.opened) / 1000)
          .key("bytes_in").integer(static_cast<int64_t>(c.bytes_in))
          .key("bytes_out").integer(static_cast<int64_t>(c.bytes_out))
          .key("accepted").boolean(c.accepted)
          .end_object();
    }
    w.end_array();
  });
}

}  // namespace sublink
