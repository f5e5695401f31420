#include "boards/host/sublinkd/control_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "boards/host/control/control_protocol.h"

namespace sublink {

namespace {

std::string errno_text(const char* what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + strerror(err);
}

// True when something answers on the UNIX socket at `path`: another agent
// owns this state directory.
bool socket_answers(const sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool answers = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return answers;
}

}  // namespace

ControlServer::ControlServer(PosixNetwork& loop, ControlCommands& commands) : loop_(loop), commands_(commands) {}

ControlServer::~ControlServer() {
  for (Client& c : clients_) {
    if (c.fd >= 0) drop(c);
  }
  if (listen_fd_ >= 0) {
    loop_.unwatch(listen_fd_);
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
}

Status ControlServer::listen(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    error = "state_dir is too long for the control socket " + path;
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
      error = "another sublinkd is running on " + path;
      return Status(Reason::invalid_argument);
    }
    ::unlink(path.c_str());  // stale: left by an agent that did not stop cleanly
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
    error = errno_text("cannot listen on", path, err);
    return Status(Reason::io_error, err);
  }
  if (!loop_.watch(fd, this)) {
    ::close(fd);
    ::unlink(path.c_str());
    error = "the poll loop has no room for the control socket";
    return Status(Reason::out_of_memory);
  }
  listen_fd_ = fd;
  path_ = path;
  return Status::Ok();
}

size_t ControlServer::clients() const {
  size_t n = 0;
  for (const Client& c : clients_) n += c.fd >= 0 ? 1 : 0;
  return n;
}

void ControlServer::on_readable(int fd) {
  if (fd == listen_fd_) {
    accept_clients();
    return;
  }
  for (Client& c : clients_) {
    if (c.fd == fd) {
      serve(c);
      return;
    }
  }
}

void ControlServer::accept_clients() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: all taken; anything else: the client went away
    // The socket's mode already limits who connects; the peer's uid is
    // checked as well so a socket moved or re-permissioned by mistake does
    // not open the agent to other users.
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != ::geteuid() && cred.uid != 0)) {
      static const char kRefused[] = "{\"ok\":false,\"error\":\"not allowed: another user\"}\n";
      (void)!::send(fd, kRefused, sizeof(kRefused) - 1, MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    Client* slot = nullptr;
    for (Client& c : clients_) {
      if (c.fd < 0) {
        slot = &c;
        break;
      }
    }
    if (slot == nullptr || !loop_.watch(fd, this)) {
      static const char kBusy[] = "{\"ok\":false,\"error\":\"busy: too many control clients\"}\n";
      (void)!::send(fd, kBusy, sizeof(kBusy) - 1, MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    slot->fd = fd;
    slot->watching = false;
    slot->input.clear();
  }
}

void ControlServer::serve(Client& c) {
  char buf[512];
  ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    drop(c);
    return;
  }
  if (n < 0) return;
  if (c.watching) return;  // a watcher has nothing more to ask
  c.input.append(buf, static_cast<size_t>(n));
  size_t nl = c.input.find('\n');
  if (nl == std::string::npos) {
    if (c.input.size() > kMaxControlRequest) {
      write_line(c, "{\"ok\":false,\"error\":\"request line too long\"}");
      drop(c);
    }
    return;
  }
  std::string request = c.input.substr(0, nl);
  if (!request.empty() && request.back() == '\r') request.pop_back();
  bool subscribe = false;
  std::string answer = commands_.answer(request, subscribe);
  if (!write_line(c, answer)) return;
  if (subscribe) {
    c.watching = true;
  } else {
    drop(c);
  }
}

void ControlServer::broadcast(std::string_view line) {
  for (Client& c : clients_) {
    if (c.fd >= 0 && c.watching) write_line(c, line);
  }
}

bool ControlServer::write_line(Client& c, std::string_view line) {
  std::string out(line);
  out += '\n';
  // Lines are small next to a UNIX socket's buffer; a short write means the
  // client stopped reading, and the agent does not wait for it.
  ssize_t n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n != static_cast<ssize_t>(out.size())) {
    drop(c);
    return false;
  }
  return true;
}

void ControlServer::drop(Client& c) {
  loop_.unwatch(c.fd);
  ::close(c.fd);
  c.fd = -1;
  c.watching = false;
  c.input.clear();
}

}  // namespace sublink
