// A deterministic simulated IP network in virtual time (DESIGN.md: the
// simulation is a first-class build). Hosts are addresses; in-process
// servers listen on (address, port) and get a SimConnection per accepted
// connection; each client host gets a SimSocketDriver, a SocketDriver, so
// the real Link runs over it unchanged. Every delivery is an event in one
// queue ordered by (time, sequence number): the same inputs give the same
// run, byte for byte.
//
// Faults, each from the moment it is set: per-path latency and bandwidth,
// DNS answers and failures, a port that refuses, a port that drops
// everything (blackhole), a port that accepts TCP and never answers, a host
// blackholed (connects time out, established connections go silent), a
// host whose link is lost (every connection reset, connects unreachable),
// a server restart (its connections reset, its listeners gone and back),
// and a client host that loses power (its connections vanish without a FIN
// or RST; what its peers send later is lost, or reset once it is back on).
//
// Host-only: it allocates per connection and per event (events are freed
// when run), never per byte kept.
#pragma once

#include <cstddef>
#include <cstring>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hal/sim/virtual_clock.h"
#include "hal/status.h"
#include "net/address/ip_address.h"
#include "net/link/socket_driver.h"

namespace sublink {

/// One direction of a path between two hosts.
struct SimPath {
  Millis latency_ms = 1;     // one way
  int64_t bandwidth_bps = 0;  // bits per second; 0: unlimited
};

/// How a port on a host that has no fault of its own answers a SYN.
enum class SimPortMode : uint8_t {
  normal,         // a listener accepts; no listener: refused (RST)
  refuse,         // RST, listener or not (a firewall reject)
  blackhole,      // SYN dropped: the connect times out at the client
  accept_silent,  // TCP accepted, every byte dropped, never an answer
};

class SimConnection;
class SimNetwork;

/// What the server side of a connection hears.
class SimConnectionHandler {
 public:
  virtual ~SimConnectionHandler() = default;
  /// Bytes from the client arrived.
  virtual void on_data(SimConnection& connection, std::span<const uint8_t> bytes) = 0;
  /// The connection may take more bytes after a short send().
  virtual void on_writable(SimConnection& /*connection*/) {}
  /// The client closed (connection_closed) or the connection was reset
  /// (connection_reset). The connection must not be used afterwards.
  virtual void on_closed(SimConnection& connection, Status why) = 0;
};

/// Called when a listener accepts; set a handler on the connection at once.
using SimAcceptHandler = std::function<void(SimConnection&)>;

/// The server's end of one TCP connection. Owned by the network; valid
/// until its handler's on_closed() or the server's own close()/reset().
class SimConnection {
 public:
  /// Where this connection's events go; until set, received bytes are dropped.
  void set_handler(SimConnectionHandler* handler) { handler_ = handler; }
  /// Sends what the window takes now (maybe all, maybe 0: on_writable follows).
  size_t send(std::span<const uint8_t> bytes);
  /// Closes after the bytes already sent (FIN); no more events.
  void close();
  /// Resets at once (RST); no more events.
  void reset();
  /// The client's address and the local port.
  const IpAddress& peer() const { return client_addr_; }
  uint16_t local_port() const { return port_; }
  uint64_t id() const { return id_; }

 private:
  friend class SimNetwork;
  friend class SimSocketDriver;
  struct Direction {
    Millis busy_until = 0;    // when the path's sender is free again (bandwidth)
    Millis last_arrival = 0;  // arrivals stay in order
    size_t in_flight = 0;     // bytes sent, not yet delivered
    bool blocked = false;     // a short send is waiting for on_writable
  };
  SimNetwork* net_ = nullptr;
  uint64_t id_ = 0;
  class SimSocketDriver* client_ = nullptr;
  SocketId socket_ = 0;
  SocketEvents* owner_ = nullptr;  // who opened the client's end
  IpAddress client_addr_;
  IpAddress server_addr_;
  uint16_t port_ = 0;
  bool established_ = false;
  bool silent_ = false;  // accepted by an accept_silent port: no server end
  bool client_open_ = true;
  bool client_vanished_ = false;  // the client host lost power with this open
  bool server_open_ = false;
  SimConnectionHandler* handler_ = nullptr;
  Direction to_server_;
  Direction to_client_;
};

/// Runs one event for a host's owners: call `event` to deliver it, or do
/// not (the host's CPU is off). Lets a simulated device wrap every network
/// event of its host the way its board would (a power cut takes effect
/// after the event).
using SimEventGate = std::function<void(const std::function<void()>& event)>;

/// The SocketDriver of one client host. Any number of owners on the host
/// share it; each socket's and lookup's events go to the owner that asked.
class SimSocketDriver final : public SocketDriver {
 public:
  SimSocketDriver(SimNetwork& net, const IpAddress& host) : net_(net), host_(host) {}
  /// Every event for this host's owners runs through `gate` while set
  /// (nullptr: delivered directly).
  void set_event_gate(SimEventGate gate) { gate_ = std::move(gate); }
  const IpAddress& host() const { return host_; }

  /// Answers after the network's DNS delay (set_dns, set_dns_failure).
  [[nodiscard]] Result<ResolveId> resolve(std::string_view host, SocketEvents& owner) override;
  void cancel_resolve(ResolveId id) override;
  [[nodiscard]] Result<SocketId> open(const IpAddress& address, uint16_t port, SocketEvents& owner) override;
  [[nodiscard]] Result<size_t> send(SocketId id, std::span<const uint8_t> bytes) override;
  void close(SocketId id) override;
  /// Stopped: bytes that arrive wait here (and the peer's FIN behind them)
  /// until the owner resumes.
  void set_receiving(SocketId id, bool on) override;
  /// The server's end sees the FIN; this end still receives.
  void shutdown_send(SocketId id) override;

  /// Sockets open now (for leak checks).
  size_t open_sockets() const { return sockets_.size(); }
  /// Lookups whose answer is still to come.
  size_t pending_lookups() const { return lookups_.size(); }

 private:
  friend class SimNetwork;
  void deliver(const std::function<void()>& event);
  // Bytes for `c`'s owner, in chunks of at most kSocketMaxReceive; what
  // arrives while the owner stopped receiving waits in held_.
  void receive(SimConnection& c, std::span<const uint8_t> bytes);
  // The server closed `c`: reported once the held bytes are delivered.
  void closed_by_server(SimConnection& c);
  struct Held {
    bool paused = false;
    bool closed = false;  // the peer's FIN waits behind the bytes
    SocketEvents* owner = nullptr;
    std::vector<uint8_t> bytes;
  };
  std::map<SocketId, Held> held_;

  SimNetwork& net_;
  IpAddress host_;
  SimEventGate gate_;
  std::map<SocketId, uint64_t> sockets_;         // socket -> connection id
  std::map<ResolveId, SocketEvents*> lookups_;   // lookup -> its owner
  SocketId next_socket_ = 1;
  ResolveId next_lookup_ = 1;
};

class SimNetwork {
 public:
  /// Window of bytes in flight per direction of a connection.
  static constexpr size_t kWindowBytes = 64 * 1024;

  explicit SimNetwork(VirtualClock& clock);
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  VirtualClock& clock() { return clock_; }
  Millis now() const { return clock_.now_ms(); }

  // --- Topology and faults ---
  /// The path used where no set_path() applies (both directions).
  void set_default_path(const SimPath& path) { default_path_ = path; }
  /// The path between a client host and a server host (both directions).
  void set_path(const IpAddress& client, const IpAddress& server, const SimPath& path);
  /// What resolving `name` answers, in this order. IP literals resolve to
  /// themselves; other unknown names fail with dns_failed.
  void set_dns(std::string_view name, std::vector<IpAddress> addresses);
  /// Makes resolving `name` fail (dns_failed) while `failing`.
  void set_dns_failure(std::string_view name, bool failing);
  /// How long a resolution takes.
  void set_dns_delay(Millis delay_ms) { dns_delay_ms_ = delay_ms; }
  void set_port_mode(const IpAddress& host, uint16_t port, SimPortMode mode);
  /// Every packet to or from `host` is dropped while on.
  void set_blackhole(const IpAddress& host, bool on);
  /// The host's link is lost: every connection of it is reset now and new
  /// connects fail at once (connect_unreachable) until it is back.
  void set_link_down(const IpAddress& host, bool down);
  /// The server on `host` restarts: its connections are reset now, its
  /// listeners are gone (connects refused) for `down_for_ms`, then back
  /// with the same accept handlers.
  void restart(const IpAddress& host, Millis down_for_ms);
  /// A client host loses power (false) or is powered on again (true). Off:
  /// its sockets are forgotten at once and nobody is told (no FIN, no RST),
  /// its pending answers (DNS, connects, data) are dropped, and opening a
  /// socket fails with connect_unreachable. A peer that sends on a vanished
  /// connection later gets nothing while the host is off, and a reset once
  /// it is on again (the new boot does not know the connection).
  void set_host_power(const IpAddress& host, bool on);
  bool host_powered(const IpAddress& host) const;

  // --- Endpoints ---
  /// A listener on (host, port). Replaces an earlier one.
  void listen(const IpAddress& host, uint16_t port, SimAcceptHandler on_accept);
  void unlisten(const IpAddress& host, uint16_t port);
  /// The SocketDriver of a client host, made on first use; lives as long
  /// as the network.
  SimSocketDriver& client(const IpAddress& host);

  // --- Time ---
  /// Runs `fn` at virtual time `at` (not before now), in order with the
  /// network's own events. Every pollable is called after it.
  void at(Millis at, std::function<void()> fn);
  /// As at(), for an event that concerns host `a` (and `b`) alone: only
  /// their pollables (and those with no host) are called after it, so a
  /// fleet of thousands does not poll every device after every packet.
  void at(Millis at, std::function<void()> fn, const IpAddress& a, const IpAddress& b = {});
  /// Something that does work at times of its own (a Link): called with
  /// now after every event that may concern it (every event, or with
  /// `host`, those of that host and untargeted ones) and whenever the
  /// deadline it returned comes; returns when it wants to be called at the
  /// latest. Returns an id for remove_pollable().
  uint64_t add_pollable(std::function<Millis(Millis)> poll, const IpAddress& host = {});
  /// Stops calling a pollable (its owner is going away). Unknown ids are ignored.
  void remove_pollable(uint64_t id);
  /// The time of the earliest queued event, kNever when none.
  Millis next_event_time() const;
  /// Runs every event and pollable deadline up to and including `t`,
  /// moving the clock to each; leaves the clock at `t`.
  void run_until(Millis t);
  /// run_until(now + duration).
  void run_for(Millis duration) { run_until(now() + duration); }

  // --- Observation ---
  /// Appends a line per network event ("t=412 syn 10.0.0.2:1->10.0.0.1:443
  /// refused") to `sink` while set; nullptr stops it.
  void set_log(std::vector<std::string>* sink) { log_ = sink; }
  /// Connections not yet closed at both ends.
  size_t open_connections() const { return connections_.size(); }
  /// Events queued (for checks that a run leaves nothing behind).
  size_t queued_events() const { return queue_.size(); }

 private:
  friend class SimConnection;
  friend class SimSocketDriver;
  struct Event {
    Millis at;
    uint64_t seq;
    std::function<void()> fn;
    // The hosts it concerns; both family 0: every host.
    IpAddress a;
    IpAddress b;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct Pollable {
    std::function<Millis(Millis)> poll;
    IpAddress host;  // family 0: concerned by every event
    Millis next = 0;
  };
  struct HostKey {
    bool operator()(const IpAddress& x, const IpAddress& y) const {
      return x.family != y.family ? x.family < y.family : std::memcmp(x.bytes, y.bytes, sizeof x.bytes) < 0;
    }
  };
  void mark_concerned(const Event& e);
  void poll_one(uint64_t id, Millis now);
  struct Listener {
    SimAcceptHandler on_accept;
    bool up = true;
  };
  using Endpoint = std::pair<std::string, uint16_t>;

  static std::string text(const IpAddress& a);
  void note(const std::string& what);
  const SimPath& path(const IpAddress& client, const IpAddress& server) const;
  bool dropped(const IpAddress& a, const IpAddress& b) const;
  bool link_down(const IpAddress& a) const;
  void answer_vanished(SimConnection& c);
  SimConnection* find(uint64_t id);
  void resolve_for(SimSocketDriver& driver, ResolveId request, std::string_view host);
  Status connect(SimSocketDriver& driver, SocketId id, SocketEvents& owner, const IpAddress& address, uint16_t port);
  void syn_arrives(uint64_t id);
  size_t transmit(SimConnection& c, bool to_server, std::span<const uint8_t> bytes);
  void deliver(uint64_t id, bool to_server, std::vector<uint8_t> bytes);
  void fin(SimConnection& c, bool from_server);
  void reset_connection(SimConnection& c, Status why);
  void client_closed(SimConnection& c);
  void release_if_done(SimConnection& c);

  VirtualClock& clock_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  uint64_t seq_ = 0;
  uint64_t next_connection_ = 1;
  SimPath default_path_;
  std::map<std::pair<std::string, std::string>, SimPath> paths_;
  std::map<std::string, std::vector<IpAddress>> dns_;
  std::map<std::string, bool> dns_failing_;
  Millis dns_delay_ms_ = 5;
  std::map<Endpoint, SimPortMode> port_modes_;
  std::map<std::string, bool> blackholed_;
  std::map<std::string, bool> down_;
  std::map<std::string, bool> unpowered_;
  std::map<Endpoint, Listener> listeners_;
  std::map<std::string, std::unique_ptr<SimSocketDriver>> clients_;
  std::map<uint64_t, std::unique_ptr<SimConnection>> connections_;
  std::vector<std::unique_ptr<SimConnection>> released_;  // freed after the current event
  // Pollables by id (registration order), their deadlines, the ones to call
  // before the clock moves on, and the ids of each host's pollables.
  std::map<uint64_t, Pollable> pollables_;
  std::set<std::pair<Millis, uint64_t>> deadlines_;
  std::set<uint64_t> to_poll_;
  std::map<IpAddress, std::vector<uint64_t>, HostKey> by_host_;
  std::vector<uint64_t> hostless_;
  uint64_t next_pollable_ = 1;
  std::vector<std::string>* log_ = nullptr;
};

}  // namespace sublink
