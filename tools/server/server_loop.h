// The reference server's event loop: listening sockets on every configured
// port, one DeviceConnection per accepted socket, all in one epoll(7) loop
// with the session timers, until SIGTERM or SIGINT arrives on a signalfd.
// Every wake costs only the sockets that are ready and the timers that are
// due (epoll plus an ordered timer set), so 10,000 idle links cost nothing
// between their heartbeats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hal/status.h"
#include "tools/server/admin_request.h"
#include "tools/server/device_connection.h"
#include "tools/server/server_context.h"

namespace sublink {

/// Something besides the devices that the loop serves (the operator's
/// control socket): one descriptor watched for input, and its timers.
class LoopExtension {
 public:
  virtual ~LoopExtension() = default;
  /// The descriptor to watch (it stays the same while the loop runs).
  virtual int watch_fd() const = 0;
  /// The descriptor is readable.
  virtual void on_ready(Millis now) = 0;
  /// Runs what is due; returns the next deadline (kNever: none).
  virtual Millis step(Millis now) = 0;
};

/// What a listening port does now (the operator's fault controls).
enum class PortState : uint8_t {
  listening,  // accepting and serving
  stopped,    // no listening socket: connects are refused
  stalled,    // accepting TCP, then never reading or answering
};

class ServerLoop {
 public:
  /// At most `max_connections` devices at once; more are closed at accept.
  ServerLoop(ServerContext& context, size_t max_connections);
  ~ServerLoop();
  ServerLoop(const ServerLoop&) = delete;
  ServerLoop& operator=(const ServerLoop&) = delete;

  /// Listens on `address` (an IPv4 or IPv6 literal) port `port`; io_error
  /// (detail: errno) when the port cannot be bound.
  Status listen(const std::string& address, uint16_t port);

  /// Serves until SIGTERM/SIGINT (blocked by the caller and read from
  /// `signal_fd`), then closes every connection with 1001 and returns.
  /// io_error (detail: errno) when the loop cannot watch its sockets.
  Status run(int signal_fd);

  /// Serves `extension` too (before run(); it must outlive the loop's run).
  void add_extension(LoopExtension& extension) { extensions_.push_back(&extension); }

  // ---- The operator's controls (from an extension, inside run()) -----------
  /// Applies `action` to port `port`: stop closes its listening socket (and
  /// any stalled connections), start listens again, stall accepts but never
  /// answers, normal undoes stall. Links already up stay up. invalid_argument
  /// when the server has no such port; io_error (detail: errno) when the
  /// port cannot be bound again.
  Status control_port(uint16_t port, PortAction action);
  /// The state of `port`; nullopt when the server has no such port.
  std::optional<PortState> port_state(uint16_t port) const;

  /// The connection that links `system_id` now (welcomed, not closing; the
  /// newest when there are several), or nullptr.
  DeviceConnection* link_of(std::string_view system_id);
  /// Every linked session (welcomed, not closing).
  std::vector<SessionInfo> links() const;
  /// After the operator acted on `connection` (a session action, blackhole,
  /// close_now): sends what it produced, watches it as it now needs, or
  /// drops it when done.
  void serviced(DeviceConnection& connection, Millis now);

 private:
  struct Listener {
    int fd = -1;
    uint16_t port = 0;
    std::string address;
    PortState state = PortState::listening;
  };
  /// A connection with what the loop keeps about it.
  struct Entry {
    std::unique_ptr<DeviceConnection> connection;
    Millis deadline = kNever;  // its place in timers_
    uint32_t interest = 0;     // epoll events watched now
  };
  /// A connection accepted on a stalled port: held unread until the device
  /// gives up or `until`.
  struct Stalled {
    int fd = -1;
    uint16_t port = 0;
    Millis until = 0;
  };

  /// A listening socket on `address` port `port`, or a failure.
  static Result<int> open_listener(const std::string& address, uint16_t port);
  /// Holds an accepted socket without reading it (a stalled port).
  void hold_stalled(int fd, uint16_t port, Millis now);
  /// Closes stalled connections of `port` (every port when 0) or, with
  /// `expired_at`, those held past it; returns the next hold deadline.
  Millis release_stalled(uint16_t port, Millis expired_at = kNever);

  /// Accepts every waiting connection; false when out of descriptors.
  bool accept_all(const Listener& listener, Millis now);
  /// Watches the listening sockets for connections, or stops watching.
  void watch_listeners(bool on);
  /// After anything happened to connection `fd` (or its timer fell due):
  /// runs its timers, files its next deadline, watches for EPOLLOUT while it
  /// has output, and drops it once done.
  void service(int fd, Millis now);
  /// Runs every connection whose deadline has come.
  void run_due_timers(Millis now);
  void stop_all(Millis now);
  /// Services the connections woken meanwhile.
  void service_woken(Millis now);
  /// Runs the extensions' timers; returns the earliest next deadline.
  Millis step_extensions(Millis now);

  ServerContext& context_;
  size_t max_connections_;
  int epoll_fd_ = -1;
  std::vector<Listener> listeners_;
  std::map<int, Entry> connections_;           // by socket
  std::set<std::pair<Millis, int>> timers_;  // (deadline, socket), earliest first
  std::vector<Stalled> stalled_;             // oldest first
  std::vector<LoopExtension*> extensions_;
  std::vector<int> woken_;  // connections to service after the current work (ServerContext::wake)
};

/// Server time: UTC milliseconds from the system clock.
Millis server_now();

}  // namespace sublink
