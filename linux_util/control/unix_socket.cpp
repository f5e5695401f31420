#include "linux_util/control/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sublink {

namespace {

std::string errno_text(const char* what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + strerror(err);
}

// True when something answers on the UNIX socket at `addr`: another
// instance owns it.
bool socket_answers(const sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool answers = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return answers;
}

}  // namespace

Result<int> listen_control_socket(const std::string& path, std::string_view program, std::string& error) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    error = "the control socket path is too long: " + path;
    return Status(Reason::invalid_argument);
  }
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = path + " exists and is not a socket; not replacing it";
      return Status(Reason::invalid_argument);
    }
    if (socket_answers(addr)) {
      error = "another " + std::string(program) + " is running on " + path;
      return Status(Reason::invalid_argument);
    }
    ::unlink(path.c_str());  // stale: left by a process that did not stop cleanly
  }

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("cannot create the control socket", path, errno);
    return Status(Reason::io_error, errno);
  }
  // Created 0600 from the start (umask), not chmod'ed after: no window in
  // which another user could connect.
  mode_t old_mask = ::umask(0177);
  int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0 || ::listen(fd, 8) != 0) {
    int err = bound != 0 ? bind_errno : errno;
    ::close(fd);
    if (bound == 0) ::unlink(path.c_str());
    error = errno_text("cannot listen on", path, err);
    return Status(Reason::io_error, err);
  }
  return fd;
}

bool control_peer_allowed(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  return ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && (cred.uid == ::geteuid() || cred.uid == 0);
}

}  // namespace sublink
