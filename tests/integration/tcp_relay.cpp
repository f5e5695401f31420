#include "integration/tcp_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "support/process.h"

namespace sublink::test {

namespace {

// Copies what `from` has to `to`; false when `from` ended or failed.
bool pump(int from, int to) {
  char buffer[16 * 1024];
  const ssize_t n = ::recv(from, buffer, sizeof(buffer), MSG_DONTWAIT);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  ssize_t sent = 0;
  while (sent < n) {
    const ssize_t m = ::send(to, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
    if (m <= 0) return false;
    sent += m;
  }
  return true;
}

}  // namespace

TcpRelay::TcpRelay(int target_port) : target_port_(target_port) {
  listen_fd_ = listen_on_loopback(port_);
  thread_ = std::thread([this] { run(); });
}

TcpRelay::~TcpRelay() {
  stop_ = true;
  thread_.join();
  for (const Pair& p : pairs_) {
    if (p.device >= 0) ::close(p.device);
    ::close(p.server);
  }
  for (int fd : held_) ::close(fd);
  ::close(listen_fd_);
}

void TcpRelay::cut_device_side() {
  cut_ = true;
  while (cut_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void TcpRelay::run() {
  while (!stop_) {
    if (cut_) {
      for (const Pair& p : pairs_) {
        // SO_LINGER 0: close(2) resets the device's connection at once.
        const linger abort{1, 0};
        setsockopt(p.device, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
        ::close(p.device);
        held_.push_back(p.server);
      }
      pairs_.clear();
      cut_ = false;
    }
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    for (const Pair& p : pairs_) {
      fds.push_back({p.device, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    // Only the pairs polled have results in fds; one accepted below waits
    // for the next round.
    const size_t polled = pairs_.size();
    if (fds[0].revents & POLLIN) {
      const int device = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (device >= 0) {
        const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in target = loopback_address(target_port_);
        if (::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof(target)) == 0) {
          pairs_.push_back({device, server});
          ++accepted_;
        } else {
          ::close(server);
          ::close(device);
        }
      }
    }
    std::vector<Pair> keep(pairs_.begin() + static_cast<std::ptrdiff_t>(polled), pairs_.end());
    for (size_t i = 0; i < polled; ++i) {
      const Pair& p = pairs_[i];
      const pollfd& d = fds[1 + 2 * i];
      const pollfd& s = fds[2 + 2 * i];
      bool open = true;
      if (d.revents & (POLLIN | POLLHUP | POLLERR)) open = pump(p.device, p.server);
      if (open && (s.revents & (POLLIN | POLLHUP | POLLERR))) open = pump(p.server, p.device);
      if (open) {
        keep.push_back(p);
      } else {
        ::close(p.device);
        ::close(p.server);
      }
    }
    pairs_ = std::move(keep);
  }
}

}  // namespace sublink::test
