#include "linux_util/control/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sublink {

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool ControlClient::connect(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    error = "control socket path too long: " + path;
    return false;
  }
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error = std::string("cannot create a socket: ") + strerror(errno);
    return false;
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      error = program_ + " is not running (nothing listening on " + path + ")";
    } else if (err == EACCES || err == EPERM) {
      error = "no permission to reach " + path + " (run as " + program_ + "'s user or root)";
    } else {
      error = "cannot reach " + path + ": " + strerror(err);
    }
    return false;
  }
  return true;
}

bool ControlClient::send(std::string_view request, std::string& error) {
  std::string line(request);
  line += '\n';
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::send(fd_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = program_ + " hung up: " + strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool ControlClient::read_line(std::string& line, Millis timeout_ms, std::string& error) {
  for (;;) {
    size_t nl = pending_.find('\n');
    if (nl != std::string::npos) {
      line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return true;
    }
    if (pending_.size() > max_answer_) {
      error = program_ + "'s answer is too long";
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms < 0 ? -1 : static_cast<int>(timeout_ms));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      error = program_ + " did not answer in time";
      return false;
    }
    char buf[2048];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = program_ + " closed the connection";
      return false;
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace sublink
