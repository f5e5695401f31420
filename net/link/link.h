// The link: from "server name in a configuration" to "an open,
// authenticated WebSocket", and on to the next one when it breaks. It runs
// connection rounds with the ConnectPolicy and races their attempts: each
// attempt is TCP -> [HTTP CONNECT] -> the TLS+WebSocket chain's client role
// (TlsWsClientChain: TLS 1.2, then the WebSocket upgrade), all sans-I/O
// over a SocketDriver. The first attempt to complete the whole chain
// becomes the link; every other one is closed. The link itself keeps only
// the racing: the proxy stage, the sockets, timeouts and the reports.
//
// Driving it (any event loop: poll(2), lwIP callbacks, the simulation):
//   link.start(now);
//   loop: deadline = link.poll(now); wait for socket events or the deadline
// The link owns its sockets and lookups on the driver: their events reach
// it through its SocketEvents methods, and other owners may share the driver.
// The link reports to its LinkListener, which must not call back into the
// link from inside a report (the agent's AgentRunner is the listener on
// every board).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "hal/clock.h"
#include "hal/random.h"
#include "hal/status.h"
#include "net/connect/connect_policy.h"
#include "net/link/binary_channel.h"
#include "net/link/message_channel.h"
#include "net/link/socket_driver.h"
#include "net/proxy/http_connect.h"
#include "net/proxy/proxy_url.h"
#include "net/tls/tls_client.h"
#include "net/tls_ws/tls_ws_client_chain.h"

namespace sublink {

/// What the link connects to: what every attempt's chain is made from
/// (TlsWsClientChainConfig: `server`, the DNS name or IP literal, `path`,
/// `user_agent`, `max_message_bytes` for text messages,
/// max_binary_message_bytes for binary ones (tunnel frames), and
/// max_send_message_bytes, the largest message the link sends, which sizes
/// each attempt's WebSocket output queue), and how the attempts are raced.
struct LinkConfig : TlsWsClientChainConfig {
  ConnectConfig connect;              // ports and timing (section 1)
  const ProxyUrl* proxy = nullptr;    // `proxy`, when set
  /// Attempts that may be under way at once (each holds a TLS session and
  /// WebSocket buffers); a further start fails at once with out_of_memory.
  /// The link allocates this many slots when it is constructed (at least
  /// one); the open link holds one of them.
  size_t max_parallel_attempts = 4;
  /// How long a close handshake may take before the socket is dropped.
  Millis close_timeout_ms = 2000;
};

/// One attempt: where it goes.
struct AttemptInfo {
  AttemptId id = 0;
  IpAddress address;  // the server's, or the proxy's when a proxy is used
  uint16_t port = 0;  // the server port (also with a proxy)
  uint16_t proxy_port = 0;  // the proxy's port, where TCP goes; 0 without a proxy
};

/// Steps an attempt goes through, for the log and the demo narration.
enum class LinkStep : uint8_t { connecting, tcp_connected, tunnel_open, tls_established, upgraded };
const char* link_step_name(LinkStep step);

/// What the link reports. Every method has an empty default. A listener
/// must not call back into the link from inside a report (no send, close,
/// drop or start there): it notes what to do and does it from its own step,
/// after the link's event handling returned (the agent's drain step). The
/// link relies on this: it has no re-entrancy guards.
class LinkListener {
 public:
  virtual ~LinkListener() = default;
  /// The name resolved (or failed to: status) at the start of a round.
  virtual void on_resolved(std::string_view /*name*/, Status /*status*/, const AddressList& /*addresses*/) {}
  /// An attempt reached a step.
  virtual void on_attempt_step(const AttemptInfo& /*attempt*/, LinkStep /*step*/) {}
  /// An attempt failed; `text` adds detail for the log (TLS verify flags).
  virtual void on_attempt_failed(const AttemptInfo& /*attempt*/, Status /*why*/, std::string_view /*text*/) {}
  /// Every candidate of the round failed; the next round starts at retry_at.
  virtual void on_round_failed(Status /*last*/, Millis /*retry_at*/) {}
  /// The link is up on `attempt` (WebSocket open, TLS resumed or not).
  virtual void on_link_up(const AttemptInfo& /*attempt*/, bool /*tls_resumed*/) {}
  /// A complete message arrived (valid only during the call).
  virtual void on_text(std::string_view /*message*/) {}
  virtual void on_binary(std::span<const uint8_t> /*message*/) {}
  /// A pong arrived (its payload, valid only during the call).
  virtual void on_pong(std::span<const uint8_t> /*payload*/) {}
  /// The link went down: why.ok() after our own close(), closed_by_peer
  /// (detail: close code), or the failure.
  virtual void on_link_down(Status /*why*/) {}
};

class Link final : public SocketEvents, public MessageChannel, public BinaryChannel {
 public:
  /// `tls` must be loaded; `driver`, `random`, `listener`, `tls` and the
  /// strings in `config` must outlive the link. The link names itself as
  /// the owner of what it opens on `driver`.
  Link(const LinkConfig& config, TlsClientConfig& tls, SocketDriver& driver, Random& random,
       LinkListener& listener);
  ~Link() override;
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  /// Starts the first connection round, or restarts after close(): at once
  /// unless the backoff after the closed link is still running (then at
  /// the retry time, from poll()).
  void start(Millis now) override;

  /// Does what is due at `now`; returns when to call again at the latest.
  Millis poll(Millis now);

  bool up() const override { return winner_ != nullptr && winner_stage_open(); }
  /// The attempt that holds the link; meaningful while up().
  const AttemptInfo& current() const { return current_; }

  /// Queues a message on the open link. would_block when not up or when
  /// the output is full; other statuses as WsConnection::send_text.
  Status send_text(std::string_view message) override;
  Status send_binary(std::span<const uint8_t> message) override;
  /// Bytes the open link still has queued (WebSocket and TLS); 0 when not up.
  size_t output_queued() const override;
  /// Queues a WebSocket ping (payload up to 125 bytes) on the open link;
  /// the server's pong comes back through LinkListener::on_pong. Statuses
  /// as send_text.
  Status send_ping(std::span<const uint8_t> payload);

  /// Closes the open link with `code` (1000, 1001 at shutdown) and stops
  /// making new rounds until start() is called again. The link counts as
  /// down for the backoff at once (a refused link as a failed round).
  void close(uint16_t code, std::string_view reason = {}) override;

  /// Drops the open link at once (dead-link detection) and starts a new
  /// round after the backoff.
  void drop(Status why) override;

  /// Credentials for attempts started from now on (a certificate renewal).
  /// Attempts already under way and the open link keep the configuration
  /// they started with, so `tls` and the previous one must both outlive
  /// them: keep the previous one until the next set_tls() at least.
  void set_tls(TlsClientConfig& tls) { tls_ = &tls; }

  /// A server-given delay: the next wait is at least `delay_ms`.
  void set_retry_floor(Millis delay_ms) override { policy_.set_retry_floor(delay_ms); }

  /// `welcome` arrived on the open link: the backoff is reset.
  void link_accepted() override { policy_.on_link_accepted(); }

  /// The backoff's retry time while no link is open, else kNever.
  Millis next_attempt() const override { return winner_ == nullptr ? policy_.retry_at() : kNever; }

  /// True when nothing is under way: no attempt, no link, no close pending
  /// (after close() completes).
  bool idle() const;

  const ConnectPolicy& policy() const { return policy_; }
  /// The time given to the latest poll() or start(): "now" for the link.
  Millis last_poll() const { return now_; }

  // SocketEvents
  void on_resolved(ResolveId request, Status status, const AddressList& addresses) override;
  void on_connected(SocketId id) override;
  void on_received(SocketId id, std::span<const uint8_t> bytes) override;
  void on_writable(SocketId id) override;
  void on_socket_error(SocketId id, Status status) override;

 private:
  // free: the slot is unused; tcp: connecting; proxy: CONNECT sent; chain:
  // the TLS+WebSocket chain runs its handshakes; open: the link; closing:
  // the link's close handshake.
  enum class Stage : uint8_t { free, tcp, proxy, chain, open, closing };
  // One attempt under way, or the open link; it hears its chain's reports
  // (and never releases anything there: settle() does, once the chain
  // returned).
  struct Attempt final : TlsWsClientChainHandler {
    void on_tls_established() override;
    void on_event(const WsEvent& event) override;

    Link* link = nullptr;
    Stage stage = Stage::free;
    bool lost = false;  // opened after another attempt won: released next
    AttemptInfo info;
    SocketId socket = 0;
    Millis close_deadline = kNever;
    // Only a proxied attempt needs the CONNECT buffers (3 KB), and only
    // until the tunnel opens: allocated then, not held by every slot.
    std::unique_ptr<HttpConnect> proxy;
    std::optional<TlsWsClientChain> chain;
  };

  std::span<Attempt> attempts() { return {attempts_.get(), attempt_limit_}; }
  std::span<const Attempt> attempts() const { return {attempts_.get(), attempt_limit_}; }
  bool winner_stage_open() const;
  Attempt* attempt_for_socket(SocketId id);
  Attempt* attempt_for_id(AttemptId id);
  void begin_resolve();
  void resolved(Status status, const AddressList& addresses);
  void start_attempt(const ConnectAction& action);
  void begin_chain(Attempt& a, std::span<const uint8_t> early);
  void settle(Attempt& a);
  // After a message was queued on the open link: sends it; returns `queued`.
  Status sent(Status queued);
  void flush(Attempt& a);
  // Ends the attempt (fail_attempt) or, when it holds the link, the link
  // (link_down: ok while it was closing, else `why`).
  void end_attempt(Attempt& a, Status why, std::string_view text);
  void fail_attempt(Attempt& a, Status why, std::string_view text = {});
  // Reports a failed attempt to the listener and the policy.
  void attempt_failed(const AttemptInfo& info, Status why, std::string_view text);
  void link_down(Attempt& a, Status why);
  void release(Attempt& a);

  LinkConfig config_;  // every attempt's chain reads its TlsWsClientChainConfig part
  TlsClientConfig* tls_;
  SocketDriver& driver_;
  Random& random_;
  LinkListener& listener_;
  ConnectPolicy policy_;
  // One slot per attempt that may be under way. The open link needs no slot
  // of its own: the policy starts no attempt while a link is open, and a
  // link that is closing counts as an attempt under way.
  size_t attempt_limit_;
  std::unique_ptr<Attempt[]> attempts_;
  Attempt* winner_ = nullptr;
  AttemptInfo current_;
  AddressList addresses_;
  Millis now_ = 0;
  bool running_ = false;
  ResolveId resolve_id_ = 0;  // the lookup under way, 0 when none
  Status last_dns_failure_;
};

}  // namespace sublink
