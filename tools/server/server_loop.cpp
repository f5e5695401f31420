#include "tools/server/server_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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

// "127.0.0.1:5000" or "[::1]:5000".
std::string address_text(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (address.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &a.sin_addr, host, sizeof(host));
    port = ntohs(a.sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto& a = reinterpret_cast<const sockaddr_in6&>(address);
  inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof(host));
  port = ntohs(a.sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

}  // namespace

Millis server_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

ServerLoop::ServerLoop(ServerContext& context, size_t max_connections)
    : context_(context), max_connections_(max_connections) {}

ServerLoop::~ServerLoop() {
  connections_.clear();
  for (const Listener& l : listeners_) ::close(l.fd);
}

Status ServerLoop::listen(const std::string& address, uint16_t port) {
  sockaddr_storage storage{};
  socklen_t size = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    size = sizeof(*v4);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    size = sizeof(*v6);
  } else {
    return Status(Reason::invalid_argument);
  }
  const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(Reason::io_error, errno);
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), size) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    const int err = errno;
    ::close(fd);
    return Status(Reason::io_error, err);
  }
  listeners_.push_back({fd, port});
  return Status::Ok();
}

void ServerLoop::accept_all(const Listener& listener) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t size = sizeof(peer);
    const int fd = ::accept4(listener.fd, reinterpret_cast<sockaddr*>(&peer), &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        context_.log.write(LogLevel::error, "accept on port %u: %s", static_cast<unsigned>(listener.port),
                           strerror(errno));
      }
      return;  // EAGAIN: all taken; anything else: try again at the next wake
    }
    if (connections_.size() >= max_connections_) {
      context_.log.write(LogLevel::warning, "%s: refused, %zu connections already", address_text(peer).c_str(),
                         connections_.size());
      ::close(fd);
      continue;
    }
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    connections_[fd] = std::make_unique<DeviceConnection>(context_, fd, address_text(peer), listener.port,
                                                          server_now());
  }
}

Millis ServerLoop::run_timers(Millis now) {
  Millis next = kNever;
  for (auto& [fd, connection] : connections_) next = std::min(next, connection->step(now));
  return next;
}

void ServerLoop::drop_finished() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    it = it->second->done() ? connections_.erase(it) : std::next(it);
  }
}

void ServerLoop::run(int signal_fd) {
  std::vector<pollfd> fds;
  bool stopping = false;
  Millis stop_until = kNever;
  for (;;) {
    const Millis now = server_now();
    const Millis next = run_timers(now);
    drop_finished();
    if (stopping && (connections_.empty() || now >= stop_until)) break;

    fds.clear();
    fds.push_back({signal_fd, POLLIN, 0});
    if (!stopping) {
      for (const Listener& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
    }
    const size_t first_connection = fds.size();
    for (const auto& [fd, connection] : connections_) {
      fds.push_back({fd, static_cast<short>(POLLIN | (connection->wants_write() ? POLLOUT : 0)), 0});
    }
    const Millis wait = std::clamp<Millis>(next == kNever ? kLongestWaitMs : next - now, 0, kLongestWaitMs);
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(wait));
    if (ready <= 0) continue;

    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
        if (!stopping) {
          context_.log.write(LogLevel::notice, "stopping (signal %u): closing %zu connections", info.ssi_signo,
                             connections_.size());
          stopping = true;
          stop_until = server_now() + kStopWaitMs;
          for (auto& [fd, connection] : connections_) connection->shut_down(server_now());
        }
      }
    }
    const Millis at = server_now();
    for (size_t i = 1; i < first_connection; ++i) {
      if (fds[i].revents & POLLIN) {
        for (const Listener& l : listeners_) {
          if (l.fd == fds[i].fd) accept_all(l);
        }
      }
    }
    for (size_t i = first_connection; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto it = connections_.find(fds[i].fd);
      if (it == connections_.end()) continue;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) it->second->on_readable(at);
      if (fds[i].revents & POLLOUT) it->second->on_writable(at);
    }
  }
  connections_.clear();
}

}  // namespace sublink
