// The narrow interface between the sans-I/O layers and a network backend
// (POSIX sockets, lwIP raw API, the simulated network). Owners ask for
// things through SocketDriver; the backend reports what happened to the
// owner named with each request, through its SocketEvents. Neither side
// blocks.
//
// One driver serves any number of owners at once: the link's attempts, and
// whatever else opens sockets (a tunnel channel to a local service). Every
// socket and every name lookup has a handle the driver hands out, and its
// events go to the owner that asked for it and to no one else.
//
// Driving it:
//   Result<ResolveId> r = driver.resolve("example.net", owner);  // answer: owner.on_resolved(*r, ...)
//   Result<SocketId> s = driver.open(address, 443, owner);      // owner.on_connected(*s) or on_socket_error
//   driver.send(*s, bytes); ... driver.close(*s);               // no events for *s after close
//   driver.set_receiving(*s, false);   // a full owner: the bytes wait in the backend, TCP slows the sender
//   driver.shutdown_send(*s);          // half-close: FIN out, still receiving
//   owner.on_peer_finished(*s) -> true // the peer's half-close: still sending
// An owner going away first closes its sockets and cancels its lookups.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"
#include "net/address/ip_address.h"

namespace sublink {

/// The resolved addresses of one name, in resolver order. Bounded.
struct AddressList {
  static constexpr size_t kMax = 8;
  IpAddress items[kMax];
  size_t count = 0;
  bool add(const IpAddress& a) {
    if (count == kMax) return false;
    items[count++] = a;
    return true;
  }
};

/// The most bytes one on_received() call carries: an owner that stops
/// receiving (set_receiving) while it still has this much room never gets
/// more than it can hold.
inline constexpr size_t kSocketMaxReceive = 16384;

/// Names one socket for as long as it is open. Handed out by the driver's
/// open(), never 0, not reused while the driver lives (32 bits of them).
using SocketId = uint32_t;

/// Names one name lookup until its answer or cancel_resolve(). Handed out
/// by the driver's resolve(), never 0, not reused while the driver lives.
using ResolveId = uint32_t;

/// What a backend reports to the owner of a socket or lookup. Never called
/// from inside the SocketDriver call that made the socket or lookup (a
/// failure known at once is that call's result); later calls may come from
/// the event loop or from inside another SocketDriver call of the owner.
class SocketEvents {
 public:
  virtual ~SocketEvents() = default;
  /// Answer to SocketDriver::resolve `request`: ok with at least one
  /// address, or dns_failed (detail: the resolver's code).
  virtual void on_resolved(ResolveId request, Status status, const AddressList& addresses) = 0;
  /// The TCP connection of `id` is established.
  virtual void on_connected(SocketId id) = 0;
  /// Bytes arrived on `id` (1..kSocketMaxReceive of them).
  virtual void on_received(SocketId id, std::span<const uint8_t> bytes) = 0;
  /// `id` can take more bytes after a short send.
  virtual void on_writable(SocketId id) = 0;
  /// The peer finished sending (its FIN): no more on_received for `id`.
  /// An owner that returns true keeps `id` half-open: it still sends, and
  /// closes it when done (a tunnel's local service that half-closed and
  /// waits for the answer). False (an owner with no use for half-close)
  /// ends it: on_socket_error(connection_closed) follows from the backend.
  virtual bool on_peer_finished(SocketId /*id*/) { return false; }
  /// `id` failed (connect refused, reset, ...) or the peer closed it
  /// (Reason::connection_closed). The backend has released it.
  virtual void on_socket_error(SocketId id, Status status) = 0;
};

/// The operations a backend offers. Every call returns at once.
class SocketDriver {
 public:
  virtual ~SocketDriver() = default;
  /// Starts resolving `host` (a name or an IP literal) for `owner`, which
  /// must outlive the lookup. The answer comes to owner.on_resolved with
  /// the returned id. out_of_memory when the backend's lookups are all in
  /// use.
  [[nodiscard]] virtual Result<ResolveId> resolve(std::string_view host, SocketEvents& owner) = 0;
  /// Forgets lookup `id`: no answer is delivered for it. Unknown ids are
  /// ignored.
  virtual void cancel_resolve(ResolveId id) = 0;
  /// Starts a TCP connection for `owner`, which must outlive the socket;
  /// the outcome comes to owner.on_connected or on_socket_error. A failure
  /// known at once (out_of_memory when the backend's sockets are all in
  /// use) is the result, and no socket exists then.
  [[nodiscard]] virtual Result<SocketId> open(const IpAddress& address, uint16_t port, SocketEvents& owner) = 0;
  /// Sends what the socket takes now; returns the count taken (maybe 0,
  /// then on_writable follows).
  [[nodiscard]] virtual Result<size_t> send(SocketId id, std::span<const uint8_t> bytes) = 0;
  /// Closes and releases `id`; no more events for it. Unknown ids are ignored.
  virtual void close(SocketId id) = 0;
  /// Stops (false) or resumes (true) on_received for `id`. While stopped the
  /// bytes wait in the backend (the kernel's socket buffer, lwIP's window)
  /// and TCP's own flow control slows the sender: an owner whose buffer is
  /// full holds what it has and takes no more. A socket starts receiving.
  /// A call already under way may finish its chunk. Unknown ids are ignored.
  virtual void set_receiving(SocketId id, bool on) = 0;
  /// Half-close: a FIN goes out after the bytes sent; `id` still receives
  /// until the peer closes. Unknown ids are ignored.
  virtual void shutdown_send(SocketId id) = 0;
};

}  // namespace sublink
