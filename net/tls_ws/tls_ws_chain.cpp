#include "net/tls_ws/tls_ws_chain.h"

namespace sublink {

size_t TlsWsChain::receive(std::span<const uint8_t> ciphertext) {
  size_t taken = 0;
  while (taken < ciphertext.size() && !ended_) {
    const size_t n = tls_.feed(ciphertext.subspan(taken));
    taken += n;
    step();
    if (n == 0 && !ended_) {
      // Nothing consumed the queue: the peer sends more than we read.
      end(Status(Reason::out_of_memory), End::input_full);
      break;
    }
  }
  return taken;
}

Status TlsWsChain::sent(Status queued) {
  if (queued.ok()) pump();
  return queued;
}

void TlsWsChain::transport_ended(Status why) {
  if (ended_) return;
  if (!opened_) {
    // A peer that rejects us sends an alert and closes: the alert is the
    // reason, not the close.
    tls_.feed_eof();
    const Status hs = tls_.handshake_done() ? tls_.failure() : tls_.handshake();
    if (!hs.ok() && hs.reason() != Reason::would_block && hs.reason() != Reason::connection_closed) {
      end(hs, End::tls_failure);
      return;
    }
  }
  end(why, End::other);
}

std::string_view TlsWsChain::end_text() const {
  switch (end_) {
    case End::tls_failure: return tls_.failure_text();
    case End::upgrade_request: return "cannot build the upgrade request";
    case End::during_upgrade: return "connection ended during the upgrade";
    case End::input_full: return "TLS input queue full";
    case End::none:
    case End::other:
    case End::websocket:
      break;
  }
  return {};
}

void TlsWsChain::end(Status why, End end) {
  if (ended_) return;
  pump();  // what the WebSocket still has (a close frame) goes out first
  if (ended_) return;  // pump failed and ended it with its own reason
  ended_ = true;
  end_status_ = why;
  end_ = end;
  on_ended();
}

void TlsWsChain::step() {
  if (!tls_.handshake_done()) {
    const Status s = tls_.handshake();
    if (s.reason() == Reason::would_block) return;
    if (!s.ok()) {
      end(s, End::tls_failure);
      return;
    }
    on_tls_established();
    if (ended_) return;
  }
  uint8_t plain[2048];
  while (!ended_) {
    const Result<size_t> r = tls_.read(plain);
    if (!r.ok()) {
      if (r.status().reason() == Reason::would_block) break;
      // close_notify or the transport's end: let the WebSocket report first.
      if (!process()) return;
      end(r.status(), opened_ ? End::other : End::during_upgrade);
      return;
    }
    std::span<const uint8_t> rest(plain, *r);
    while (!rest.empty() && !ended_) {
      const size_t n = ws_->feed(rest);
      rest = rest.subspan(n);
      if (!process()) return;
      if (n == 0) break;  // closed: the bytes are dropped
    }
  }
  if (!ended_) process();
}

// Hands the WebSocket's events to the role; false once the chain has ended.
bool TlsWsChain::process() {
  if (ended_) return false;
  if (!ws_) return true;
  WsEvent e;
  while (ws_->next_event(e)) {
    if (e.type == WsEventType::closed) {
      end(e.status, End::websocket);
      return false;
    }
    on_event(e);
    if (ended_) return false;
  }
  pump();
  return !ended_;
}

void TlsWsChain::pump() {
  if (ended_ || !ws_) return;
  while (tls_.handshake_done() && !ws_->output().empty()) {
    const Result<size_t> w = tls_.write(ws_->output());
    if (!w.ok()) {
      if (w.status().reason() != Reason::would_block) end(w.status(), End::tls_failure);
      return;
    }
    ws_->consume_output(*w);
  }
}

}  // namespace sublink
