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
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hal/status.h"
#include "tools/server/device_connection.h"
#include "tools/server/server_context.h"

namespace sublink {

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

 private:
  struct Listener {
    int fd = -1;
    uint16_t port = 0;
  };
  /// A connection with what the loop keeps about it.
  struct Entry {
    std::unique_ptr<DeviceConnection> connection;
    Millis deadline = kNever;    // its place in timers_
    bool watching_write = false;  // EPOLLOUT is in its epoll interest
  };

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

  ServerContext& context_;
  size_t max_connections_;
  int epoll_fd_ = -1;
  std::vector<Listener> listeners_;
  std::map<int, Entry> connections_;           // by socket
  std::set<std::pair<Millis, int>> timers_;  // (deadline, socket), earliest first
};

/// Server time: UTC milliseconds from the system clock.
Millis server_now();

}  // namespace sublink
