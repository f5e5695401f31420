// POSIX sockets backend of SocketDriver: non-blocking connects, TCP_NODELAY,
// one poll(2) loop. Linux only; the layers above do not know it is here.
#pragma once

#include <array>
#include <string>

#include "hal/clock.h"
#include "net/link/socket_driver.h"

namespace sublink {

/// Something else the loop should watch (a control socket, a signalfd).
class FdHandler {
 public:
  virtual ~FdHandler() = default;
  virtual void on_readable(int fd) = 0;
};

class PosixNetwork final : public SocketDriver {
 public:
  PosixNetwork() = default;
  ~PosixNetwork() override;
  PosixNetwork(const PosixNetwork&) = delete;
  PosixNetwork& operator=(const PosixNetwork&) = delete;

  /// Where socket events go. Must be set before any other call.
  void set_events(SocketEvents* events) { events_ = events; }

  /// Resolves with getaddrinfo; the answer is delivered by the next wait().
  void resolve(std::string_view host) override;
  Status open(SocketId id, const IpAddress& address, uint16_t port) override;
  Result<size_t> send(SocketId id, std::span<const uint8_t> bytes) override;
  void close(SocketId id) override;

  /// Watches `fd` for input; at most kMaxExtra of them.
  bool watch(int fd, FdHandler* handler);
  void unwatch(int fd);

  /// Waits up to `timeout_ms` (negative: forever) for socket activity and
  /// delivers the events. Returns early when a signal arrives.
  void wait(Millis timeout_ms);

  /// Number of sockets currently open (for tests and leak checks).
  size_t open_sockets() const;

 private:
  struct Slot {
    bool used = false;
    SocketId id = 0;
    int fd = -1;
    bool connecting = false;
    bool want_write = false;
  };
  static constexpr size_t kMaxSockets = 32;
  static constexpr size_t kMaxExtra = 8;

  Slot* find(SocketId id);
  void release(Slot& s);
  void fail(Slot& s, Status status);
  void deliver_resolve();

  SocketEvents* events_ = nullptr;
  std::array<Slot, kMaxSockets> slots_{};
  struct Extra {
    int fd = -1;
    FdHandler* handler = nullptr;
  };
  std::array<Extra, kMaxExtra> extra_{};
  bool resolve_pending_ = false;
  Status resolve_status_;
  AddressList resolved_;
};

/// Maps an errno from connect/recv/send to a named Reason.
Status status_from_errno(int err);

}  // namespace sublink
