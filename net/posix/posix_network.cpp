#include "net/posix/posix_network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace sublink {

Status status_from_errno(int err) {
  switch (err) {
    case ECONNREFUSED: return {Reason::connect_refused, err};
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case ENETDOWN: return {Reason::connect_unreachable, err};
    case ETIMEDOUT: return {Reason::connect_timeout, err};
    case ECONNRESET:
    case EPIPE: return {Reason::connection_reset, err};
    default: return {Reason::io_error, err};
  }
}

PosixNetwork::~PosixNetwork() {
  for (auto& s : slots_) {
    if (s.used) release(s);
  }
}

void PosixNetwork::resolve(std::string_view host) {
  resolved_ = AddressList{};
  resolve_pending_ = true;
  IpAddress literal = IpAddress::parse(host);
  if (literal.family != 0) {
    resolved_.add(literal);
    resolve_status_ = Status::Ok();
    return;
  }
  std::string name(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    resolve_status_ = Status(Reason::dns_failed, rc);
    return;
  }
  for (addrinfo* p = res; p; p = p->ai_next) {
    IpAddress a;
    if (p->ai_family == AF_INET) {
      a.family = 4;
      std::memcpy(a.bytes, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, 4);
    } else if (p->ai_family == AF_INET6) {
      a.family = 6;
      std::memcpy(a.bytes, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    bool dup = false;
    for (size_t i = 0; i < resolved_.count; ++i) dup |= resolved_.items[i] == a;
    if (!dup) resolved_.add(a);
  }
  freeaddrinfo(res);
  resolve_status_ = resolved_.count ? Status::Ok() : Status(Reason::dns_failed, EAI_NONAME);
}

void PosixNetwork::deliver_resolve() {
  if (!resolve_pending_) return;
  resolve_pending_ = false;
  if (events_) events_->on_resolved(resolve_status_, resolved_);
}

Status PosixNetwork::open(SocketId id, const IpAddress& address, uint16_t port) {
  Slot* slot = nullptr;
  for (auto& s : slots_) {
    if (!s.used) {
      slot = &s;
      break;
    }
  }
  if (!slot) return {Reason::out_of_memory, 0};
  int family = address.family == 6 ? AF_INET6 : AF_INET;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return status_from_errno(errno);
  int one = 1;
  // Small request/answer messages on a slow link: do not wait for Nagle.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    std::memcpy(&a->sin6_addr, address.bytes, 16);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    std::memcpy(&a->sin_addr, address.bytes, 4);
    len = sizeof *a;
  }
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
  if (rc != 0 && errno != EINPROGRESS) {
    Status st = status_from_errno(errno);
    ::close(fd);
    return st;
  }
  *slot = Slot{true, id, fd, true, false};
  return Status::Ok();
}

PosixNetwork::Slot* PosixNetwork::find(SocketId id) {
  for (auto& s : slots_) {
    if (s.used && s.id == id) return &s;
  }
  return nullptr;
}

void PosixNetwork::release(Slot& s) {
  if (s.fd >= 0) ::close(s.fd);
  s = Slot{};
}

void PosixNetwork::fail(Slot& s, Status status) {
  SocketId id = s.id;
  release(s);
  if (events_) events_->on_socket_error(id, status);
}

Result<size_t> PosixNetwork::send(SocketId id, std::span<const uint8_t> bytes) {
  Slot* s = find(id);
  if (!s || s->connecting) return Status(Reason::invalid_argument, 0);
  if (bytes.empty()) return size_t{0};
  ssize_t n = ::send(s->fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      s->want_write = true;
      return size_t{0};
    }
    return status_from_errno(errno);
  }
  if (static_cast<size_t>(n) < bytes.size()) s->want_write = true;
  return static_cast<size_t>(n);
}

void PosixNetwork::close(SocketId id) {
  if (Slot* s = find(id)) release(*s);
}

bool PosixNetwork::watch(int fd, FdHandler* handler) {
  for (auto& e : extra_) {
    if (e.fd < 0) {
      e = {fd, handler};
      return true;
    }
  }
  return false;
}

void PosixNetwork::unwatch(int fd) {
  for (auto& e : extra_) {
    if (e.fd == fd) e = {};
  }
}

size_t PosixNetwork::open_sockets() const {
  size_t n = 0;
  for (auto& s : slots_) n += s.used;
  return n;
}

void PosixNetwork::wait(Millis timeout_ms) {
  if (resolve_pending_) {
    deliver_resolve();
    timeout_ms = 0;  // the answer may have started work; come back soon
  }
  pollfd fds[kMaxSockets + kMaxExtra];
  SocketId ids[kMaxSockets];
  size_t n = 0;
  for (auto& s : slots_) {
    if (!s.used) continue;
    short ev = POLLIN;
    if (s.connecting || s.want_write) ev = s.connecting ? POLLOUT : (POLLIN | POLLOUT);
    ids[n] = s.id;
    fds[n++] = {s.fd, ev, 0};
  }
  size_t socket_count = n;
  for (auto& e : extra_) {
    if (e.fd >= 0) fds[n++] = {e.fd, POLLIN, 0};
  }
  int t = timeout_ms < 0 ? -1 : (timeout_ms > 60000 ? 60000 : static_cast<int>(timeout_ms));
  int rc = poll(fds, n, t);
  if (rc <= 0) return;
  for (size_t i = 0; i < socket_count; ++i) {
    if (!fds[i].revents) continue;
    // Earlier callbacks may have closed this socket: look it up again.
    Slot* s = find(ids[i]);
    if (!s || s->fd != fds[i].fd) continue;
    if (s->connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        fail(*s, status_from_errno(err));
        continue;
      }
      s->connecting = false;
      if (events_) events_->on_connected(s->id);
      continue;
    }
    if (fds[i].revents & POLLOUT) {
      s->want_write = false;
      if (events_) events_->on_writable(s->id);
      s = find(ids[i]);
      if (!s) continue;
    }
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
      uint8_t buf[16384];
      ssize_t r = recv(s->fd, buf, sizeof buf, 0);
      if (r > 0) {
        if (events_) events_->on_received(s->id, {buf, static_cast<size_t>(r)});
      } else if (r == 0) {
        fail(*s, Status(Reason::connection_closed, 0));
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        fail(*s, status_from_errno(errno));
      }
    }
  }
  for (size_t i = socket_count; i < n; ++i) {
    if (!fds[i].revents) continue;
    for (auto& e : extra_) {
      if (e.fd == fds[i].fd && e.handler) e.handler->on_readable(e.fd);
    }
  }
}

}  // namespace sublink
