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
      attempt_limit_(config.max_parallel_attempts < 1 ? 1 : config.max_parallel_attempts),
      attempts_(new Attempt[attempt_limit_]) {
  for (auto& a : attempts()) a.link = this;
}

Link::~Link() {
  for (auto& a : attempts()) {
    if (a.stage != Stage::free) release(a);
  }
  if (resolve_id_ != 0) driver_.cancel_resolve(resolve_id_);
}

bool Link::winner_stage_open() const { return winner_ && winner_->stage == Stage::open; }

bool Link::idle() const {
  if (resolve_id_ != 0 || winner_) return false;
  for (auto& a : attempts()) {
    if (a.stage != Stage::free) return false;
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
  for (auto& a : attempts()) {
    if (a.stage == Stage::closing && now >= a.close_deadline) {
      bool was_winner = &a == winner_;
      release(a);
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
    ConnectAction action = policy_.poll(now);
    if (action.kind == ConnectAction::Kind::nothing) break;
    switch (action.kind) {
      case ConnectAction::Kind::start_attempt:
        start_attempt(action);
        break;
      case ConnectAction::Kind::abort_attempt:
        if (Attempt* a = attempt_for_id(action.attempt)) {
          if (action.why.ok()) {
            release(*a);  // another attempt won
          } else {
            AttemptInfo info = a->info;
            release(*a);
            listener_.on_attempt_failed(info, action.why, "no answer within connect_timeout_s");
          }
        }
        break;
      case ConnectAction::Kind::round_failed: {
        Status last = action.why;
        if (last.ok() || (addresses_.count == 0 && !last_dns_failure_.ok())) last = last_dns_failure_;
        last_dns_failure_ = Status::Ok();
        listener_.on_round_failed(last, action.retry_at);
        break;
      }
      case ConnectAction::Kind::nothing:
        break;
    }
  }
  Millis next = policy_.next_deadline();
  for (auto& a : attempts()) {
    if (a.stage == Stage::closing && a.close_deadline < next) next = a.close_deadline;
  }
  return next;
}

Link::Attempt* Link::attempt_for_socket(SocketId id) {
  for (auto& a : attempts()) {
    if (a.stage != Stage::free && a.socket == id) return &a;
  }
  return nullptr;
}

Link::Attempt* Link::attempt_for_id(AttemptId id) {
  for (auto& a : attempts()) {
    if (a.stage != Stage::free && a.stage != Stage::open && a.stage != Stage::closing && a.info.id == id) return &a;
  }
  return nullptr;
}

void Link::start_attempt(const ConnectAction& action) {
  AttemptInfo info;
  info.id = action.attempt;
  info.address = action.address_index < addresses_.count ? addresses_.items[action.address_index] : IpAddress{};
  info.port = action.port;
  info.proxy_port = config_.proxy ? config_.proxy->port() : 0;
  Attempt* slot = nullptr;
  for (auto& a : attempts()) {
    if (a.stage == Stage::free) {
      slot = &a;
      break;
    }
  }
  listener_.on_attempt_step(info, LinkStep::connecting);
  if (!slot) {
    attempt_failed(info, Status(Reason::out_of_memory, static_cast<int32_t>(attempt_limit_)),
                   "too many attempts at once (max_parallel_attempts)");
    return;
  }
  const uint16_t tcp_port = config_.proxy ? config_.proxy->port() : action.port;
  const Result<SocketId> socket = driver_.open(info.address, tcp_port, *this);
  if (!socket.ok()) {
    attempt_failed(info, socket.status(), {});
    return;
  }
  slot->info = info;
  slot->socket = *socket;
  slot->stage = Stage::tcp;
}

void Link::on_connected(SocketId id) {
  Attempt* a = attempt_for_socket(id);
  if (!a || a->stage != Stage::tcp) return;
  listener_.on_attempt_step(a->info, LinkStep::tcp_connected);
  if (config_.proxy) {
    a->proxy = std::make_unique<HttpConnect>(*config_.proxy, config_.server, a->info.port);
    if (!a->proxy->prepared().ok()) {
      fail_attempt(*a, a->proxy->prepared(), "server name cannot go into a CONNECT request");
      return;
    }
    a->stage = Stage::proxy;
    auto req = a->proxy->request();
    auto sent = driver_.send(a->socket, req);
    // The request is small; a socket that cannot take it at once is broken.
    if (!sent.ok() || *sent != req.size()) {
      fail_attempt(*a, sent.ok() ? Status(Reason::io_error, 0) : sent.status(), "could not send CONNECT");
    }
    return;
  }
  begin_chain(*a, {});
}

void Link::begin_chain(Attempt& a, std::span<const uint8_t> early) {
  a.stage = Stage::chain;
  a.chain.emplace(*tls_, config_, random_, a);
  a.chain->start(a.info.port);
  if (!a.chain->ended() && !early.empty()) (void)a.chain->receive(early);
  settle(a);
}

void Link::on_received(SocketId id, std::span<const uint8_t> bytes) {
  Attempt* a = attempt_for_socket(id);
  if (!a) return;
  if (a->stage == Stage::proxy) {
    Status st = a->proxy->feed(bytes);
    if (st.reason() == Reason::would_block) return;
    if (!st.ok()) {
      char text[48];
      snprintf(text, sizeof text, "proxy answered %d", a->proxy->status());
      fail_attempt(*a, st, text);
      return;
    }
    listener_.on_attempt_step(a->info, LinkStep::tunnel_open);
    // The CONNECT object leaves the attempt but lives until the chain has
    // taken the tunnel bytes that came with the answer (leftover() points
    // into it).
    std::unique_ptr<HttpConnect> connect = std::move(a->proxy);
    begin_chain(*a, connect->leftover());
    return;
  }
  if (a->stage == Stage::tcp) return;
  (void)a->chain->receive(bytes);
  settle(*a);
}

// After the chain ran: drops it when it lost the race, sends what it
// produced, and ends the attempt or the link when the chain ended.
void Link::settle(Attempt& a) {
  if (a.stage == Stage::free) return;
  if (a.lost) {
    release(a);
    return;
  }
  TlsWsClientChain& chain = *a.chain;
  if (!chain.ended() || chain.ended_by_websocket()) {
    // What it produced, or the close frame the WebSocket answered with (the
    // device sends nothing after a TLS failure).
    flush(a);
    // Moving the WebSocket's output through TLS can fail the chain.
    if (a.stage == Stage::free || !chain.ended()) return;
  }
  const Status why = chain.end_status();
  if (a.stage == Stage::chain && why.reason() == Reason::upgrade_unavailable && chain.retry_after_s() > 0) {
    policy_.set_retry_floor(static_cast<Millis>(chain.retry_after_s()) * 1000);
  }
  end_attempt(a, why, chain.end_text());
}

void Link::Attempt::on_tls_established() { link->listener_.on_attempt_step(info, LinkStep::tls_established); }

void Link::Attempt::on_event(const WsEvent& event) {
  Link& l = *link;
  if (event.type == WsEventType::open) {
    l.listener_.on_attempt_step(info, LinkStep::upgraded);
    if (!l.policy_.on_attempt_succeeded(info.id, l.now_) || l.winner_) {
      lost = true;
      chain->finish(Status::Ok());  // nothing more is read; settle() releases it
      return;
    }
    stage = Stage::open;
    l.winner_ = this;
    l.current_ = info;
    l.listener_.on_link_up(info, chain->resumed());
    return;
  }
  // Messages count only on the open link (not while it closes).
  if (stage != Stage::open) return;
  if (event.type == WsEventType::text) {
    l.listener_.on_text(event.text());
  } else if (event.type == WsEventType::binary) {
    l.listener_.on_binary(event.data);
  } else if (event.type == WsEventType::pong) {
    l.listener_.on_pong(event.data);
  }
}

// Sends the chain's output while the socket takes it.
void Link::flush(Attempt& a) {
  if (a.stage == Stage::free || !a.chain) return;
  for (;;) {
    auto out = a.chain->output();
    if (out.empty()) break;
    auto sent = driver_.send(a.socket, out);
    if (!sent.ok()) {
      end_attempt(a, sent.status(), "send failed");
      return;
    }
    if (*sent == 0) break;  // on_writable follows
    a.chain->consume_output(*sent);  // frees room for more of the WebSocket's output
  }
}

void Link::on_writable(SocketId id) {
  if (Attempt* a = attempt_for_socket(id)) settle(*a);
}

void Link::on_socket_error(SocketId id, Status status) {
  Attempt* a = attempt_for_socket(id);
  if (!a) return;
  a->socket = 0;  // the backend released it
  if (!a->chain) {
    end_attempt(*a, status, {});
    return;
  }
  a->chain->transport_ended(status);  // the reason may be the TLS peer's alert
  end_attempt(*a, a->chain->end_status(), a->chain->end_text());
}

void Link::end_attempt(Attempt& a, Status why, std::string_view text) {
  if (a.stage == Stage::open || a.stage == Stage::closing) {
    link_down(a, a.stage == Stage::closing ? Status::Ok() : why);
  } else {
    fail_attempt(a, why, text);
  }
}

void Link::fail_attempt(Attempt& a, Status why, std::string_view text) {
  const AttemptInfo info = a.info;
  release(a);
  attempt_failed(info, why, text);
}

void Link::attempt_failed(const AttemptInfo& info, Status why, std::string_view text) {
  listener_.on_attempt_failed(info, why, text);
  policy_.on_attempt_failed(info.id, why, now_);
}

void Link::link_down(Attempt& a, Status why) {
  bool was_winner = &a == winner_;
  release(a);
  if (!was_winner) return;
  winner_ = nullptr;
  if (running_) {
    Millis retry_at = policy_.on_link_down(now_);
    (void)retry_at;
  }
  listener_.on_link_down(why);
}

void Link::release(Attempt& a) {
  if (a.socket != 0) driver_.close(a.socket);
  a.chain.reset();
  a.proxy.reset();
  a.socket = 0;
  a.close_deadline = kNever;
  a.lost = false;
  a.stage = Stage::free;
}

Status Link::send_text(std::string_view message) {
  return up() ? sent(winner_->chain->send_text(message)) : Status(Reason::would_block, 0);
}

Status Link::send_binary(std::span<const uint8_t> message) {
  return up() ? sent(winner_->chain->send_binary(message)) : Status(Reason::would_block, 0);
}

Status Link::sent(Status queued) {
  if (queued.ok()) settle(*winner_);
  return queued;
}

size_t Link::output_queued() const {
  if (!up()) return 0;
  return winner_->chain->queued();
}

Status Link::send_ping(std::span<const uint8_t> payload) {
  return up() ? sent(winner_->chain->send_ping(payload)) : Status(Reason::would_block, 0);
}

void Link::close(uint16_t code, std::string_view reason) {
  running_ = false;
  if (resolve_id_ != 0) driver_.cancel_resolve(resolve_id_);
  resolve_id_ = 0;
  // Attempts under way are abandoned, and with them the round: none of its
  // later candidates may start (and come up) after the close.
  for (auto& a : attempts()) {
    if (a.stage != Stage::free && &a != winner_) release(a);
  }
  if (!up()) {
    policy_.abandon_round();
    return;
  }
  // The link is over for the backoff now, not when the close handshake
  // ends: a start() in between must already wait for it.
  policy_.on_link_down(now_);
  Attempt& a = *winner_;
  if (a.chain->close(code, reason).ok()) {
    a.stage = Stage::closing;
    a.close_deadline = now_ + config_.close_timeout_ms;
    settle(a);
  } else {
    link_down(a, Status::Ok());
  }
}

void Link::drop(Status why) {
  if (!winner_) return;
  link_down(*winner_, why);
}

}  // namespace sublink
