// POSIX sockets backend of SocketDriver: non-blocking connects, TCP_NODELAY,
// names resolved off the loop (getaddrinfo_a, posix_lookups.h), one poll(2)
// loop. Linux only; the layers above do not know it is here. Any number of
// owners share it: each socket and lookup reports to the owner that asked.
//
// Driving it:
//   PosixNetwork net;  net.watch(control_fd, &handler);   // other inputs
//   owners call resolve/open/send/close (SocketDriver)
//   loop: net.wait(timeout_ms);                            // delivers events
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

  /// An IP literal answers at the next wait(); a name is resolved by glibc
  /// off the loop (getaddrinfo_a) and answers at the wait() after it ends,
  /// so the loop keeps serving other descriptors meanwhile. out_of_memory
  /// when kMaxLookups of this network's lookups are under way.
  [[nodiscard]] Result<ResolveId> resolve(std::string_view host, SocketEvents& owner) override;
  void cancel_resolve(ResolveId id) override;
  [[nodiscard]] Result<SocketId> open(const IpAddress& address, uint16_t port, SocketEvents& owner) override;
  [[nodiscard]] Result<size_t> send(SocketId id, std::span<const uint8_t> bytes) override;
  void close(SocketId id) override;
  void set_receiving(SocketId id, bool on) override;
  void shutdown_send(SocketId id) override;

  /// Watches `fd` for input; at most kMaxExtra of them.
  bool watch(int fd, FdHandler* handler);
  void unwatch(int fd);

  /// Waits up to `timeout_ms` (negative: forever) for socket activity and
  /// delivers the events. Returns early when a signal arrives.
  void wait(Millis timeout_ms);

  /// Number of sockets currently open (for tests and leak checks).
  size_t open_sockets() const;
  /// Number of lookups whose answer is still to be delivered.
  size_t pending_lookups() const;

  static constexpr size_t kMaxSockets = 32;
  static constexpr size_t kMaxLookups = 4;

 private:
  struct Slot {
    bool used = false;
    SocketId id = 0;
    int fd = -1;
    bool connecting = false;
    bool want_write = false;
    bool paused = false;  // set_receiving(false): no POLLIN
    bool read_done = false;  // the peer's FIN, kept half-open: no POLLIN
    SocketEvents* owner = nullptr;
  };
  // One lookup of an owner: answered at once (an IP literal, a name glibc
  // could not take) or running in the process's lookup table (`slot`).
  struct Lookup {
    ResolveId id = 0;  // 0: free
    SocketEvents* owner = nullptr;
    int slot = -1;     // posix_lookups.h record while running
    Status status;
    AddressList addresses;
  };
  static constexpr size_t kMaxExtra = 8;

  Slot* find(SocketId id);
  Lookup* find_lookup(ResolveId id);
  void release(Slot& s);
  void fail(Slot& s, Status status);
  // Delivers the answers that are known; true when any was.
  bool deliver_answers();

  std::array<Slot, kMaxSockets> slots_{};
  std::array<Lookup, kMaxLookups> lookups_{};
  SocketId next_socket_ = 1;
  ResolveId next_lookup_ = 1;
  struct Extra {
    int fd = -1;
    FdHandler* handler = nullptr;
  };
  std::array<Extra, kMaxExtra> extra_{};
};

/// Maps an errno from connect/recv/send to a named Reason.
Status status_from_errno(int err);

}  // namespace sublink
