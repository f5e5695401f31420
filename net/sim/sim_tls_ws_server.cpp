#include "net/sim/sim_tls_ws_server.h"

#include <time.h>

namespace sublink {
namespace {

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

// Adds the CPU time of one call to the server's metered total when on.
class SimTlsWsServer::CpuMeter {
 public:
  explicit CpuMeter(SimTlsWsServer& owner) : owner_(owner), counted_(owner.metering_) {
    if (!counted_) return;
    outermost_ = owner_.metered_depth_++ == 0;
    if (outermost_) start_ = thread_cpu_s();
  }
  ~CpuMeter() {
    if (!counted_) return;
    --owner_.metered_depth_;
    if (outermost_) owner_.metered_cpu_s_ += thread_cpu_s() - start_;
  }
  CpuMeter(const CpuMeter&) = delete;
  CpuMeter& operator=(const CpuMeter&) = delete;

 private:
  SimTlsWsServer& owner_;
  bool counted_;
  bool outermost_ = false;
  double start_ = 0;
};

// One accepted connection: ciphertext between the network and the chained
// TLS and WebSocket layers, whose events go to the owner's handler.
class SimTlsWsServer::Session final : public SimConnectionHandler, private TlsWsServerChainHandler {
 public:
  Session(SimTlsWsServer& owner, SimSessionId id, SimConnection& connection)
      : owner_(owner),
        id_(id),
        connection_(&connection),
        peer_(connection.peer()),
        port_(connection.local_port()),
        chain_(owner.tls_, owner.ws_, *this) {}

  void start() {
    const CpuMeter meter(owner_);
    connection_->set_handler(this);
    chain_.start();
    after_chain();
  }

  void on_data(SimConnection& /*connection*/, std::span<const uint8_t> bytes) override {
    const CpuMeter meter(owner_);
    chain_.receive(bytes);
    after_chain();
  }

  void on_writable(SimConnection& /*connection*/) override {
    const CpuMeter meter(owner_);
    after_chain();
  }

  void on_closed(SimConnection& /*connection*/, Status why) override {
    connection_ = nullptr;  // the network released its end
    chain_.finish(why);
    end(why);
  }

  Status send_text(std::string_view message) {
    const CpuMeter meter(owner_);
    return after(chain_.send_text(message));
  }
  Status send_binary(std::span<const uint8_t> message) {
    const CpuMeter meter(owner_);
    return after(chain_.send_binary(message));
  }
  Status close(uint16_t code, std::string_view reason) {
    const CpuMeter meter(owner_);
    return after(chain_.close(code, reason));
  }
  std::string_view client_cn() const { return chain_.client_cn(); }
  void reset() {
    if (connection_) {
      connection_->set_handler(nullptr);
      connection_->reset();
      connection_ = nullptr;
    }
    chain_.finish(Status(Reason::connection_reset));
    end(Status(Reason::connection_reset));
  }
  const IpAddress& peer() const { return peer_; }
  uint16_t port() const { return port_; }

 private:
  // ---- TlsWsServerChainHandler: the chain's events, named by session ----
  WsUpgradeDecision on_upgrade(std::string_view client_cn, const WsUpgradeRequestInfo& request) override {
    const SimUpgradeDecision d = owner_.handler_.on_upgrade(id_, client_cn, request);
    return {d.http_status, d.retry_after_s};
  }
  void on_open() override {
    flush();
    owner_.handler_.on_open(id_);
  }
  void on_text(std::string_view message) override { owner_.handler_.on_text(id_, message); }
  void on_binary(std::span<const uint8_t> message) override { owner_.handler_.on_binary(id_, message); }

  Status after(Status s) {
    after_chain();
    return s;
  }

  // Sends what the chain produced; once it has ended, closes our end.
  void after_chain() {
    flush();
    if (chain_.ended()) end(chain_.end_status());
  }

  // Moves the chain's ciphertext onto the connection as far as it takes it
  // (on_writable resumes).
  void flush() {
    while (connection_ && !chain_.output().empty()) {
      const size_t n = connection_->send(chain_.output());
      chain_.consume_output(n);
      if (n == 0) return;
    }
  }

  // The session is over: tell the owner once, close our end politely.
  void end(Status why) {
    if (ended_) return;
    ended_ = true;
    if (connection_) {
      flush();
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
  TlsWsServerChain chain_;
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

void SimTlsWsServer::reset_all() {
  std::vector<SimSessionId> ids;
  for (const auto& [id, session] : sessions_) ids.push_back(id);
  // Fails only for an unknown id; these were all just listed.
  for (SimSessionId id : ids) (void)reset(id);
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
