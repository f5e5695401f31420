#include "boards/sim/sim_server.h"

#include <cJSON.h>

#include <algorithm>

namespace sublink {

namespace {
// The `type` of a sublink/1 message, for the timeline only (the session
// parses messages properly).
std::string_view type_of(std::string_view message) {
  constexpr std::string_view kKey = "\"type\":\"";
  const size_t at = message.find(kKey);
  if (at == std::string_view::npos) return {};
  const size_t start = at + kKey.size();
  const size_t end = message.find('"', start);
  return end == std::string_view::npos ? std::string_view() : message.substr(start, end - start);
}

std::string text_of(const IpAddress& a) {
  char buf[64];
  return std::string(buf, a.format(buf));
}

std::string json_text(const cJSON* item) {
  char* printed = cJSON_PrintUnformatted(item);
  std::string out = printed ? printed : "";
  cJSON_free(printed);
  return out;
}

int64_t integer_of(const cJSON* object, const char* name, int64_t fallback = -1) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(object, name);
  return cJSON_IsNumber(v) ? static_cast<int64_t>(cJSON_GetNumberValue(v)) : fallback;
}

std::string string_of(const cJSON* object, const char* name) {
  const char* s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(object, name));
  return s ? s : "";
}
}  // namespace

SimServer::SimServer(SimNetwork& net, const SimServerSetup& setup, SimTimeline& timeline)
    : net_(net), setup_(setup), timeline_(timeline), random_(setup.seed), signer_(random_) {
  server_ = std::make_unique<SimTlsWsServer>(net_, tls_, WsServerConfig{}, static_cast<SimServerHandler&>(*this));
  pollable_ = net_.add_pollable([this](Millis now) { return poll(now); }, setup_.address);
}

SimServer::~SimServer() {
  net_.remove_pollable(pollable_);
  for (uint16_t port : setup_.ports) net_.unlisten(setup_.address, port);
}

Millis SimServer::utc() const { return net_.clock().now().utc_ms; }

void SimServer::note(std::string what) { timeline_.add(net_.now(), "server", std::move(what)); }

// ---- Process -------------------------------------------------------------------

Status SimServer::start() {
  step_all_ = true;  // what the caller changed may concern any session
  if (!loaded_) {
    const SimCredentials& c = *setup_.credentials;
    Status s = tls_.load({c.server_cert_pem, c.server_key_pem, {}, c.ca_pem}, random_);
    if (s.ok()) s = signer_.load_private_key(c.license_private_pem);
    if (!s.ok()) return s;
    loaded_ = true;
  }
  ++epoch_;
  for (uint16_t port : setup_.ports) server_->listen(setup_.address, port);
  listening_ = true;
  note("listening");
  return Status::Ok();
}

void SimServer::stop() {
  step_all_ = true;  // what the caller changed may concern any session
  ++epoch_;
  listening_ = false;
  note("stopped");
  // The host stays up and answers connects with resets; the process and
  // its connections are gone.
  for (uint16_t port : setup_.ports) net_.unlisten(setup_.address, port);
  server_->reset_all();
  if (setup_.stop_forgets_tls_sessions && loaded_ && !tls_.forget_sessions().ok()) {
    note("stop: the TLS sessions could not be forgotten");
  }
}

void SimServer::restart(Millis down_for_ms) {
  step_all_ = true;  // what the caller changed may concern any session
  stop();
  const uint64_t epoch = epoch_;
  net_.at(net_.now() + down_for_ms, [this, epoch] {
    if (epoch != epoch_) return;
    if (Status s = start(); !s.ok()) note(std::string("restart failed: ") + reason_name(s.reason()));
  });
}

// ---- Faults --------------------------------------------------------------------

void SimServer::refuse_port(uint16_t port, bool on) {
  step_all_ = true;  // what the caller changed may concern any session
  note("port " + std::to_string(port) + (on ? " refuses connections" : " accepts again"));
  net_.set_port_mode(setup_.address, port, on ? SimPortMode::refuse : SimPortMode::normal);
}

void SimServer::blackhole_port(uint16_t port, bool on) {
  step_all_ = true;  // what the caller changed may concern any session
  note("port " + std::to_string(port) + (on ? " blackholed" : " reachable again"));
  net_.set_port_mode(setup_.address, port, on ? SimPortMode::blackhole : SimPortMode::normal);
}

void SimServer::blackhole(bool on) {
  step_all_ = true;  // what the caller changed may concern any session
  note(on ? "blackholed: every packet dropped" : "blackhole lifted");
  net_.set_blackhole(setup_.address, on);
}

void SimServer::hang(bool on) {
  step_all_ = true;  // what the caller changed may concern any session
  hung_ = on;
  note(on ? "hung: answers nothing" : "answers again");
  for (auto& [id, session] : sessions_) session->set_blackhole(on);
}

// ---- Operator ------------------------------------------------------------------

ServerSession* SimServer::welcomed_session(SimSessionId* id_out) {
  for (auto& [id, session] : sessions_) {
    if (session->welcomed() && !session->closing()) {
      if (id_out) *id_out = id;
      return session.get();
    }
  }
  return nullptr;
}

std::optional<SessionInfo> SimServer::current() const {
  for (const auto& [id, session] : sessions_) {
    if (session->welcomed() && !session->closing()) return session->info();
  }
  return std::nullopt;
}

bool SimServer::revoke(const std::string& reason) {
  step_all_ = true;  // what the caller changed may concern any session
  SimSessionId id = 0;
  ServerSession* s = welcomed_session(&id);
  if (!s) return false;
  const SessionInfo info = s->info();
  if (!info.license_serial) return false;
  note("revoke " + *info.license_serial + " (" + reason + ")");
  const bool sent = s->revoke(*info.license_serial, reason, utc()).has_value();
  flush(id);
  return sent;
}

bool SimServer::push_grant() {
  step_all_ = true;  // what the caller changed may concern any session
  SimSessionId id = 0;
  ServerSession* s = welcomed_session(&id);
  if (!s) return false;
  note("push grant");
  const bool sent = s->push_grant(utc());
  flush(id);
  return sent;
}

bool SimServer::disconnect(const std::string& reason, std::optional<int64_t> retry_after_s) {
  step_all_ = true;  // what the caller changed may concern any session
  SimSessionId id = 0;
  ServerSession* s = welcomed_session(&id);
  if (!s) return false;
  const bool sent = s->disconnect(reason, retry_after_s, utc());
  flush(id);
  return sent;
}

std::optional<int64_t> SimServer::request(const std::string& method, const std::string& params_json) {
  step_all_ = true;  // what the caller changed may concern any session
  SimSessionId id = 0;
  ServerSession* s = welcomed_session(&id);
  if (!s) return std::nullopt;
  std::optional<int64_t> rid = s->request(method, params_json, utc());
  if (rid) note("request " + method + " id " + std::to_string(*rid));
  flush(id);
  return rid;
}

bool SimServer::drop_connection() {
  step_all_ = true;  // what the caller changed may concern any session
  SimSessionId id = 0;
  if (!welcomed_session(&id)) return false;
  note("connection reset");
  return server_->reset(id).ok();
}

bool SimServer::replay_grant(size_t index) {
  step_all_ = true;  // what the caller changed may concern any session
  SimSessionId id = 0;
  if (index >= grants_.size() || !welcomed_session(&id)) return false;
  note("replays grant #" + std::to_string(index + 1));
  return server_->send_text(id, grants_[index]).ok();
}

size_t SimServer::linked_sessions() const {
  size_t n = 0;
  for (const auto& [id, session] : sessions_) n += session->welcomed() && !session->closing();
  return n;
}

uint64_t SimServer::received(const std::string& type) const {
  auto it = received_.find(type);
  return it == received_.end() ? 0 : it->second;
}

// ---- Transport -----------------------------------------------------------------

void SimServer::on_open(SimSessionId id) {
  PeerInfo peer;
  peer.certificate_cn = std::string(server_->client_common_name(id));
  peer.address = text_of(server_->peer(id));
  peer.port = server_->local_port(id);
  auto session = std::make_unique<ServerSession>(setup_.settings, directory_, signer_, identities_, peer, utc());
  session->set_blackhole(hung_);
  session->set_response_callback([this](const DeviceResponse& r) { responses_.push_back(r); });
  session->set_wake_callback([this, id] { woken_.push_back(id); });
  sessions_[id] = std::move(session);
  touched_.insert(id);
}

void SimServer::on_text(SimSessionId id, std::string_view message) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  observe_in(message);
  it->second->on_text(message, utc());
  touched_.insert(id);
  flush(id);
  // A hello that replaced (or refused) the system's older link: that one
  // sends its disconnect (or error) now.
  std::vector<SimSessionId> woken;
  woken.swap(woken_);
  for (SimSessionId other : woken) {
    touched_.insert(other);
    flush(other);
  }
}

void SimServer::on_closed(SimSessionId id, Status why) {
  // Every channel is gone with the link (PROTOCOL.md section 6).
  if (auto t = tunnels_.find(id); t != tunnels_.end()) {
    t->second->on_link_down();
    tunnels_.erase(t);
  }
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (it->second->welcomed()) {
    note(std::string("session closed: ") + reason_name(why.reason()) +
         (why.reason() == Reason::closed_by_peer ? " " + std::to_string(why.detail()) : ""));
  }
  it->second->on_closed(utc(), reason_name(why.reason()));
  sessions_.erase(it);
  set_deadline(id, kNever);
}

Millis SimServer::poll(Millis world_now) {
  // Only the sessions that something happened to, or whose deadline came,
  // are stepped: stepping the others does nothing, and a fleet of thousands
  // would otherwise step every session after every packet.
  const Millis now_utc = utc();
  std::vector<SimSessionId> ids;
  if (step_all_) {
    for (auto& [id, session] : sessions_) ids.push_back(id);
    step_all_ = false;
  } else {
    std::set<SimSessionId> chosen(touched_.begin(), touched_.end());
    for (auto d = deadlines_.begin(); d != deadlines_.end() && d->first <= world_now; ++d) chosen.insert(d->second);
    ids.assign(chosen.begin(), chosen.end());
  }
  touched_.clear();
  for (SimSessionId id : ids) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) continue;
    const Millis due = it->second->step(now_utc);
    flush(id);
    set_deadline(id, due == kNever ? kNever : world_now + std::max<Millis>(0, due - now_utc));
  }
  return deadlines_.empty() ? kNever : deadlines_.begin()->first;
}

void SimServer::set_deadline(SimSessionId id, Millis at) {
  auto it = deadline_of_.find(id);
  if (it != deadline_of_.end()) {
    deadlines_.erase({it->second, id});
    deadline_of_.erase(it);
  }
  if (at == kNever || sessions_.find(id) == sessions_.end()) return;
  deadline_of_[id] = at;
  deadlines_.insert({at, id});
}

void SimServer::flush(SimSessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  SessionOutput out = it->second->take_output();
  if (out.identity) {
    const IdentityNotice& n = *out.identity;
    if (!n.replaced_peer.empty()) {
      note("hello of instance " + n.instance.value_or("?") + " replaces the link of instance " +
           n.replaced_instance.value_or("?") + (n.counted ? " (another appliance)" : " (the same appliance)"));
    }
    if (n.duplicate) note(std::string("duplicate_identity alarm") + (n.refused ? ": refused" : ""));
  }
  for (const std::string& m : out.messages) {
    observe_out(m);
    if (!server_->send_text(id, m).ok()) break;
  }
  flush_tunnel(id);
  if (out.close) {
    note("closes with " + std::to_string(out.close->code) + " " + out.close->reason);
    // Fails only for a session already gone: then there is nothing to close.
    (void)server_->close(id, out.close->code, out.close->reason);
  }
}

// ---- Timeline ------------------------------------------------------------------

void SimServer::observe_in(std::string_view message) {
  const std::string type(type_of(message));
  ++received_[type];
  if (type == "heartbeat") {
    heartbeat_arrivals_.push_back(net_.now());
    return;
  }
  cJSON* root = cJSON_ParseWithLength(message.data(), message.size());
  if (type == "hello" && root) {
    const std::string serial = string_of(root, "license_serial");
    note("hello boot=" + std::to_string(integer_of(root, "boot")) + " stream=" + string_of(root, "event_stream") +
         " state=" + string_of(root, "state") +
         " grace_elapsed_s=" + std::to_string(integer_of(root, "grace_elapsed_s")) +
         (serial.empty() ? "" : " license=" + serial));
  } else if (type == "event" && root) {
    std::string kinds;
    std::string stream = string_of(root, "stream");
    if (stream.empty()) stream = std::string(kLegacyEventStream);
    const cJSON* e = nullptr;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "events")) {
      SimEventDelivery d{net_.now(), stream, integer_of(e, "seq"), string_of(e, "kind"), json_text(e)};
      kinds += " #" + std::to_string(d.seq) + " " + d.kind;
      deliveries_.push_back(std::move(d));
    }
    note("events stream=" + stream + kinds);
  } else if (type == "license_audit" || type == "response") {
    note(type);
  }
  cJSON_Delete(root);
}

void SimServer::observe_out(std::string_view message) {
  const std::string_view type = type_of(message);
  if (type == "heartbeat_ack") return;
  if (type == "license_grant") {
    grants_.emplace_back(message);
    const std::string serial = directory_.issued().empty() ? "" : directory_.issued().back().serial;
    note("license_grant " + serial);
  } else if (type == "welcome") {
    ++welcomes_;
    note("welcome");
  } else if (type == "event_ack" || type == "audit_ack") {
    cJSON* root = cJSON_ParseWithLength(message.data(), message.size());
    note(std::string(type) + (type == "event_ack" ? " upto=" + std::to_string(integer_of(root, "upto"))
                                                  : " " + string_of(root, "status")));
    cJSON_Delete(root);
  } else {
    note(std::string(message.substr(0, 160)));
  }
}

}  // namespace sublink
