#include "tools/server/server_loop.h"
#include "hal/posix/system_clock.h"
#include "tools/server/tcp_listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace sublink {

namespace {

// The loop wakes at least this often, so a clock step is noticed soon.
constexpr Millis kLongestWaitMs = 1000;
// How long stopping waits for devices to finish the close handshake.
constexpr Millis kStopWaitMs = 2000;
// Out of descriptors: how long accepting pauses (a ready listener would
// otherwise wake the loop at once, again and again).
constexpr Millis kAcceptPauseMs = 1000;
// Sockets handled per epoll_wait; more ready ones wait for the next call.
constexpr int kEventsPerWake = 256;
// listen(2) backlog; the kernel caps it at net.core.somaxconn.
constexpr int kListenBacklog = 65535;

}  // namespace

Millis server_now() { return system_utc_ms(); }

ServerLoop::ServerLoop(ServerContext& context, size_t max_connections)
    : context_(context), max_connections_(max_connections) {
  context_.wake = [this](DeviceConnection& connection) { woken_.push_back(connection.fd()); };
}

ServerLoop::~ServerLoop() {
  context_.wake = nullptr;
  connections_.clear();
  release_stalled(0);
  for (const Listener& l : listeners_) {
    if (l.fd >= 0) ::close(l.fd);
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status ServerLoop::listen(const std::string& address, uint16_t port) {
  Result<int> fd = open_listener(address, port);
  if (!fd.ok()) return fd.status();
  listeners_.push_back({*fd, port, address, PortState::listening});
  return Status::Ok();
}

Result<int> ServerLoop::open_listener(const std::string& address, uint16_t port) {
  // A fleet reconnecting at once (after a server restart) must not find the
  // queue full: ask for the most the kernel gives (net.core.somaxconn).
  return open_tcp_listener(address, port, kListenBacklog);
}

bool ServerLoop::accept_all(const Listener& listener, Millis now) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t size = sizeof(peer);
    const int fd = ::accept4(listener.fd, reinterpret_cast<sockaddr*>(&peer), &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        context_.log.write(LogLevel::error, "accept on port %u: %s (accepting again in %lld ms)",
                           static_cast<unsigned>(listener.port), strerror(errno),
                           static_cast<long long>(kAcceptPauseMs));
        return false;
      }
      return true;  // EAGAIN: all taken; anything else: try again at the next wake
    }
    if (listener.state == PortState::stalled) {
      hold_stalled(fd, listener.port, now);
      continue;
    }
    if (connections_.size() + stalled_.size() >= max_connections_) {
      context_.log.write(LogLevel::warning, "%s: refused, %zu connections already", socket_address_text(peer).c_str(),
                         connections_.size());
      ::close(fd);
      continue;
    }
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    Entry& entry = connections_[fd];
    entry.connection = std::make_unique<DeviceConnection>(context_, fd, socket_address_text(peer), listener.port, now);
    entry.interest = EPOLLIN;
    epoll_event interest{};
    interest.events = entry.interest;
    interest.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &interest) != 0) {
      context_.log.write(LogLevel::error, "cannot watch a connection: %s", strerror(errno));
      connections_.erase(fd);
      continue;
    }
    service(fd, now);
  }
}

void ServerLoop::watch_listeners(bool on) {
  for (const Listener& l : listeners_) {
    if (l.fd < 0) continue;  // stopped
    epoll_event interest{};
    interest.events = on ? static_cast<uint32_t>(EPOLLIN) : 0u;
    interest.data.fd = l.fd;
    (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, l.fd, &interest);
  }
}

void ServerLoop::service(int fd, Millis now) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Entry& entry = it->second;
  const Millis next = entry.connection->step(now);
  if (entry.deadline != kNever) timers_.erase({entry.deadline, fd});
  entry.deadline = kNever;
  if (entry.connection->done()) {
    connections_.erase(it);  // closing the socket also takes it out of the epoll set
    return;
  }
  if (next != kNever) {
    entry.deadline = next;
    timers_.insert({next, fd});
  }
  // A blackholed connection is neither read nor written, only watched for
  // the device going away.
  const uint32_t want = entry.connection->blackholed()
                            ? static_cast<uint32_t>(EPOLLRDHUP)
                            : EPOLLIN | (entry.connection->wants_write() ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  if (want != entry.interest) {
    epoll_event interest{};
    interest.events = want;
    interest.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &interest) == 0) entry.interest = want;
  }
}

void ServerLoop::service_woken(Millis now) {
  // A woken connection may wake another while serviced: take turns until quiet.
  while (!woken_.empty()) {
    std::vector<int> fds;
    fds.swap(woken_);
    for (int fd : fds) service(fd, now);
  }
}

void ServerLoop::run_due_timers(Millis now) {
  // Collected first: a connection whose timer is due again at once waits
  // for the next wake instead of spinning here.
  std::vector<int> due;
  for (auto t = timers_.begin(); t != timers_.end() && t->first <= now; ++t) due.push_back(t->second);
  for (int fd : due) service(fd, now);
}

void ServerLoop::stop_all(Millis now) {
  std::vector<int> fds;
  fds.reserve(connections_.size());
  for (const auto& [fd, entry] : connections_) fds.push_back(fd);
  for (int fd : fds) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) continue;
    it->second.connection->shut_down(now);
    service(fd, now);
  }
}

Status ServerLoop::run(int signal_fd) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Status(Reason::io_error, errno);
  std::vector<int> watched{signal_fd};
  for (const Listener& l : listeners_) watched.push_back(l.fd);
  for (const LoopExtension* e : extensions_) watched.push_back(e->watch_fd());
  for (int fd : watched) {
    epoll_event interest{};
    interest.events = EPOLLIN;
    interest.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &interest) != 0) return Status(Reason::io_error, errno);
  }

  bool stopping = false;
  Millis stop_until = kNever;
  Millis accept_paused_until = kNever;
  epoll_event events[kEventsPerWake];
  for (;;) {
    const Millis now = server_now();
    run_due_timers(now);
    const Millis extension_next = step_extensions(now);
    const Millis stalled_next = release_stalled(0, now);
    if (stopping && (connections_.empty() || now >= stop_until)) break;
    if (accept_paused_until != kNever && now >= accept_paused_until && !stopping) {
      accept_paused_until = kNever;
      watch_listeners(true);
    }
    Millis next = timers_.empty() ? kNever : timers_.begin()->first;
    next = std::min({next, accept_paused_until, extension_next, stalled_next});
    const Millis wait = std::clamp<Millis>(next == kNever ? kLongestWaitMs : next - now, 0, kLongestWaitMs);
    const int ready = ::epoll_wait(epoll_fd_, events, kEventsPerWake, static_cast<int>(wait));
    if (ready < 0 && errno != EINTR) {
      context_.log.write(LogLevel::error, "epoll_wait: %s", strerror(errno));
      break;
    }
    const Millis at = server_now();
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == signal_fd) {
        signalfd_siginfo info{};
        while (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
          if (stopping) continue;
          context_.log.write(LogLevel::notice, "stopping (signal %u): closing %zu connections", info.ssi_signo,
                             connections_.size());
          stopping = true;
          stop_until = at + kStopWaitMs;
          watch_listeners(false);
          stop_all(at);
        }
        continue;
      }
      const auto listener = std::find_if(listeners_.begin(), listeners_.end(),
                                         [fd](const Listener& l) { return l.fd == fd; });
      if (listener != listeners_.end()) {
        if (!stopping && accept_paused_until == kNever && !accept_all(*listener, at)) {
          accept_paused_until = at + kAcceptPauseMs;
          watch_listeners(false);
        }
        continue;
      }
      const auto extension = std::find_if(extensions_.begin(), extensions_.end(),
                                          [fd](const LoopExtension* e) { return e->watch_fd() == fd; });
      if (extension != extensions_.end()) {
        (*extension)->on_ready(at);
        continue;
      }
      auto it = connections_.find(fd);
      if (it == connections_.end()) continue;  // closed earlier in this wake
      if (it->second.connection->blackholed()) {
        // Only its end is watched (input read before the blackhole began
        // may still be reported in this wake: it waits unread).
        if (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
          it->second.connection->close_now(at, "device_left_while_blackholed", false);
          service(fd, at);
        }
        continue;
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) it->second.connection->on_readable(at);
      if (events[i].events & EPOLLOUT) it->second.connection->on_writable(at);
      service(fd, at);
    }
    service_woken(at);
  }
  connections_.clear();
  timers_.clear();
  release_stalled(0);
  ::close(epoll_fd_);
  epoll_fd_ = -1;
  return Status::Ok();
}

Millis ServerLoop::step_extensions(Millis now) {
  Millis next = kNever;
  for (LoopExtension* e : extensions_) next = std::min(next, e->step(now));
  return next;
}

// ---- The operator's controls ------------------------------------------------------

void ServerLoop::hold_stalled(int fd, uint16_t port, Millis now) {
  if (connections_.size() + stalled_.size() >= max_connections_) {
    ::close(fd);
    return;
  }
  // Held, not read: the device's TLS handshake goes unanswered until its
  // connect timeout gives up. The hello timeout bounds how long we keep it.
  stalled_.push_back({fd, port, now + context_.session.hello_timeout_ms});
  context_.log.write(LogLevel::info, "port %u is stalled: holding a connection unanswered",
                     static_cast<unsigned>(port));
}

Millis ServerLoop::release_stalled(uint16_t port, Millis expired_at) {
  Millis next = kNever;
  auto keep = stalled_.begin();
  for (Stalled& held : stalled_) {
    const bool release = expired_at == kNever ? (port == 0 || held.port == port) : held.until <= expired_at;
    if (release) {
      ::close(held.fd);
    } else {
      next = std::min(next, held.until);
      *keep++ = held;
    }
  }
  stalled_.erase(keep, stalled_.end());
  return next;
}

Status ServerLoop::control_port(uint16_t port, PortAction action) {
  auto l = std::find_if(listeners_.begin(), listeners_.end(), [port](const Listener& x) { return x.port == port; });
  if (l == listeners_.end()) return Status(Reason::invalid_argument);
  switch (action) {
    case PortAction::stop:
      // Closing the socket is what a port that is down looks like: the
      // kernel refuses connects (RST) instead of queueing them.
      if (l->fd >= 0) ::close(l->fd);  // also leaves the epoll set
      l->fd = -1;
      l->state = PortState::stopped;
      release_stalled(port);
      break;
    case PortAction::start:
      if (l->fd < 0) {
        Result<int> fd = open_listener(l->address, port);
        if (!fd.ok()) return fd.status();
        if (epoll_fd_ >= 0) {
          epoll_event interest{};
          interest.events = EPOLLIN;
          interest.data.fd = *fd;
          if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, *fd, &interest) != 0) {
            const int err = errno;
            ::close(*fd);
            return Status(Reason::io_error, err);
          }
        }
        l->fd = *fd;
      }
      l->state = PortState::listening;
      break;
    case PortAction::stall:
      if (l->fd < 0) return Status(Reason::invalid_argument, 1);  // stopped: start it first
      l->state = PortState::stalled;
      break;
    case PortAction::normal:
      if (l->state == PortState::stalled) l->state = PortState::listening;
      release_stalled(port);
      break;
  }
  context_.log.write(LogLevel::notice, "port %u: %s (operator)", static_cast<unsigned>(port),
                     port_action_name(action));
  return Status::Ok();
}

std::optional<PortState> ServerLoop::port_state(uint16_t port) const {
  for (const Listener& l : listeners_) {
    if (l.port == port) return l.state;
  }
  return std::nullopt;
}

DeviceConnection* ServerLoop::link_of(std::string_view system_id) {
  DeviceConnection* newest = nullptr;
  Millis newest_since = 0;
  for (auto& [fd, entry] : connections_) {
    ServerSession* session = entry.connection->session();
    if (session == nullptr || !session->welcomed() || session->closing() || session->system_id() != system_id) {
      continue;
    }
    const Millis since = session->info().connected_since.value_or(0);
    if (newest == nullptr || since >= newest_since) {
      newest = entry.connection.get();
      newest_since = since;
    }
  }
  return newest;
}

std::vector<SessionInfo> ServerLoop::links() const {
  std::vector<SessionInfo> out;
  for (const auto& [fd, entry] : connections_) {
    const ServerSession* session = entry.connection->session();
    if (session != nullptr && session->welcomed() && !session->closing()) out.push_back(session->info());
  }
  return out;
}

void ServerLoop::serviced(DeviceConnection& connection, Millis now) { service(connection.fd(), now); }

}  // namespace sublink
