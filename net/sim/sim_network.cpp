#include "net/sim/sim_network.h"

#include <algorithm>
#include <utility>

namespace sublink {

// ---------------------------------------------------------------- SimConnection

size_t SimConnection::send(std::span<const uint8_t> bytes) {
  if (!server_open_ || !net_) return 0;
  return net_->transmit(*this, false, bytes);
}

void SimConnection::close() {
  if (!server_open_) return;
  server_open_ = false;
  handler_ = nullptr;
  net_->fin(*this, true);
}

void SimConnection::reset() {
  if (!server_open_) return;
  server_open_ = false;
  handler_ = nullptr;
  net_->note("rst from server " + SimNetwork::text(server_addr_) + ":" + std::to_string(port_));
  const uint64_t id = id_;
  SimNetwork* net = net_;
  const Millis arrival = std::max(net->now() + net->path(client_addr_, server_addr_).latency_ms,
                                  to_client_.last_arrival);
  net->at(
      arrival,
      [net, id] {
        SimConnection* c = net->find(id);
        if (c) net->reset_connection(*c, Status(Reason::connection_reset));
      },
      client_addr_, server_addr_);
}

// ------------------------------------------------------------- SimSocketDriver

Result<ResolveId> SimSocketDriver::resolve(std::string_view host, SocketEvents& owner) {
  const ResolveId id = next_lookup_++;
  lookups_[id] = &owner;
  net_.resolve_for(*this, id, host);
  return id;
}

void SimSocketDriver::cancel_resolve(ResolveId id) { lookups_.erase(id); }

Result<SocketId> SimSocketDriver::open(const IpAddress& address, uint16_t port, SocketEvents& owner) {
  const SocketId id = next_socket_++;
  const Status s = net_.connect(*this, id, owner, address, port);
  if (!s.ok()) return s;
  return id;
}

void SimSocketDriver::deliver(const std::function<void()>& event) {
  if (gate_) {
    gate_(event);
  } else {
    event();
  }
}

Result<size_t> SimSocketDriver::send(SocketId id, std::span<const uint8_t> bytes) {
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return Reason::invalid_argument;
  SimConnection* c = net_.find(it->second);
  if (!c || !c->established_) return Reason::would_block;
  return net_.transmit(*c, true, bytes);
}

void SimSocketDriver::receive(SimConnection& c, std::span<const uint8_t> bytes) {
  const SocketId id = c.socket_;
  SocketEvents* owner = c.owner_;
  while (!bytes.empty()) {
    auto h = held_.find(id);
    if (h != held_.end() && h->second.paused) {
      h->second.owner = owner;
      h->second.bytes.insert(h->second.bytes.end(), bytes.begin(), bytes.end());
      return;
    }
    const std::span<const uint8_t> chunk = bytes.first(std::min(bytes.size(), kSocketMaxReceive));
    bytes = bytes.subspan(chunk.size());
    deliver([owner, id, chunk] { owner->on_received(id, chunk); });
    if (!sockets_.count(id)) return;  // the owner closed it
  }
}

void SimSocketDriver::closed_by_server(SimConnection& c) {
  const SocketId id = c.socket_;
  SocketEvents* owner = c.owner_;
  auto h = held_.find(id);
  if (h != held_.end() && !h->second.bytes.empty()) {
    h->second.closed = true;
    h->second.owner = owner;
    return;
  }
  held_.erase(id);
  deliver([owner, id] { owner->on_socket_error(id, Status(Reason::connection_closed)); });
}

void SimSocketDriver::set_receiving(SocketId id, bool on) {
  if (!on) {
    // Bytes held after the peer's FIN are still the owner's to stop.
    if (sockets_.count(id) || held_.count(id)) held_[id].paused = true;
    return;
  }
  auto h = held_.find(id);
  if (h == held_.end()) return;
  h->second.paused = false;
  const std::vector<uint8_t> bytes = std::move(h->second.bytes);
  h->second.bytes.clear();
  SocketEvents* owner = h->second.owner;
  std::span<const uint8_t> rest(bytes);
  while (!rest.empty()) {
    h = held_.find(id);
    if (h == held_.end()) return;  // the owner closed it
    if (h->second.paused) {        // stopped again: the rest waits
      h->second.bytes.assign(rest.begin(), rest.end());
      return;
    }
    const std::span<const uint8_t> chunk = rest.first(std::min(rest.size(), kSocketMaxReceive));
    rest = rest.subspan(chunk.size());
    deliver([owner, id, chunk] { owner->on_received(id, chunk); });
  }
  h = held_.find(id);
  if (h == held_.end()) return;
  const bool closed = h->second.closed;
  if (closed || !sockets_.count(id)) held_.erase(h);
  if (closed) deliver([owner, id] { owner->on_socket_error(id, Status(Reason::connection_closed)); });
}

void SimSocketDriver::shutdown_send(SocketId id) {
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  SimConnection* c = net_.find(it->second);
  if (c != nullptr && c->server_open_ && c->established_) net_.fin(*c, false);
}

void SimSocketDriver::close(SocketId id) {
  held_.erase(id);
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  const uint64_t conn = it->second;
  sockets_.erase(it);
  if (SimConnection* c = net_.find(conn)) net_.client_closed(*c);
}

// ------------------------------------------------------------------ SimNetwork

SimNetwork::SimNetwork(VirtualClock& clock) : clock_(clock) {}
SimNetwork::~SimNetwork() = default;

std::string SimNetwork::text(const IpAddress& a) {
  char buf[64];
  const size_t n = a.format(buf);
  return std::string(buf, n);
}

void SimNetwork::note(const std::string& what) {
  if (log_) log_->push_back("t=" + std::to_string(now()) + " " + what);
}

void SimNetwork::set_path(const IpAddress& client, const IpAddress& server, const SimPath& p) {
  paths_[{text(client), text(server)}] = p;
}

const SimPath& SimNetwork::path(const IpAddress& client, const IpAddress& server) const {
  auto it = paths_.find({text(client), text(server)});
  return it == paths_.end() ? default_path_ : it->second;
}

void SimNetwork::set_dns(std::string_view name, std::vector<IpAddress> addresses) {
  dns_[std::string(name)] = std::move(addresses);
}

void SimNetwork::set_dns_failure(std::string_view name, bool failing) { dns_failing_[std::string(name)] = failing; }

void SimNetwork::set_port_mode(const IpAddress& host, uint16_t port, SimPortMode mode) {
  port_modes_[{text(host), port}] = mode;
}

void SimNetwork::set_blackhole(const IpAddress& host, bool on) {
  note(std::string("blackhole ") + text(host) + (on ? " on" : " off"));
  blackholed_[text(host)] = on;
}

bool SimNetwork::dropped(const IpAddress& a, const IpAddress& b) const {
  for (const IpAddress* h : {&a, &b}) {
    auto it = blackholed_.find(text(*h));
    if (it != blackholed_.end() && it->second) return true;
  }
  return false;
}

bool SimNetwork::link_down(const IpAddress& a) const {
  auto it = down_.find(text(a));
  return it != down_.end() && it->second;
}

void SimNetwork::set_link_down(const IpAddress& host, bool down) {
  note(std::string("link ") + text(host) + (down ? " down" : " up"));
  down_[text(host)] = down;
  if (!down) return;
  std::vector<uint64_t> hit;
  for (auto& [id, c] : connections_) {
    if (c->client_addr_ == host || c->server_addr_ == host) hit.push_back(id);
  }
  for (uint64_t id : hit) {
    if (SimConnection* c = find(id)) reset_connection(*c, Status(Reason::connection_reset));
  }
}

void SimNetwork::restart(const IpAddress& host, Millis down_for_ms) {
  note("restart " + text(host));
  std::vector<uint64_t> hit;
  for (auto& [id, c] : connections_) {
    if (c->server_addr_ == host) hit.push_back(id);
  }
  for (uint64_t id : hit) {
    if (SimConnection* c = find(id)) reset_connection(*c, Status(Reason::connection_reset));
  }
  const std::string h = text(host);
  for (auto& [endpoint, listener] : listeners_) {
    if (endpoint.first == h) listener.up = false;
  }
  at(now() + down_for_ms, [this, h] {
    note("restarted " + h);
    for (auto& [endpoint, listener] : listeners_) {
      if (endpoint.first == h) listener.up = true;
    }
  });
}

void SimNetwork::set_host_power(const IpAddress& host, bool on) {
  note(std::string("power ") + text(host) + (on ? " on" : " off"));
  unpowered_[text(host)] = !on;
  if (on) return;
  for (auto& [id, c] : connections_) {
    if (c->client_addr_ != host || !c->client_open_) continue;
    c->client_open_ = false;
    c->client_vanished_ = true;
    c->client_->sockets_.erase(c->socket_);
  }
  std::vector<uint64_t> done;
  for (auto& [id, c] : connections_) {
    if (!c->client_open_ && !c->server_open_) done.push_back(id);
  }
  for (uint64_t id : done) {
    if (SimConnection* c = find(id)) release_if_done(*c);
  }
}

bool SimNetwork::host_powered(const IpAddress& host) const {
  auto it = unpowered_.find(text(host));
  return it == unpowered_.end() || !it->second;
}

void SimNetwork::answer_vanished(SimConnection& c) {
  if (!host_powered(c.client_addr_) || !c.server_open_) return;  // nobody there to answer
  note("rst from rebooted " + text(c.client_addr_));
  const uint64_t id = c.id_;
  at(
      now() + path(c.client_addr_, c.server_addr_).latency_ms,
      [this, id] {
        SimConnection* r = find(id);
        if (r) reset_connection(*r, Status(Reason::connection_reset));
      },
      c.client_addr_, c.server_addr_);
}

void SimNetwork::listen(const IpAddress& host, uint16_t port, SimAcceptHandler on_accept) {
  listeners_[{text(host), port}] = Listener{std::move(on_accept), true};
}

void SimNetwork::unlisten(const IpAddress& host, uint16_t port) { listeners_.erase({text(host), port}); }

SimSocketDriver& SimNetwork::client(const IpAddress& host) {
  auto& slot = clients_[text(host)];
  if (!slot) slot = std::make_unique<SimSocketDriver>(*this, host);
  return *slot;
}

void SimNetwork::at(Millis t, std::function<void()> fn) {
  queue_.push(Event{std::max(t, now()), seq_++, std::move(fn), {}, {}});
}

void SimNetwork::at(Millis t, std::function<void()> fn, const IpAddress& a, const IpAddress& b) {
  queue_.push(Event{std::max(t, now()), seq_++, std::move(fn), a, b});
}

uint64_t SimNetwork::add_pollable(std::function<Millis(Millis)> poll, const IpAddress& host) {
  const uint64_t id = next_pollable_++;
  pollables_[id] = Pollable{std::move(poll), host, 0};
  deadlines_.insert({0, id});
  if (host.family != 0) {
    by_host_[host].push_back(id);
  } else {
    hostless_.push_back(id);
  }
  return id;
}

void SimNetwork::remove_pollable(uint64_t id) {
  auto it = pollables_.find(id);
  if (it == pollables_.end()) return;
  deadlines_.erase({it->second.next, id});
  to_poll_.erase(id);
  std::vector<uint64_t>& peers = it->second.host.family != 0 ? by_host_[it->second.host] : hostless_;
  std::erase(peers, id);
  pollables_.erase(it);
}

Millis SimNetwork::next_event_time() const { return queue_.empty() ? kNever : queue_.top().at; }

void SimNetwork::mark_concerned(const Event& e) {
  if (e.a.family == 0 && e.b.family == 0) {
    for (const auto& [id, p] : pollables_) to_poll_.insert(id);
    return;
  }
  to_poll_.insert(hostless_.begin(), hostless_.end());
  for (const IpAddress* h : {&e.a, &e.b}) {
    if (h->family == 0) continue;
    auto it = by_host_.find(*h);
    if (it != by_host_.end()) to_poll_.insert(it->second.begin(), it->second.end());
  }
}

void SimNetwork::poll_one(uint64_t id, Millis current) {
  auto it = pollables_.find(id);
  if (it == pollables_.end()) return;  // removed by an earlier poll
  deadlines_.erase({it->second.next, id});
  // The call may add or remove pollables: `it` is not used after it.
  const Millis next = it->second.poll(current);
  it = pollables_.find(id);
  if (it == pollables_.end()) return;
  it->second.next = next;
  deadlines_.insert({next, id});
}

void SimNetwork::run_until(Millis t) {
  // What the caller did before this run may concern any pollable.
  for (const auto& [id, p] : pollables_) to_poll_.insert(id);
  int repeats = 0;  // polls asking for "now" again without an event
  for (;;) {
    released_.clear();
    const Millis current = now();
    // Those an event concerned and those whose deadline came, in the order
    // they were added, as if every pollable were called: the others would
    // do nothing.
    for (auto d = deadlines_.begin(); d != deadlines_.end() && d->first <= current; ++d) to_poll_.insert(d->second);
    while (!to_poll_.empty()) {
      const uint64_t id = *to_poll_.begin();
      to_poll_.erase(to_poll_.begin());
      poll_one(id, current);
    }
    Millis next = deadlines_.empty() ? kNever : deadlines_.begin()->first;
    const Millis event_time = next_event_time();
    if (event_time <= current) {
      Event e = queue_.top();
      queue_.pop();
      e.fn();
      mark_concerned(e);
      repeats = 0;
      continue;
    }
    next = std::min(next, event_time);
    if (next <= current) {
      // A pollable that keeps asking for the present is stepped on by a
      // millisecond rather than spinning forever.
      if (++repeats < 16) continue;
      next = current + 1;
    }
    repeats = 0;
    if (next > t) break;
    clock_.advance_to(next);
  }
  clock_.advance_to(t);
  for (const auto& [id, p] : pollables_) to_poll_.insert(id);
  while (!to_poll_.empty()) {
    const uint64_t id = *to_poll_.begin();
    to_poll_.erase(to_poll_.begin());
    poll_one(id, now());
  }
  released_.clear();
}

SimConnection* SimNetwork::find(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void SimNetwork::resolve_for(SimSocketDriver& driver, ResolveId request, std::string_view host) {
  const std::string name(host);
  at(now() + dns_delay_ms_, [this, &driver, request, name] {
    auto asker = driver.lookups_.find(request);
    if (asker == driver.lookups_.end()) return;  // cancelled
    SocketEvents* owner = asker->second;
    driver.lookups_.erase(asker);
    AddressList list;
    Status status;
    const IpAddress literal = IpAddress::parse(name);
    auto failing = dns_failing_.find(name);
    auto known = dns_.find(name);
    if (!host_powered(driver.host())) {
      return;  // the asker is gone
    } else if (link_down(driver.host())) {
      status = Reason::dns_failed;
    } else if (literal.family != 0) {
      list.add(literal);
    } else if ((failing != dns_failing_.end() && failing->second) || known == dns_.end() || known->second.empty()) {
      status = Reason::dns_failed;
    } else {
      for (const IpAddress& a : known->second) list.add(a);
    }
    note("dns " + name + (status.ok() ? " ok " + std::to_string(list.count) : " failed"));
    driver.deliver([&] { owner->on_resolved(request, status, list); });
  }, driver.host());
}

Status SimNetwork::connect(SimSocketDriver& driver, SocketId id, SocketEvents& owner, const IpAddress& address,
                          uint16_t port) {
  if (link_down(driver.host()) || !host_powered(driver.host())) return Reason::connect_unreachable;
  auto c = std::make_unique<SimConnection>();
  c->net_ = this;
  c->id_ = next_connection_++;
  c->client_ = &driver;
  c->socket_ = id;
  c->owner_ = &owner;
  c->client_addr_ = driver.host();
  c->server_addr_ = address;
  c->port_ = port;
  const uint64_t conn = c->id_;
  driver.sockets_[id] = conn;
  note("syn " + text(driver.host()) + "#" + std::to_string(id) + "->" + text(address) + ":" + std::to_string(port));
  const Millis arrival = now() + path(driver.host(), address).latency_ms;
  connections_[conn] = std::move(c);
  at(arrival, [this, conn] { syn_arrives(conn); }, driver.host(), address);
  return Status::Ok();
}

void SimNetwork::syn_arrives(uint64_t id) {
  SimConnection* c = find(id);
  if (!c || !c->client_open_) return;
  const std::string where = text(c->server_addr_) + ":" + std::to_string(c->port_);
  if (dropped(c->client_addr_, c->server_addr_) || link_down(c->server_addr_)) {
    note("syn dropped " + where);
    return;  // the client's own timeout ends it
  }
  auto mode_it = port_modes_.find({text(c->server_addr_), c->port_});
  const SimPortMode mode = mode_it == port_modes_.end() ? SimPortMode::normal : mode_it->second;
  if (mode == SimPortMode::blackhole) {
    note("syn dropped " + where);
    return;
  }
  auto listener = listeners_.find({text(c->server_addr_), c->port_});
  const bool listening = listener != listeners_.end() && listener->second.up;
  const Millis back = now() + path(c->client_addr_, c->server_addr_).latency_ms;
  if (mode == SimPortMode::refuse || (mode == SimPortMode::normal && !listening)) {
    note("syn refused " + where);
    at(
        back,
        [this, id] {
          SimConnection* r = find(id);
          if (r) reset_connection(*r, Status(Reason::connect_refused));
        },
        c->client_addr_, c->server_addr_);
    return;
  }
  if (mode == SimPortMode::accept_silent) {
    c->silent_ = true;
    note("syn accepted silently " + where);
  } else {
    c->server_open_ = true;
    note("syn accepted " + where);
    listener->second.on_accept(*c);
  }
  at(back, [this, id] {
    SimConnection* r = find(id);
    if (!r || !r->client_open_) return;
    r->established_ = true;
    note("established " + text(r->client_addr_) + "#" + std::to_string(r->socket_));
    r->client_->deliver([r] { r->owner_->on_connected(r->socket_); });
  }, c->client_addr_, c->server_addr_);
}

size_t SimNetwork::transmit(SimConnection& c, bool to_server, std::span<const uint8_t> bytes) {
  SimConnection::Direction& d = to_server ? c.to_server_ : c.to_client_;
  const size_t room = kWindowBytes - d.in_flight;
  const size_t n = std::min(room, bytes.size());
  if (n < bytes.size()) d.blocked = true;
  if (n == 0) return 0;
  const SimPath& p = path(c.client_addr_, c.server_addr_);
  const Millis tx = p.bandwidth_bps > 0 ? (static_cast<int64_t>(n) * 8 * 1000 + p.bandwidth_bps - 1) / p.bandwidth_bps
                                        : 0;
  d.busy_until = std::max(d.busy_until, now()) + tx;
  const Millis arrival = std::max(d.busy_until + p.latency_ms, d.last_arrival);
  d.last_arrival = arrival;
  d.in_flight += n;
  const uint64_t id = c.id_;
  std::vector<uint8_t> copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
  at(
      arrival, [this, id, to_server, copy = std::move(copy)]() mutable { deliver(id, to_server, std::move(copy)); },
      c.client_addr_, c.server_addr_);
  return n;
}

void SimNetwork::deliver(uint64_t id, bool to_server, std::vector<uint8_t> bytes) {
  SimConnection* c = find(id);
  if (!c) return;
  SimConnection::Direction& d = to_server ? c->to_server_ : c->to_client_;
  d.in_flight -= std::min(d.in_flight, bytes.size());
  const bool lost = dropped(c->client_addr_, c->server_addr_);
  note(std::string(lost ? "lost " : "data ") + (to_server ? "c->s " : "s->c ") + std::to_string(bytes.size()));
  if (!lost) {
    if (to_server && c->server_open_ && !c->silent_ && c->handler_) {
      c->handler_->on_data(*c, bytes);
    } else if (!to_server && c->client_open_) {
      c->client_->receive(*c, bytes);
    } else if (!to_server && c->client_vanished_) {
      answer_vanished(*c);
    }
  }
  c = find(id);  // a handler may have closed it
  if (!c) return;
  SimConnection::Direction& again = to_server ? c->to_server_ : c->to_client_;
  if (again.blocked && again.in_flight < kWindowBytes / 2) {
    again.blocked = false;
    if (to_server && c->client_open_) {
      c->client_->deliver([c] { c->owner_->on_writable(c->socket_); });
    } else if (!to_server && c->server_open_ && c->handler_) {
      c->handler_->on_writable(*c);
    }
  }
}

void SimNetwork::fin(SimConnection& c, bool from_server) {
  const uint64_t id = c.id_;
  SimConnection::Direction& d = from_server ? c.to_client_ : c.to_server_;
  const Millis arrival = std::max(now() + path(c.client_addr_, c.server_addr_).latency_ms, d.last_arrival);
  d.last_arrival = arrival;
  note(std::string("fin from ") + (from_server ? "server" : "client"));
  at(arrival, [this, id, from_server] {
    SimConnection* r = find(id);
    if (!r) return;
    if (dropped(r->client_addr_, r->server_addr_)) return;  // a FIN lost in a blackhole
    if (from_server) {
      if (r->client_open_) {
        r->client_open_ = false;
        r->client_->sockets_.erase(r->socket_);
        r->client_->closed_by_server(*r);
      }
    } else if (r->server_open_) {
      r->server_open_ = false;
      SimConnectionHandler* h = r->handler_;
      r->handler_ = nullptr;
      if (h) h->on_closed(*r, Status(Reason::connection_closed));
    }
    if ((r = find(id)) != nullptr) release_if_done(*r);
  }, c.client_addr_, c.server_addr_);
  release_if_done(c);
}

void SimNetwork::client_closed(SimConnection& c) {
  if (!c.client_open_) return;
  c.client_open_ = false;
  if (c.server_open_ && c.established_) {
    fin(c, false);
  } else {
    c.server_open_ = false;
    release_if_done(c);
  }
}

void SimNetwork::reset_connection(SimConnection& c, Status why) {
  const uint64_t id = c.id_;
  note(std::string("reset ") + text(c.client_addr_) + "#" + std::to_string(c.socket_) + " " + reason_name(why.reason()));
  if (c.client_open_) {
    c.client_open_ = false;
    c.client_->sockets_.erase(c.socket_);
    c.client_->deliver([&c, why] { c.owner_->on_socket_error(c.socket_, why); });
  }
  SimConnection* r = find(id);
  if (r && r->server_open_) {
    r->server_open_ = false;
    SimConnectionHandler* h = r->handler_;
    r->handler_ = nullptr;
    if (h) h->on_closed(*r, Status(Reason::connection_reset));
  }
  if ((r = find(id)) != nullptr) release_if_done(*r);
}

void SimNetwork::release_if_done(SimConnection& c) {
  if (c.client_open_ || c.server_open_) return;
  auto it = connections_.find(c.id_);
  if (it == connections_.end()) return;
  released_.push_back(std::move(it->second));
  connections_.erase(it);
}

}  // namespace sublink
