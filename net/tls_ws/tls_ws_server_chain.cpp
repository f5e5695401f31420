#include "net/tls_ws/tls_ws_server_chain.h"

namespace sublink {

TlsWsServerChain::TlsWsServerChain(TlsServerConfig& tls, const WsServerConfig& ws, TlsWsServerChainHandler& handler)
    : TlsWsChain(tls_session_), tls_session_(tls), ws_server_(ws), handler_(handler) {
  attach(ws_server_);
}

void TlsWsServerChain::start() {
  const Status s = tls_session_.start();
  if (!s.ok()) finish(s);
}

// A completed session ends with close_notify after the last frame.
void TlsWsServerChain::on_ended() {
  if (tls_session_.handshake_done()) (void)tls_session_.close_notify();
}

void TlsWsServerChain::on_event(WsEvent& event) {
  switch (event.type) {
    case WsEventType::request: {
      const WsUpgradeDecision d = handler_.on_upgrade(tls_session_.client_common_name(), event.request);
      if (ended()) return;
      if (d.http_status == 101) {
        (void)ws_server_.accept();
        pump();
        mark_opened();
        handler_.on_open();
      } else {
        // The answer goes out, and the connection is over: refuse()
        // closes the WebSocket without an event of its own.
        (void)ws_server_.refuse(d.http_status, d.retry_after_s);
        if (ws_server_.state() == WsState::closed) end(ws_server_.failure(), End::websocket);
      }
      break;
    }
    case WsEventType::text:
      handler_.on_text(event.text());
      break;
    case WsEventType::binary:
      handler_.on_binary(event.data);
      break;
    case WsEventType::pong:
    case WsEventType::open:    // the client role's event: a server never reports it
    case WsEventType::closed:  // the chain's own (it ends)
      break;
  }
}

}  // namespace sublink
