#include "net/tls_ws/tls_ws_server_chain.h"

namespace sublink {

TlsWsServerChain::TlsWsServerChain(TlsServerConfig& tls, const WsServerConfig& ws, TlsWsServerChainHandler& handler)
    : tls_(tls), ws_(ws), handler_(handler) {}

void TlsWsServerChain::start() {
  const Status s = tls_.start();
  if (!s.ok()) finish(s);
}

size_t TlsWsServerChain::receive(std::span<const uint8_t> ciphertext) {
  size_t taken = 0;
  while (taken < ciphertext.size() && !ended_) {
    const size_t n = tls_.feed(ciphertext.subspan(taken));
    taken += n;
    step();
    if (n == 0 && !ended_) {
      finish(Status(Reason::out_of_memory));
      break;
    }
  }
  return taken;
}

void TlsWsServerChain::consume_output(size_t n) {
  tls_.consume_output(n);
  pump();
}

Status TlsWsServerChain::send_text(std::string_view text) {
  if (ended_) return Status(Reason::connection_closed);
  const Status s = ws_.send_text(text);
  if (s.ok()) pump();
  return s;
}

Status TlsWsServerChain::send_binary(std::span<const uint8_t> bytes) {
  if (ended_) return Status(Reason::connection_closed);
  const Status s = ws_.send_binary(bytes);
  if (s.ok()) pump();
  return s;
}

Status TlsWsServerChain::close(uint16_t code, std::string_view reason) {
  if (ended_) return Status(Reason::connection_closed);
  const Status s = ws_.close(code, reason);
  if (s.ok()) pump();
  return s;
}

void TlsWsServerChain::finish(Status why) {
  if (ended_) return;
  pump();  // what the WebSocket still has (a close frame) goes out first
  if (ended_) return;  // pump failed and ended it with its own reason
  ended_ = true;
  end_status_ = why;
  if (tls_.handshake_done()) (void)tls_.close_notify();
}

void TlsWsServerChain::step() {
  if (!tls_.handshake_done()) {
    const Status s = tls_.handshake();
    if (s.reason() == Reason::would_block) return;
    if (!s.ok()) {
      finish(s);
      return;
    }
  }
  uint8_t plain[2048];
  while (!ended_) {
    const Result<size_t> r = tls_.read(plain);
    if (!r.ok()) {
      if (r.status().reason() != Reason::would_block) finish(r.status());
      break;
    }
    std::span<const uint8_t> rest(plain, *r);
    while (!rest.empty() && !ended_) {
      const size_t n = ws_.feed(rest);
      rest = rest.subspan(n);
      if (!process()) return;
      if (n == 0) break;
    }
  }
  if (!ended_) process();
}

// Reports WebSocket events; false once the chain has ended.
bool TlsWsServerChain::process() {
  WsEvent e;
  while (!ended_ && ws_.next_event(e)) {
    switch (e.type) {
      case WsEventType::request: {
        const WsUpgradeDecision d = handler_.on_upgrade(tls_.client_common_name(), e.request);
        if (ended_) return false;
        if (d.http_status == 101) {
          (void)ws_.accept();
          pump();
          handler_.on_open();
        } else {
          (void)ws_.refuse(d.http_status, d.retry_after_s);
        }
        break;
      }
      case WsEventType::text:
        handler_.on_text(e.text());
        break;
      case WsEventType::binary:
        handler_.on_binary(e.data);
        break;
      case WsEventType::pong:
      case WsEventType::open:  // the client role's event: a server never reports it
        break;
      case WsEventType::closed:
        finish(e.status);
        return false;
    }
  }
  if (ended_) return false;
  pump();
  if (ws_.state() == WsState::closed) {
    finish(ws_.failure());
    return false;
  }
  return true;
}

// Moves the WebSocket's output through TLS into output(), as far as the
// ciphertext queue has room.
void TlsWsServerChain::pump() {
  if (ended_) return;
  while (tls_.handshake_done() && !ws_.output().empty()) {
    const Result<size_t> w = tls_.write(ws_.output());
    if (!w.ok()) {
      if (w.status().reason() != Reason::would_block) finish(w.status());
      return;
    }
    ws_.consume_output(*w);
  }
}

}  // namespace sublink
