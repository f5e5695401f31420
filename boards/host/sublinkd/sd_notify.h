// The service manager's notification protocol (sd_notify(3)), written here:
// one datagram of "NAME=VALUE" lines to the AF_UNIX socket named by
// $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace). sublinkd
// says READY=1 once it serves (unit Type=notify), WATCHDOG=1 at half the
// interval systemd asks for ($WATCHDOG_USEC, WatchdogSec=), and STOPPING=1
// when it stops. Without $NOTIFY_SOCKET (a terminal, a test) it is silent.
#pragma once

#include <string>
#include <string_view>

#include "hal/clock.h"

namespace sublink {

class SdNotifier {
 public:
  /// Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (a watchdog
  /// meant for another process is not ours), then unsets them so children
  /// do not inherit them.
  SdNotifier();
  ~SdNotifier();
  SdNotifier(const SdNotifier&) = delete;
  SdNotifier& operator=(const SdNotifier&) = delete;

  /// True when a service manager listens.
  bool enabled() const { return fd_ >= 0; }
  /// The watchdog interval in ms, 0 when none was asked for.
  Millis watchdog_ms() const { return watchdog_ms_; }

  /// Sends `state` ("READY=1", "STOPPING=1", "STATUS=..."); false when no
  /// manager listens or the datagram was not taken.
  bool notify(std::string_view state);

  /// Sends WATCHDOG=1 when it is due at `now`; returns when to call again
  /// (kNever without a watchdog).
  Millis keep_alive(Millis now);

 private:
  int fd_ = -1;
  std::string address_;  // the socket path; a leading NUL for the abstract namespace
  Millis watchdog_ms_ = 0;
  Millis next_watchdog_ = 0;
};

}  // namespace sublink
