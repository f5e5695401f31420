#include "net/posix/posix_network.h"

#include "net/posix/posix_lookups.h"

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
  for (auto& l : lookups_) {
    if (l.id != 0) cancel_resolve(l.id);
  }
}

Result<ResolveId> PosixNetwork::resolve(std::string_view host, SocketEvents& owner) {
  Lookup* lookup = nullptr;
  for (auto& l : lookups_) {
    if (l.id == 0) {
      lookup = &l;
      break;
    }
  }
  if (!lookup) return Status(Reason::out_of_memory, static_cast<int32_t>(kMaxLookups));
  *lookup = Lookup{};
  lookup->id = next_lookup_++;
  if (next_lookup_ == 0) next_lookup_ = 1;
  lookup->owner = &owner;
  const IpAddress literal = IpAddress::parse(host);
  if (literal.family != 0) {
    lookup->addresses.add(literal);
  } else if (host.size() > kMaxPosixLookupName) {
    // No resolver takes such a name: it does not exist, and asking again
    // will not change that (not EAI_AGAIN, "try again").
    lookup->slot = -1;
    lookup->status = Status(Reason::dns_failed, EAI_NONAME);
  } else {
    lookup->slot = posix_lookup_start(host);
    // No record free: a temporary failure, the next round asks again.
    if (lookup->slot < 0) lookup->status = Status(Reason::dns_failed, EAI_AGAIN);
  }
  return lookup->id;
}

void PosixNetwork::cancel_resolve(ResolveId id) {
  Lookup* l = find_lookup(id);
  if (!l) return;
  if (l->slot >= 0) posix_lookup_abandon(l->slot);
  *l = Lookup{};
}

PosixNetwork::Lookup* PosixNetwork::find_lookup(ResolveId id) {
  if (id == 0) return nullptr;
  for (auto& l : lookups_) {
    if (l.id == id) return &l;
  }
  return nullptr;
}

size_t PosixNetwork::pending_lookups() const {
  size_t n = 0;
  for (auto& l : lookups_) n += l.id != 0;
  return n;
}

bool PosixNetwork::deliver_answers() {
  bool delivered = false;
  for (auto& l : lookups_) {
    if (l.id == 0) continue;
    if (l.slot >= 0 && !posix_lookup_collect(l.slot, l.status, l.addresses)) continue;
    // Free the lookup before the owner hears: it may start the next one.
    const Lookup answer = l;
    l = Lookup{};
    answer.owner->on_resolved(answer.id, answer.status, answer.addresses);
    delivered = true;
  }
  return delivered;
}

Result<SocketId> PosixNetwork::open(const IpAddress& address, uint16_t port, SocketEvents& owner) {
  Slot* slot = nullptr;
  for (auto& s : slots_) {
    if (!s.used) {
      slot = &s;
      break;
    }
  }
  if (!slot) return Status(Reason::out_of_memory, static_cast<int32_t>(kMaxSockets));
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
  const SocketId id = next_socket_++;
  if (next_socket_ == 0) next_socket_ = 1;
  *slot = Slot{true, id, fd, true, false, false, false, &owner};
  return id;
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
  const SocketId id = s.id;
  SocketEvents* owner = s.owner;
  release(s);
  owner->on_socket_error(id, status);
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

void PosixNetwork::set_receiving(SocketId id, bool on) {
  if (Slot* s = find(id)) s->paused = !on;
}

void PosixNetwork::shutdown_send(SocketId id) {
  if (Slot* s = find(id); s != nullptr && !s->connecting) (void)::shutdown(s->fd, SHUT_WR);
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
  if (deliver_answers()) timeout_ms = 0;  // an answer may have started work; come back soon
  pollfd fds[kMaxSockets + kMaxExtra + 1];
  SocketId ids[kMaxSockets];
  size_t n = 0;
  for (auto& s : slots_) {
    if (!s.used) continue;
    short ev = s.paused || s.read_done ? 0 : POLLIN;
    if (s.connecting || s.want_write) ev = s.connecting ? POLLOUT : static_cast<short>(ev | POLLOUT);
    ids[n] = s.id;
    // A paused socket with nothing to wait for is left out (a negative fd
    // is skipped by poll): its hang-up would otherwise wake the loop at once.
    fds[n++] = {ev == 0 ? -1 : s.fd, ev, 0};
  }
  size_t socket_count = n;
  for (auto& e : extra_) {
    if (e.fd >= 0) fds[n++] = {e.fd, POLLIN, 0};
  }
  const size_t extra_end = n;
  // A lookup that ends wakes the loop; abandoned ones too, so their
  // records are freed.
  const bool lookups_running = posix_lookups_running();
  const int wake_fd = lookups_running ? posix_lookup_wake_fd() : -1;
  if (wake_fd >= 0) fds[n++] = {wake_fd, POLLIN, 0};
  int t = timeout_ms < 0 ? -1 : (timeout_ms > 60000 ? 60000 : static_cast<int>(timeout_ms));
  // Without a wake-up descriptor, look at running lookups every 50 ms.
  if (lookups_running && wake_fd < 0 && (t < 0 || t > 50)) t = 50;
  int rc = poll(fds, n, t);
  if (rc <= 0) {
    if (lookups_running && wake_fd < 0) deliver_answers();
    return;
  }
  for (size_t i = 0; i < socket_count; ++i) {
    if (!fds[i].revents) continue;
    // Earlier callbacks may have closed this socket: look it up again.
    Slot* s = find(ids[i]);
    if (!s || s->fd != fds[i].fd || fds[i].fd < 0) continue;
    if (s->connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        fail(*s, status_from_errno(err));
        continue;
      }
      s->connecting = false;
      s->owner->on_connected(s->id);
      continue;
    }
    if (fds[i].revents & POLLOUT) {
      s->want_write = false;
      s->owner->on_writable(s->id);
      s = find(ids[i]);
      if (!s) continue;
    }
    if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) && !s->paused && !s->read_done) {
      uint8_t buf[kSocketMaxReceive];
      ssize_t r = recv(s->fd, buf, sizeof buf, 0);
      if (r > 0) {
        s->owner->on_received(s->id, {buf, static_cast<size_t>(r)});
      } else if (r == 0) {
        s->read_done = true;
        const bool half_open = s->owner->on_peer_finished(s->id);
        s = find(ids[i]);
        if (s != nullptr && !half_open) fail(*s, Status(Reason::connection_closed, 0));
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        fail(*s, status_from_errno(errno));
      }
    }
  }
  for (size_t i = socket_count; i < extra_end; ++i) {
    if (!fds[i].revents) continue;
    for (auto& e : extra_) {
      if (e.fd == fds[i].fd && e.handler) e.handler->on_readable(e.fd);
    }
  }
  if (wake_fd >= 0 && fds[extra_end].revents) {
    posix_lookup_drain_wake();
    deliver_answers();
  }
}

}  // namespace sublink
