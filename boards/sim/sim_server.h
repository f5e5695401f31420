// The simulated subscription server: SimTlsWsServer (TLS 1.2 with client
// certificates, WebSocket) listening on the configured ports of one host,
// one sans-I/O ServerSession per connection (server_core/) over a
// MemoryDirectory and a LicenseSigner, all on the world's true UTC.
//
// Operator actions (revoke, push a grant, disconnect, request) and the
// faults a server shows (stopped, restarted, a port refused or blackholed,
// hung, an old grant replayed) are its controls. Everything it hears and
// does that a reader of a run cares about goes to the timeline, and every
// event batch is kept as it arrived (before the directory drops repeats),
// so a test can prove each event reached the application exactly once.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <span>
#include <vector>

#include "boards/sim/sim_credentials.h"
#include "boards/sim/sim_timeline.h"
#include "hal/sim/deterministic_random.h"
#include "net/sim/sim_network.h"
#include "net/sim/sim_tls_ws_server.h"
#include "net/tls/tls_server.h"
#include "server_core/license_signer.h"
#include "server_core/memory_directory.h"
#include "server_core/server_session.h"
#include "server_core/server_tunnel.h"

namespace sublink {

struct SimServerSetup {
  const SimCredentials* credentials = nullptr;  // must outlive the server
  IpAddress address = IpAddress::parse("10.0.0.1");
  std::vector<uint16_t> ports = {443, 8443};
  SessionSettings settings;
  uint64_t seed = 2;
  // A stop forgets the TLS sessions clients could resume, as a real server
  // process does when it restarts (its ticket keys live in its memory); off,
  // the simulated process keeps them across restarts.
  bool stop_forgets_tls_sessions = false;
};

/// One event object as it reached the server (repeats included).
struct SimEventDelivery {
  Millis at = 0;  // world time
  std::string stream;  // the batch's `stream` ("legacy" when it had none)
  int64_t seq = 0;
  std::string kind;
  std::string json;
};

/// What the operator of one tunnel channel saw (PROTOCOL.md section 6),
/// in world time. The simulated operator takes every byte at once.
struct SimChannelLog {
  std::string service;
  uint16_t channel = 0;
  Millis opened_at = 0;
  Millis accepted_at = -1;             // OPEN_OK arrived; -1: not yet
  std::vector<uint8_t> received;       // from the device, in order
  /// Each DATA payload's arrival: world time, bytes received by then.
  std::vector<std::pair<Millis, uint64_t>> arrivals;
  bool device_finished = false;        // the device's FIN
  std::optional<TunnelClosed> closed;  // how it ended
};

class SimServer final : private SimServerHandler, private ServerTunnelObserver {
 public:
  /// Registers a pollable with `net` for the sessions' timers. `net` and
  /// `timeline` must outlive the server. Not listening until start().
  SimServer(SimNetwork& net, const SimServerSetup& setup, SimTimeline& timeline);
  ~SimServer() override;
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  /// Loads the TLS credentials and the signing key (first call) and listens
  /// on every port. invalid_argument when a credential does not load.
  Status start();
  /// The server process stops: every connection is reset, connects are
  /// refused until start().
  void stop();
  /// Stop, then start after `down_for_ms` (the records survive).
  void restart(Millis down_for_ms);
  bool listening() const { return listening_; }
  /// Adds up the CPU time the server spends on its links while on (see
  /// SimTlsWsServer::meter_cpu); metered_cpu_s() is the total so far.
  void meter_cpu(bool on) { server_->meter_cpu(on); }
  double metered_cpu_s() const { return server_->metered_cpu_s(); }

  // ---- Faults on the path to it --------------------------------------------
  /// `port` answers every SYN with a reset (on) or normally again (off).
  void refuse_port(uint16_t port, bool on);
  /// `port` drops every SYN (on): connects to it time out.
  void blackhole_port(uint16_t port, bool on);
  /// Every packet to and from the server is dropped while on.
  void blackhole(bool on);
  /// The server hangs (on): it keeps connections but answers nothing.
  void hang(bool on);

  // ---- Operator actions on the device's welcomed session ---------------------------
  /// Each returns false (or nullopt) when no welcomed session is open.
  bool revoke(const std::string& reason = "operator");
  bool push_grant();
  bool disconnect(const std::string& reason, std::optional<int64_t> retry_after_s);
  std::optional<int64_t> request(const std::string& method, const std::string& params_json = "");
  /// Resets the device's connection (as a middlebox or a crash would).
  bool drop_connection();
  /// Sends again, verbatim, the `index`-th license_grant this server sent
  /// (0: the oldest): a replayed old grant.
  bool replay_grant(size_t index);

  // ---- Tunnels through the device's welcomed session (PROTOCOL.md section 6) --------
  /// Opens a channel to the device's `service` for operator `op`: its index
  /// in channels(); nullopt without a welcomed session or a free slot.
  std::optional<size_t> open_channel(const std::string& service, const std::string& op = "");
  /// Queues the operator's `bytes` on channel `index`; returns what its
  /// send queue took (the rest waits for the caller: the link's credit).
  size_t channel_write(size_t index, std::span<const uint8_t> bytes);
  /// The operator finished sending on channel `index` (FIN after its bytes).
  void channel_finish(size_t index);
  /// Every channel opened, in order.
  const std::vector<SimChannelLog>& channels() const { return channels_; }
  /// World time of each heartbeat's arrival.
  const std::vector<Millis>& heartbeat_arrivals() const { return heartbeat_arrivals_; }

  // ---- Observation -----------------------------------------------------------------
  MemoryDirectory& directory() { return directory_; }
  const std::vector<SimEventDelivery>& event_deliveries() const { return deliveries_; }
  /// Every license_grant message sent, in order.
  const std::vector<std::string>& grants_sent() const { return grants_; }
  /// The device's responses, in arrival order.
  const std::vector<DeviceResponse>& responses() const { return responses_; }
  /// Sessions open now and sessions ever welcomed.
  size_t open_sessions() const { return sessions_.size(); }
  /// Sessions that link a system now (welcomed, not closing): at most one
  /// per system (PROTOCOL.md section 4, identity).
  size_t linked_sessions() const;
  uint64_t welcomes() const { return welcomes_; }
  /// The info of the open welcomed session, if any.
  std::optional<SessionInfo> current() const;
  /// Messages received of `type` so far (e.g. "heartbeat").
  uint64_t received(const std::string& type) const;
  const IpAddress& address() const { return setup_.address; }

  /// The pollable: runs the sessions' timers due at world time `world_now`.
  Millis poll(Millis world_now);

 private:
  Millis utc() const;
  void note(std::string what);
  void flush(SimSessionId id);
  void set_deadline(SimSessionId id, Millis at);
  void observe_in(std::string_view message);
  void observe_out(std::string_view message);
  ServerSession* welcomed_session(SimSessionId* id = nullptr);

  // SimServerHandler
  void on_open(SimSessionId id) override;
  void on_text(SimSessionId id, std::string_view message) override;
  void on_binary(SimSessionId id, std::span<const uint8_t> message) override;
  void on_closed(SimSessionId id, Status why) override;
  // ServerTunnelObserver
  void on_channel_accepted(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner) override;
  void on_channel_readable(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner) override;
  void on_channel_closed(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner, const TunnelClosed& closed) override;
  // Frames the session's tunnel has due, after its JSON messages.
  void flush_tunnel(SimSessionId id);
  // The live channel `index` (nullptr once closed).
  struct ChannelRef {
    SimSessionId session = 0;
    TunnelSlot slot = 0;
    bool live = false;
  };

  SimNetwork& net_;
  SimServerSetup setup_;
  SimTimeline& timeline_;
  DeterministicRandom random_;
  TlsServerConfig tls_;
  LicenseSigner signer_;
  MemoryDirectory directory_;
  IdentityRegistry identities_;
  std::unique_ptr<SimTlsWsServer> server_;
  std::map<SimSessionId, std::unique_ptr<ServerSession>> sessions_;  // opened (upgraded) sessions
  std::vector<SimSessionId> woken_;  // sessions with output from another's hello
  // What poll() steps: sessions touched since (opened, a message, woken),
  // those whose deadline came, or all after a call from outside.
  std::set<SimSessionId> touched_;
  std::set<std::pair<Millis, SimSessionId>> deadlines_;
  std::map<SimSessionId, Millis> deadline_of_;
  bool step_all_ = true;
  bool loaded_ = false;
  bool listening_ = false;
  bool hung_ = false;
  uint64_t welcomes_ = 0;
  uint64_t pollable_ = 0;
  uint64_t epoch_ = 0;  // changes at every stop/start: a stale restart timer sees it
  std::vector<SimEventDelivery> deliveries_;
  std::vector<std::string> grants_;
  std::vector<DeviceResponse> responses_;
  std::map<std::string, uint64_t> received_;
  std::vector<Millis> heartbeat_arrivals_;
  std::map<SimSessionId, std::unique_ptr<ServerTunnel>> tunnels_;  // made on a session's first channel
  std::vector<SimChannelLog> channels_;
  std::vector<ChannelRef> channel_refs_;  // by index, as channels_
  std::vector<uint8_t> frame_;            // one frame out
};

}  // namespace sublink
