// The reference server's event loop: listening sockets on every configured
// port, one DeviceConnection per accepted socket, all in one poll(2) loop
// with the session timers, until SIGTERM or SIGINT arrives on a signalfd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
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
  void run(int signal_fd);

 private:
  struct Listener {
    int fd = -1;
    uint16_t port = 0;
  };

  void accept_all(const Listener& listener);
  /// Runs every connection's timers; returns the earliest next deadline.
  Millis run_timers(Millis now);
  void drop_finished();

  ServerContext& context_;
  size_t max_connections_;
  std::vector<Listener> listeners_;
  std::map<int, std::unique_ptr<DeviceConnection>> connections_;  // by socket
};

/// Server time: UTC milliseconds from the system clock.
Millis server_now();

}  // namespace sublink
