#include "net/sim/sim_tls_ws_server.h"

namespace sublink {

// One accepted connection: ciphertext from the network into TLS, plaintext
// into the WebSocket, and each layer's output back down.
class SimTlsWsServer::Session final : public SimConnectionHandler {
 public:
  Session(SimTlsWsServer& owner, SimSessionId id, SimConnection& connection)
      : owner_(owner),
        id_(id),
        connection_(&connection),
        peer_(connection.peer()),
        port_(connection.local_port()),
        tls_(owner.tls_),
        ws_(owner.ws_) {}

  void start() {
    connection_->set_handler(this);
    const Status s = tls_.start();
    if (!s.ok()) end(s, true);
  }

  void on_data(SimConnection& /*connection*/, std::span<const uint8_t> bytes) override {
    while (!bytes.empty() && connection_) {
      const size_t n = tls_.feed(bytes);
      bytes = bytes.subspan(n);
      step();
      if (n == 0 && connection_) {  // TLS took nothing even after a step: give up rather than spin
        end(Status(Reason::out_of_memory), true);
        return;
      }
    }
  }

  void on_writable(SimConnection& /*connection*/) override { flush(); }

  void on_closed(SimConnection& /*connection*/, Status why) override {
    connection_ = nullptr;  // the network released its end
    end(why, false);
  }

  Status send_text(std::string_view message) {
    const Status s = ws_.send_text(message);
    if (s.ok()) flush();
    return s;
  }
  Status send_binary(std::span<const uint8_t> message) {
    const Status s = ws_.send_binary(message);
    if (s.ok()) flush();
    return s;
  }
  Status close(uint16_t code, std::string_view reason) {
    const Status s = ws_.close(code, reason);
    if (s.ok()) flush();
    return s;
  }
  std::string_view client_cn() const { return tls_.client_common_name(); }
  void reset() {
    if (connection_) {
      connection_->set_handler(nullptr);
      connection_->reset();
      connection_ = nullptr;
    }
    end(Status(Reason::connection_reset), false);
  }
  const IpAddress& peer() const { return peer_; }
  uint16_t port() const { return port_; }

 private:
  void step() {
    if (!tls_.handshake_done()) {
      const Status s = tls_.handshake();
      flush();
      if (s.reason() == Reason::would_block) return;
      if (!s.ok()) {
        end(s, true);
        return;
      }
    }
    uint8_t plain[2048];
    for (;;) {
      const Result<size_t> r = tls_.read(plain);
      if (!r.ok()) {
        if (r.status().reason() != Reason::would_block) end(r.status(), true);
        break;
      }
      std::span<const uint8_t> rest(plain, *r);
      while (!rest.empty() && connection_) {
        const size_t n = ws_.feed(rest);
        rest = rest.subspan(n);
        if (!process()) return;
        if (n == 0) break;
      }
      if (!connection_) return;
    }
    process();
  }

  // Reports WebSocket events; false once the session has ended.
  bool process() {
    WsServerEvent e;
    while (connection_ && ws_.next_event(e)) {
      switch (e.type) {
        case WsServerEventType::request: {
          const SimUpgradeDecision d = owner_.handler_.on_upgrade(id_, tls_.client_common_name(), e.request);
          if (d.http_status == 101) {
            ws_.accept();
            flush();
            owner_.handler_.on_open(id_);
          } else {
            ws_.refuse(d.http_status, d.retry_after_s);
          }
          break;
        }
        case WsServerEventType::text:
          owner_.handler_.on_text(id_, e.text());
          break;
        case WsServerEventType::binary:
          owner_.handler_.on_binary(id_, e.data);
          break;
        case WsServerEventType::pong:
          break;
        case WsServerEventType::closed:
          flush();
          end(e.status, true);
          return false;
      }
    }
    flush();
    if (connection_ && ws_.state() == WsServerState::closed) {
      end(ws_.failure(), true);
      return false;
    }
    return connection_ != nullptr;
  }

  // Moves the WebSocket's output through TLS onto the connection.
  void flush() {
    if (!connection_) return;
    for (;;) {
      while (!tls_.output().empty()) {
        const size_t n = connection_->send(tls_.output());
        tls_.consume_output(n);
        if (n == 0) return;  // on_writable resumes
      }
      if (!tls_.handshake_done() || ws_.output().empty()) return;
      const Result<size_t> w = tls_.write(ws_.output());
      if (!w.ok()) {
        if (w.status().reason() != Reason::would_block) end(w.status(), true);
        if (!tls_.output().empty()) continue;
        return;
      }
      ws_.consume_output(*w);
    }
  }

  // The session is over: tell the owner once, close our end politely.
  void end(Status why, bool close_connection) {
    if (ended_) return;
    ended_ = true;
    if (close_connection && connection_) {
      if (tls_.handshake_done() && tls_.close_notify().ok()) flush();
      connection_->set_handler(nullptr);
      connection_->close();
    }
    connection_ = nullptr;
    owner_.handler_.on_closed(id_, why);
    owner_.ended(id_);
  }

  SimTlsWsServer& owner_;
  SimSessionId id_;
  SimConnection* connection_;
  IpAddress peer_;
  uint16_t port_;
  TlsServerSession tls_;
  WsServer ws_;
  bool ended_ = false;
};

SimTlsWsServer::SimTlsWsServer(SimNetwork& net, TlsServerConfig& tls, const WsServerConfig& ws,
                               SimServerHandler& handler)
    : net_(net), tls_(tls), ws_(ws), handler_(handler) {}

SimTlsWsServer::~SimTlsWsServer() = default;

void SimTlsWsServer::listen(const IpAddress& host, uint16_t port) {
  net_.listen(host, port, [this](SimConnection& c) { accept(c); });
}

void SimTlsWsServer::accept(SimConnection& connection) {
  ended_.clear();
  const SimSessionId id = next_id_++;
  auto session = std::make_unique<Session>(*this, id, connection);
  Session& s = *session;
  sessions_[id] = std::move(session);
  s.start();
}

void SimTlsWsServer::ended(SimSessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  // Only the session calling here may still be on the stack: earlier ended
  // ones have returned from their callbacks and can go.
  for (auto& old : ended_) {
    if (old.get() != it->second.get()) old.reset();
  }
  ended_.clear();
  ended_.push_back(std::move(it->second));
  sessions_.erase(it);
}

Status SimTlsWsServer::send_text(SimSessionId session, std::string_view message) {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? Status(Reason::invalid_argument) : it->second->send_text(message);
}

Status SimTlsWsServer::send_binary(SimSessionId session, std::span<const uint8_t> message) {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? Status(Reason::invalid_argument) : it->second->send_binary(message);
}

Status SimTlsWsServer::close(SimSessionId session, uint16_t code, std::string_view reason) {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? Status(Reason::invalid_argument) : it->second->close(code, reason);
}

Status SimTlsWsServer::reset(SimSessionId session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return Status(Reason::invalid_argument);
  it->second->reset();
  return Status::Ok();
}

std::string_view SimTlsWsServer::client_common_name(SimSessionId session) const {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? std::string_view() : it->second->client_cn();
}

}  // namespace sublink

namespace sublink {

IpAddress SimTlsWsServer::peer(SimSessionId session) const {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? IpAddress() : it->second->peer();
}

uint16_t SimTlsWsServer::local_port(SimSessionId session) const {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? 0 : it->second->port();
}

}  // namespace sublink
