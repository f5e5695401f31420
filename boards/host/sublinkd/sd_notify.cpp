#include "boards/host/sublinkd/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace sublink {

SdNotifier::SdNotifier() {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  if (usec != nullptr && (pid == nullptr || std::strtoll(pid, nullptr, 10) == static_cast<long long>(getpid()))) {
    char* end = nullptr;
    const long long v = std::strtoll(usec, &end, 10);
    if (*usec != '\0' && *end == '\0' && v > 0) watchdog_ms_ = static_cast<Millis>(v / 1000 > 0 ? v / 1000 : 1);
  }
  if (socket_name != nullptr && (socket_name[0] == '/' || socket_name[0] == '@') &&
      std::strlen(socket_name) < sizeof(sockaddr_un{}.sun_path)) {
    address_ = socket_name;
    if (address_[0] == '@') address_[0] = '\0';
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  if (fd_ < 0) watchdog_ms_ = 0;  // nobody to tell
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

SdNotifier::~SdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

bool SdNotifier::notify(std::string_view state) {
  if (fd_ < 0) return false;
  sockaddr_un to{};
  to.sun_family = AF_UNIX;
  std::memcpy(to.sun_path, address_.data(), address_.size());
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  ssize_t n;
  do {
    n = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to), length);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(state.size());
}

Millis SdNotifier::keep_alive(Millis now) {
  if (watchdog_ms_ == 0) return kNever;
  if (now >= next_watchdog_) {
    (void)notify("WATCHDOG=1");
    // Half the interval, as sd_watchdog_enabled(3) advises: a late loop
    // turn still makes it in time.
    next_watchdog_ = now + watchdog_ms_ / 2;
  }
  return next_watchdog_;
}

}  // namespace sublink
