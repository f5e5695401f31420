#include "net/link/link.h"

#include <cstdio>

namespace sublink {

const char* link_step_name(LinkStep step) {
  switch (step) {
    case LinkStep::connecting: return "connecting";
    case LinkStep::tcp_connected: return "tcp_connected";
    case LinkStep::tunnel_open: return "tunnel_open";
    case LinkStep::tls_established: return "tls_established";
    case LinkStep::upgraded: return "upgraded";
  }
  return "unknown";
}

namespace {

// The policy starts no more attempts at once than the link has slots for:
// one beyond them would fail at once, and a port that only such an attempt
// could reach would never be tried.
ConnectConfig paced(const LinkConfig& config) {
  ConnectConfig c = config.connect;
  const size_t slots = config.max_parallel_attempts < 1 ? 1 : config.max_parallel_attempts;
  if (c.max_pending == 0 || c.max_pending > slots) c.max_pending = slots;
  return c;
}

}  // namespace

Link::Link(const LinkConfig& config, TlsClientConfig& tls, SocketDriver& driver, Random& random,
           LinkListener& listener)
    : config_(config),
      tls_(&tls),
      driver_(driver),
      random_(random),
      listener_(listener),
      policy_(paced(config), random),
      chain_limit_(config.max_parallel_attempts < 1 ? 1 : config.max_parallel_attempts),
      chains_(new Chain[chain_limit_]) {}

Link::~Link() {
  for (auto& c : chains()) {
    if (c.stage != Stage::free) release(c);
  }
  if (resolve_id_ != 0) driver_.cancel_resolve(resolve_id_);
}

bool Link::winner_stage_open() const { return winner_ && winner_->stage == Stage::open; }

bool Link::idle() const {
  if (resolve_id_ != 0 || winner_) return false;
  for (auto& c : chains()) {
    if (c.stage != Stage::free) return false;
  }
  return !running_;
}

void Link::start(Millis now) {
  now_ = now;
  running_ = true;
  // No backoff reset here: only `welcome` resets it (link_accepted), so a
  // device the server refuses and that restarts (after a close for a
  // violation, a disconnect) still waits as long as the backoff says.
  if (resolve_id_ != 0 || policy_.state() == ConnectPolicy::State::waiting) return;  // poll() resolves at retry_at
  begin_resolve();
}

void Link::begin_resolve() {
  // With a proxy, every TCP attempt goes to the proxy: the proxy resolves
  // the server name, the device resolves the proxy's.
  const Result<ResolveId> lookup = driver_.resolve(config_.proxy ? config_.proxy->host() : config_.server, *this);
  if (lookup.ok()) {
    resolve_id_ = *lookup;
  } else {
    addresses_.count = 0;
    resolved(lookup.status(), addresses_);  // the round fails as an unanswered name would
  }
}

void Link::on_resolved(ResolveId request, Status status, const AddressList& addresses) {
  if (request == 0 || request != resolve_id_) return;
  resolve_id_ = 0;
  resolved(status, addresses);
}

void Link::resolved(Status status, const AddressList& addresses) {
  if (status.ok()) {
    addresses_ = addresses;
  } else {
    addresses_.count = 0;
  }
  listener_.on_resolved(config_.proxy ? config_.proxy->host() : config_.server, status, addresses_);
  if (!running_) return;
  policy_.start_round(now_, addresses_.count);
  if (!status.ok()) {
    // The round fails at the next poll; keep the resolver's reason for it.
    policy_.on_attempt_failed(0, status, now_);
    last_dns_failure_ = status;
  }
}

Millis Link::poll(Millis now) {
  now_ = now;
  // Close handshakes that took too long.
  for (auto& c : chains()) {
    if (c.stage == Stage::closing && now >= c.close_deadline) {
      bool was_winner = &c == winner_;
      release(c);
      if (was_winner) {
        winner_ = nullptr;
        listener_.on_link_down(Status::Ok());
      }
    }
  }
  if (running_ && resolve_id_ == 0 && !winner_ && policy_.state() == ConnectPolicy::State::waiting &&
      now >= policy_.retry_at()) {
    begin_resolve();
  }
  for (;;) {
    ConnectAction a = policy_.poll(now);
    if (a.kind == ConnectAction::Kind::nothing) break;
    switch (a.kind) {
      case ConnectAction::Kind::start_attempt:
        start_attempt(a);
        break;
      case ConnectAction::Kind::abort_attempt:
        if (Chain* c = chain_for_attempt(a.attempt)) {
          if (a.why.ok()) {
            release(*c);  // another attempt won
          } else {
            AttemptInfo info = c->info;
            release(*c);
            listener_.on_attempt_failed(info, a.why, "no answer within connect_timeout_s");
          }
        }
        break;
      case ConnectAction::Kind::round_failed: {
        Status last = a.why;
        if (last.ok() || (addresses_.count == 0 && !last_dns_failure_.ok())) last = last_dns_failure_;
        last_dns_failure_ = Status::Ok();
        listener_.on_round_failed(last, a.retry_at);
        break;
      }
      case ConnectAction::Kind::nothing:
        break;
    }
  }
  Millis next = policy_.next_deadline();
  for (auto& c : chains()) {
    if (c.stage == Stage::closing && c.close_deadline < next) next = c.close_deadline;
  }
  return next;
}

Link::Chain* Link::chain_for_socket(SocketId id) {
  for (auto& c : chains()) {
    if (c.stage != Stage::free && c.socket == id) return &c;
  }
  return nullptr;
}

Link::Chain* Link::chain_for_attempt(AttemptId id) {
  for (auto& c : chains()) {
    if (c.stage != Stage::free && c.stage != Stage::open && c.stage != Stage::closing && c.info.id == id) return &c;
  }
  return nullptr;
}

void Link::start_attempt(const ConnectAction& a) {
  AttemptInfo info;
  info.id = a.attempt;
  info.address = a.address_index < addresses_.count ? addresses_.items[a.address_index] : IpAddress{};
  info.port = a.port;
  info.proxy_port = config_.proxy ? config_.proxy->port() : 0;
  Chain* slot = nullptr;
  for (auto& c : chains()) {
    if (c.stage == Stage::free) {
      slot = &c;
      break;
    }
  }
  listener_.on_attempt_step(info, LinkStep::connecting);
  if (!slot) {
    Status st(Reason::out_of_memory, static_cast<int32_t>(chain_limit_));
    listener_.on_attempt_failed(info, st, "too many attempts at once (max_parallel_attempts)");
    policy_.on_attempt_failed(info.id, st, now_);
    return;
  }
  const uint16_t tcp_port = config_.proxy ? config_.proxy->port() : a.port;
  const Result<SocketId> socket = driver_.open(info.address, tcp_port, *this);
  if (!socket.ok()) {
    listener_.on_attempt_failed(info, socket.status(), {});
    policy_.on_attempt_failed(info.id, socket.status(), now_);
    return;
  }
  slot->info = info;
  slot->socket = *socket;
  slot->stage = Stage::tcp;
}

void Link::on_connected(SocketId id) {
  Chain* c = chain_for_socket(id);
  if (!c || c->stage != Stage::tcp) return;
  listener_.on_attempt_step(c->info, LinkStep::tcp_connected);
  if (config_.proxy) {
    c->proxy = std::make_unique<HttpConnect>(*config_.proxy, config_.server, c->info.port);
    if (!c->proxy->prepared().ok()) {
      fail_attempt(*c, c->proxy->prepared(), "server name cannot go into a CONNECT request");
      return;
    }
    c->stage = Stage::proxy;
    auto req = c->proxy->request();
    auto sent = driver_.send(c->socket, req);
    // The request is small; a socket that cannot take it at once is broken.
    if (!sent.ok() || *sent != req.size()) {
      fail_attempt(*c, sent.ok() ? Status(Reason::io_error, 0) : sent.status(), "could not send CONNECT");
    }
    return;
  }
  begin_tls(*c, {});
}

void Link::begin_tls(Chain& c, std::span<const uint8_t> early) {
  c.stage = Stage::tls;
  c.tls.emplace(*tls_, 4096, 4096);
  Status st = c.tls->start(config_.server);
  if (!st.ok()) {
    fail_attempt(c, st, c.tls->failure_text());
    return;
  }
  if (!early.empty()) {
    feed_tls(c, early);
  } else {
    process(c);
  }
}

void Link::on_received(SocketId id, std::span<const uint8_t> bytes) {
  Chain* c = chain_for_socket(id);
  if (!c) return;
  if (c->stage == Stage::proxy) {
    Status st = c->proxy->feed(bytes);
    if (st.reason() == Reason::would_block) return;
    if (!st.ok()) {
      char text[48];
      snprintf(text, sizeof text, "proxy answered %d", c->proxy->status());
      fail_attempt(*c, st, text);
      return;
    }
    listener_.on_attempt_step(c->info, LinkStep::tunnel_open);
    // The CONNECT object leaves the chain but lives until TLS has taken the
    // tunnel bytes that came with the answer (leftover() points into it).
    std::unique_ptr<HttpConnect> connect = std::move(c->proxy);
    begin_tls(*c, connect->leftover());
    return;
  }
  if (c->stage == Stage::tcp) return;
  feed_tls(*c, bytes);
}

void Link::feed_tls(Chain& c, std::span<const uint8_t> bytes) {
  Chain* self = &c;
  while (!bytes.empty()) {
    size_t taken = self->tls->feed(bytes);
    bytes = bytes.subspan(taken);
    process(*self);
    // process() may have released the chain (failure, link down).
    if (self->stage == Stage::free || !self->tls) return;
    if (taken == 0 && !bytes.empty()) {
      // Nothing consumed the queue: the peer sends more than we read.
      fail_attempt(*self, Status(Reason::out_of_memory, 0), "TLS input queue full");
      return;
    }
  }
}

void Link::process(Chain& c) {
  if (c.stage == Stage::tls) {
    Status st = c.tls->handshake();
    if (st.reason() == Reason::would_block) {
      flush(c);
      return;
    }
    if (!st.ok()) {
      fail_attempt(c, st, c.tls->failure_text());
      return;
    }
    listener_.on_attempt_step(c.info, LinkStep::tls_established);
    c.stage = Stage::upgrade;
    if (c.info.port == 443) {
      snprintf(c.host_header, sizeof c.host_header, "%.*s", static_cast<int>(config_.server.size()),
               config_.server.data());
    } else {
      bool v6 = config_.server.find(':') != std::string_view::npos;
      snprintf(c.host_header, sizeof c.host_header, v6 ? "[%.*s]:%u" : "%.*s:%u",
               static_cast<int>(config_.server.size()), config_.server.data(), c.info.port);
    }
    WsClientConfig wc;
    wc.host = c.host_header;
    wc.path = config_.path;
    wc.user_agent = config_.user_agent;
    wc.max_message_bytes = config_.max_message_bytes;
    wc.max_binary_message_bytes = config_.max_binary_message_bytes;
    wc.max_send_message_bytes = config_.max_send_message_bytes;
    c.ws.emplace(wc, random_);
    Status ws_st = c.ws->start();
    if (!ws_st.ok()) {
      fail_attempt(c, ws_st, "cannot build the upgrade request");
      return;
    }
  }
  if (c.stage == Stage::upgrade || c.stage == Stage::open || c.stage == Stage::closing) {
    uint8_t plain[2048];
    for (;;) {
      auto r = c.tls->read(plain);
      if (!r.ok()) {
        if (r.status().reason() == Reason::would_block) break;
        // close_notify or transport end: let the WebSocket report first.
        if (!process_ws_events(c)) return;
        Status why = r.status();
        if (c.stage == Stage::open || c.stage == Stage::closing) {
          link_down(c, c.stage == Stage::closing ? Status::Ok() : why);
        } else {
          fail_attempt(c, why, "connection ended during the upgrade");
        }
        return;
      }
      std::span<const uint8_t> in(plain, *r);
      while (!in.empty()) {
        size_t taken = c.ws->feed(in);
        in = in.subspan(taken);
        if (!process_ws_events(c)) return;
        if (taken == 0 && !in.empty()) break;  // closed: bytes are dropped
      }
    }
    if (!process_ws_events(c)) return;
  }
  flush(c);
}

// Returns false when the chain was released.
bool Link::process_ws_events(Chain& c) {
  if (!c.ws) return true;
  WsEvent ev;
  // The listener does not call back into the link from its reports (see
  // LinkListener), so the chain stays as it is until this loop returns.
  while (c.ws->next_event(ev)) {
    switch (ev.type) {
      case WsEventType::open: {
        listener_.on_attempt_step(c.info, LinkStep::upgraded);
        if (!policy_.on_attempt_succeeded(c.info.id, now_) || winner_) {
          release(c);
          return false;
        }
        c.stage = Stage::open;
        winner_ = &c;
        current_ = c.info;
        flush(c);
        listener_.on_link_up(c.info, c.tls->resumed());
        break;
      }
      case WsEventType::text:
        if (c.stage == Stage::open) listener_.on_text(ev.text());
        break;
      case WsEventType::binary:
        if (c.stage == Stage::open) listener_.on_binary(ev.data);
        break;
      case WsEventType::pong:
        if (c.stage == Stage::open) listener_.on_pong(ev.data);
        break;
      case WsEventType::request:  // the server role's event: a client never reports it
        break;
      case WsEventType::closed: {
        flush(c);  // the close frame we answered with
        if (c.stage == Stage::open || c.stage == Stage::closing) {
          link_down(c, c.stage == Stage::closing ? Status::Ok() : ev.status);
        } else {
          if (ev.status.reason() == Reason::upgrade_unavailable && c.ws->retry_after_s() > 0) {
            policy_.set_retry_floor(static_cast<Millis>(c.ws->retry_after_s()) * 1000);
          }
          fail_attempt(c, ev.status, {});
        }
        return false;
      }
    }
  }
  return true;
}

void Link::flush(Chain& c) {
  if (c.stage == Stage::free || !c.tls) return;
  for (;;) {
    // WebSocket bytes become TLS records while the TLS queue has room...
    while (c.ws && !c.ws->output().empty()) {
      auto w = c.tls->write(c.ws->output());
      if (!w.ok() || *w == 0) break;
      c.ws->consume_output(*w);
    }
    // ...and TLS records go to the socket, which frees room for more.
    auto out = c.tls->output();
    if (out.empty()) break;
    auto sent = driver_.send(c.socket, out);
    if (!sent.ok()) {
      Status why = sent.status();
      if (c.stage == Stage::open || c.stage == Stage::closing) {
        link_down(c, why);
      } else {
        fail_attempt(c, why, "send failed");
      }
      return;
    }
    if (*sent == 0) break;  // on_writable follows
    c.tls->consume_output(*sent);
  }
}

void Link::on_writable(SocketId id) {
  if (Chain* c = chain_for_socket(id)) flush(*c);
}

void Link::on_socket_error(SocketId id, Status status) {
  Chain* c = chain_for_socket(id);
  if (!c) return;
  c->socket = 0;  // the backend released it
  if (c->tls && (c->stage == Stage::tls || c->stage == Stage::upgrade)) {
    // A server that rejects us sends an alert and closes: the alert is the
    // reason, not the close.
    c->tls->feed_eof();
    Status hs = c->stage == Stage::tls ? c->tls->handshake() : c->tls->failure();
    if (!hs.ok() && hs.reason() != Reason::would_block && hs.reason() != Reason::connection_closed) {
      fail_attempt(*c, hs, c->tls->failure_text());
      return;
    }
  }
  if (c->stage == Stage::open || c->stage == Stage::closing) {
    link_down(*c, c->stage == Stage::closing ? Status::Ok() : status);
  } else {
    fail_attempt(*c, status, {});
  }
}

void Link::fail_attempt(Chain& c, Status why, std::string_view text) {
  AttemptInfo info = c.info;
  release(c);
  listener_.on_attempt_failed(info, why, text);
  policy_.on_attempt_failed(info.id, why, now_);
}

void Link::link_down(Chain& c, Status why) {
  bool was_winner = &c == winner_;
  release(c);
  if (!was_winner) return;
  winner_ = nullptr;
  if (running_) {
    Millis retry_at = policy_.on_link_down(now_);
    (void)retry_at;
  }
  listener_.on_link_down(why);
}

void Link::release(Chain& c) {
  if (c.socket != 0) driver_.close(c.socket);
  c.ws.reset();
  c.tls.reset();
  c.proxy.reset();
  c.socket = 0;
  c.close_deadline = kNever;
  c.stage = Stage::free;
}

Status Link::send_text(std::string_view message) {
  if (!up()) return {Reason::would_block, 0};
  Status st = winner_->ws->send_text(message);
  if (st.ok()) flush(*winner_);
  return st;
}

Status Link::send_binary(std::span<const uint8_t> message) {
  if (!up()) return {Reason::would_block, 0};
  Status st = winner_->ws->send_binary(message);
  if (st.ok()) flush(*winner_);
  return st;
}

size_t Link::output_queued() const {
  if (!up()) return 0;
  return winner_->ws->output().size() + winner_->tls->output().size();
}

Status Link::send_ping(std::span<const uint8_t> payload) {
  if (!up()) return {Reason::would_block, 0};
  Status st = winner_->ws->send_ping(payload);
  if (st.ok()) flush(*winner_);
  return st;
}

void Link::close(uint16_t code, std::string_view reason) {
  running_ = false;
  if (resolve_id_ != 0) driver_.cancel_resolve(resolve_id_);
  resolve_id_ = 0;
  // Attempts under way are abandoned.
  for (auto& c : chains()) {
    if (c.stage != Stage::free && &c != winner_) release(c);
  }
  if (!up()) return;
  // The link is over for the backoff now, not when the close handshake
  // ends: a start() in between must already wait for it.
  policy_.on_link_down(now_);
  Chain& c = *winner_;
  if (c.tls && c.tls->handshake_done() && c.ws->close(code, reason).ok()) {
    c.stage = Stage::closing;
    c.close_deadline = now_ + config_.close_timeout_ms;
    flush(c);
  } else {
    link_down(c, Status::Ok());
  }
}

void Link::drop(Status why) {
  if (!winner_) return;
  link_down(*winner_, why);
}

}  // namespace sublink
