// The tunnel channel table (PROTOCOL.md section 6), sans-I/O and the same
// at both ends: which channels exist, their credit, the bytes each holds in
// and out, and which frame goes on the link next. It does not know its
// role: the server calls open() and the device answers the listener's
// on_tunnel_open() with accept() or reset(). It never reads a socket and
// never sends: the caller hands it each binary message and pulls frames.
//
// Output is pulled, control first: next_frame() gives RST, OPEN, OPEN_OK
// and WINDOW frames before any DATA, then DATA round-robin between the
// channels one frame at a time (a channel's FIN after its queued DATA). The
// caller writes its JSON messages first and pulls DATA only while the link
// has room, so a saturated channel never delays a heartbeat or another
// channel by more than one DATA frame.
//
// Memory is fixed at construction, from storage the caller provides:
// per channel a receive queue of max(window, 4096) bytes (the credit rules
// keep what it holds within that) and a send queue of `send_queue` bytes.
// memory_bound() states the total; nothing is allocated afterwards.
//
// Driving it (the device's side):
//   TunnelMuxLimits limits{.max_channels = 8, .window = 65536, .send_queue = 16384, .idle_ms = 600000};
//   std::vector<TunnelChannel> slots(limits.max_channels);     // or fixed arrays
//   std::vector<uint8_t> bytes(TunnelMux::buffer_bytes(limits));
//   TunnelMux mux(limits, slots, bytes, listener);
//   binary message in:  if (!mux.receive(message).ok()) close the link with 1002
//   on_tunnel_open(slot, open): connect, then mux.accept(slot) or mux.reset(slot, reason)
//   to the local side:  span = mux.readable(slot); n = write(span); mux.consume(slot, n)
//   from the local side: n = mux.write(slot, bytes) (at most send_room(slot)); EOF: mux.finish(slot)
//   every step:         mux.tick(now); while (link has room && (n = mux.next_frame(buf))) send binary
//   link down:          mux.on_link_down()
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/clock.h"
#include "hal/status.h"
#include "net/tunnel/byte_ring.h"
#include "net/tunnel/tunnel_credit.h"
#include "net/tunnel/tunnel_frame.h"

namespace sublink {

/// The largest control frame: an OPEN with a 255-byte service name and a
/// 255-byte operator.
inline constexpr size_t kTunnelMaxControlFrame = kTunnelHeaderBytes + 4 + 1 + 2 * kTunnelMaxName;

/// What one end allows itself. Ranges: max_channels 1..1024, window
/// 1..2^31-1, send_queue 1..2^24, idle_ms >= 0 (0: never idle).
struct TunnelMuxLimits {
  uint16_t max_channels = 8;
  /// The receive window this side grants each channel (OPEN / OPEN_OK).
  uint32_t window = 65536;
  /// Bytes per channel waiting to go out (within credit or not yet).
  uint32_t send_queue = kTunnelMaxData;
  /// A channel with no DATA either way for this long is reset (idle_timeout).
  Millis idle_ms = 600000;
};

/// Checks `limits` against the ranges above: invalid_argument naming none
/// (detail: 1 max_channels, 2 window, 3 send_queue, 4 idle_ms).
[[nodiscard]] Status check_tunnel_limits(const TunnelMuxLimits& limits);

/// A slot of the table: the caller's handle for a channel from its
/// opening to its on_tunnel_closed(). (A channel id is the wire's name and
/// may be reused by the peer once the id is free; a slot is not reused
/// before on_tunnel_closed.)
using TunnelSlot = uint16_t;

/// How a channel ended.
struct TunnelClosed {
  enum class End : uint8_t { fin, reset_sent, reset_received, link_lost };
  uint16_t channel = 0;
  End end = End::fin;
  /// The RST reason (a TunnelReset value, or a newer peer's byte) when reset.
  uint8_t reason = 0;
  /// DATA payload received from the peer and sent to it.
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  Millis opened_ms = 0;
  /// PROTOCOL.md's name: an RST reason name, "fin" or "link_lost".
  const char* reason_name() const;
};

/// What the table tells its owner. Calls come from inside receive(),
/// next_frame(), tick(), reset*() and on_link_down(); the owner may call
/// back into the table from them.
class TunnelMuxListener {
 public:
  virtual ~TunnelMuxListener() = default;
  /// The peer's OPEN took `slot`: answer with accept() or reset() (now or
  /// later). `open` views the message: copy what must outlive the call.
  virtual void on_tunnel_open(TunnelSlot slot, const TunnelFrame& open) = 0;
  /// The peer accepted a channel this side opened (OPEN_OK).
  virtual void on_tunnel_accepted(TunnelSlot slot) = 0;
  /// readable(slot) grew, or the peer finished sending (FIN).
  virtual void on_tunnel_readable(TunnelSlot slot) = 0;
  /// The channel is gone; `slot` is free after this call.
  virtual void on_tunnel_closed(TunnelSlot slot, const TunnelClosed& closed) = 0;
};

/// One slot's state. The caller provides the storage (max_channels of
/// them); only TunnelMux reads or writes the fields.
struct TunnelChannel {
  enum class State : uint8_t {
    free,
    opening,    // this side sent OPEN (or will), no OPEN_OK yet
    accepting,  // the peer's OPEN, no accept() or reset() yet
    open,
    draining,   // FIN both ways: the id is free, held bytes still go out locally
    resetting,  // this side's RST waits to go out; the id is free once it has
  };
  State state = State::free;
  uint16_t id = 0;
  bool send_open = false;      // OPEN waits in `in` storage
  bool send_open_ok = false;
  bool fin_wanted = false;     // FIN once `out` is empty
  bool fin_sent = false;
  bool peer_fin = false;
  uint8_t rst_reason = 0;
  uint16_t open_bytes = 0;     // length of the encoded OPEN waiting
  uint32_t window_due = 0;     // WINDOW increment waiting to go out
  TunnelCredit credit{1};
  ByteRing in;                 // received, not yet passed on
  ByteRing out;                // from the local side, not yet sent
  Millis opened_ms = 0;
  Millis active_ms = 0;
};

/// A channel as tunnels.list shows it.
struct TunnelChannelInfo {
  uint16_t channel = 0;
  Millis opened_ms = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

class TunnelMux {
 public:
  /// Bytes of `buffer` the table needs for `limits`.
  static size_t buffer_bytes(const TunnelMuxLimits& limits);
  /// All the memory a table for `limits` uses: the object, its slots and
  /// its buffer, max_channels x (max(window, 4096) + send_queue +
  /// sizeof(TunnelChannel)) + sizeof(TunnelMux).
  static size_t memory_bound(const TunnelMuxLimits& limits);

  /// `limits` must pass check_tunnel_limits; `slots` holds max_channels
  /// entries and `buffer` buffer_bytes(limits) bytes (the table uses those
  /// and nothing else; it runs with 0 channels when they are too small).
  TunnelMux(const TunnelMuxLimits& limits, std::span<TunnelChannel> slots, std::span<uint8_t> buffer,
            TunnelMuxListener& listener);

  // --- time -------------------------------------------------------------------
  /// The current time; resets channels idle for limits.idle_ms. Call it
  /// before receive() and next_frame() in each step.
  void tick(Millis now);

  // --- the link ---------------------------------------------------------------
  /// One binary message from the peer. protocol_violation (detail: the byte
  /// offset at fault) when it is malformed: the caller closes the link with
  /// 1002 and calls on_link_down(). Channel-level faults (unknown channel,
  /// credit broken, an id in use, DATA after FIN) reset that channel and
  /// return ok.
  [[nodiscard]] Status receive(std::span<const uint8_t> message);
  /// Writes the next frame due into `out` (at least kTunnelMaxControlFrame
  /// bytes; kTunnelMaxFrameBytes keeps DATA frames whole, a smaller `out`
  /// gets smaller DATA frames) and
  /// returns its length, or 0 when nothing is due. Control frames first,
  /// then one DATA (or FIN) from the next channel in turn.
  size_t next_frame(std::span<uint8_t> out);
  /// True when next_frame() has a control frame (not DATA or FIN) due.
  bool control_due() const;
  /// The link is gone: every channel ends (link_lost), nothing is sent.
  void on_link_down();

  // --- channels -----------------------------------------------------------
  /// The opener: starts channel `id` to `service` for `op`. Up to 4096
  /// bytes written before OPEN_OK ride behind the OPEN. invalid_argument
  /// for a bad id or name, out_of_memory when every slot is taken,
  /// protocol_violation when `id` is in use.
  [[nodiscard]] Result<TunnelSlot> open(uint16_t id, std::string_view service, std::string_view op = {});
  /// The acceptor: the local side is up; OPEN_OK goes out and the early
  /// data is readable.
  void accept(TunnelSlot slot);
  /// Ends the channel with RST `reason` (a refused open, a local reset,
  /// shutdown); on_tunnel_closed follows at once.
  void reset(TunnelSlot slot, TunnelReset reason);
  /// reset() of every channel (agent shutdown: pull the RSTs before closing).
  void reset_all(TunnelReset reason);

  /// Received bytes not yet passed on (the oldest contiguous run).
  std::span<const uint8_t> readable(TunnelSlot slot) const;
  /// Bytes received and not yet passed on.
  size_t held(TunnelSlot slot) const;
  /// `n` readable bytes were passed on: credit follows.
  void consume(TunnelSlot slot, size_t n);
  /// The peer sent FIN and every byte before it was passed on.
  bool peer_finished(TunnelSlot slot) const;

  /// Bytes write() takes now: free send queue space (credit aside: queued
  /// bytes wait for it).
  size_t send_room(TunnelSlot slot) const;
  /// Queues what fits of `bytes` to go out as DATA; returns the count.
  size_t write(TunnelSlot slot, std::span<const uint8_t> bytes);
  /// Bytes queued to go out.
  size_t queued(TunnelSlot slot) const;
  /// The local side finished: FIN goes out after the queued DATA.
  void finish(TunnelSlot slot);

  /// True for a slot whose channel is open, opening or accepting.
  bool live(TunnelSlot slot) const;
  /// The wire id of a live slot.
  uint16_t channel_id(TunnelSlot slot) const { return slots_[slot].id; }
  TunnelChannelInfo info(TunnelSlot slot) const;
  /// Live channels.
  size_t live_count() const;
  size_t capacity() const { return slots_.size(); }
  /// RST answers (to frames for unknown channels) dropped because
  /// kOrphanResets were already waiting.
  uint32_t orphan_resets_dropped() const { return orphans_dropped_; }

  /// RSTs for frames on unknown channels that can wait at once.
  static constexpr size_t kOrphanResets = 16;
  /// Ids this side reset recently, whose in-flight frames are ignored.
  static constexpr size_t kRecentResets = 16;

 private:
  TunnelChannel* find(uint16_t id);
  TunnelChannel* take_slot(uint16_t id);
  TunnelSlot slot_of(const TunnelChannel& c) const { return static_cast<TunnelSlot>(&c - slots_.data()); }
  void on_frame_for_channel(TunnelChannel& c, const TunnelFrame& f);
  void on_data(TunnelChannel& c, const TunnelFrame& f);
  void fail(TunnelChannel& c, TunnelReset reason);
  void close(TunnelChannel& c, TunnelClosed::End end, uint8_t reason);
  void release(TunnelChannel& c);
  void maybe_finished(TunnelChannel& c);
  void answer_unknown(uint16_t id, TunnelReset reason);
  void remember_reset(uint16_t id);
  bool recently_reset(uint16_t id) const;
  size_t next_control(std::span<uint8_t> out);
  size_t next_data(std::span<uint8_t> out);

  TunnelMuxLimits limits_;
  std::span<TunnelChannel> slots_;
  TunnelMuxListener& listener_;
  Millis now_ = 0;
  size_t data_turn_ = 0;
  struct Orphan {
    uint16_t id;
    uint8_t reason;
  };
  Orphan orphans_[kOrphanResets] = {};
  size_t orphan_count_ = 0;
  uint32_t orphans_dropped_ = 0;
  uint16_t recent_[kRecentResets] = {};
  size_t recent_next_ = 0;
};

}  // namespace sublink
