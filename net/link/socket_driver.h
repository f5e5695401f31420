// The narrow interface between the sans-I/O link and a network backend
// (POSIX sockets, lwIP raw API, the simulated network). The link asks for
// things through SocketDriver; the backend reports what happened through
// SocketEvents. Neither side blocks.
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

/// Identifies one socket for the lifetime of a connection attempt. Chosen by
/// the link; the backend maps it to its own handle.
using SocketId = uint32_t;

/// What a backend reports back. Calls may come from inside a SocketDriver
/// call (a POSIX connect that fails at once) or later from the event loop.
class SocketEvents {
 public:
  virtual ~SocketEvents() = default;
  /// Answer to SocketDriver::resolve.
  virtual void on_resolved(Status status, const AddressList& addresses) = 0;
  /// The TCP connection of `id` is established.
  virtual void on_connected(SocketId id) = 0;
  /// Bytes arrived on `id`.
  virtual void on_received(SocketId id, std::span<const uint8_t> bytes) = 0;
  /// `id` can take more bytes after a short send.
  virtual void on_writable(SocketId id) = 0;
  /// `id` failed (connect refused, reset, ...) or the peer closed it
  /// (Reason::connection_closed). The backend has released it.
  virtual void on_socket_error(SocketId id, Status status) = 0;
};

/// The operations a backend offers. Every call returns at once.
class SocketDriver {
 public:
  virtual ~SocketDriver() = default;
  /// Starts resolving `host`; the answer comes through on_resolved.
  virtual void resolve(std::string_view host) = 0;
  /// Starts a TCP connection; the outcome comes through on_connected or
  /// on_socket_error. A non-ok return means it failed at once.
  virtual Status open(SocketId id, const IpAddress& address, uint16_t port) = 0;
  /// Sends what the socket takes now; returns the count taken (maybe 0,
  /// then on_writable follows).
  virtual Result<size_t> send(SocketId id, std::span<const uint8_t> bytes) = 0;
  /// Closes and releases `id`; no more events for it. Unknown ids are ignored.
  virtual void close(SocketId id) = 0;
};

}  // namespace sublink
