#include "boards/host/sublinkd/control_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "linux_util/control/control_protocol.h"
#include "linux_util/control/unix_socket.h"

namespace sublink {

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
  Result<int> fd = listen_control_socket(path, "sublinkd", error);
  if (!fd.ok()) return fd.status();
  if (!loop_.watch(*fd, this)) {
    ::close(*fd);
    ::unlink(path.c_str());
    error = "the poll loop has no room for the control socket";
    return Status(Reason::out_of_memory);
  }
  listen_fd_ = *fd;
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
    if (!control_peer_allowed(fd)) {
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
