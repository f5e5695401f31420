#include "tools/server/admin_socket.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "linux_util/control/unix_socket.h"

namespace sublink {

namespace {

// Sent to a client refused before its request is read.
void refuse(int fd, const char* line) {
  (void)!::send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

}  // namespace

AdminSocket::~AdminSocket() {
  std::vector<AdminClientId> ids;
  for (const auto& [id, c] : clients_) ids.push_back(id);
  for (AdminClientId id : ids) drop(id);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status AdminSocket::listen(const std::string& path, std::string& error) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    error = std::string("cannot create an epoll set: ") + strerror(errno);
    return Status(Reason::io_error, errno);
  }
  Result<int> fd = listen_control_socket(path, "sublink-server", error);
  if (!fd.ok()) return fd.status();
  epoll_event interest{};
  interest.events = EPOLLIN;
  interest.data.u64 = 0;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, *fd, &interest) != 0) {
    const int err = errno;
    ::close(*fd);
    ::unlink(path.c_str());
    error = std::string("cannot watch the control socket: ") + strerror(err);
    return Status(Reason::io_error, err);
  }
  listen_fd_ = *fd;
  path_ = path;
  return Status::Ok();
}

void AdminSocket::on_ready(Millis now) {
  epoll_event events[32];
  const int ready = ::epoll_wait(epoll_fd_, events, 32, 0);
  for (int i = 0; i < ready; ++i) {
    const AdminClientId id = events[i].data.u64;
    if (id == 0) {
      accept_clients(now);
      continue;
    }
    auto it = clients_.find(id);
    if (it == clients_.end()) continue;
    if (!it->second.output.empty()) {
      write_answer(id);
    } else {
      read_request(id, now);
    }
  }
}

Millis AdminSocket::step(Millis now) {
  Millis next = kNever;
  std::vector<AdminClientId> late;
  for (const auto& [id, c] : clients_) {
    if (c.deadline <= now) {
      late.push_back(id);
    } else {
      next = std::min(next, c.deadline);
    }
  }
  for (AdminClientId id : late) drop(id);
  return next;
}

void AdminSocket::accept_clients(Millis now) {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: all taken; anything else: the client went away
    if (!control_peer_allowed(fd)) {
      refuse(fd, "{\"ok\":false,\"error\":\"not allowed: another user\"}\n");
      continue;
    }
    if (clients_.size() >= kMaxClients) {
      refuse(fd, "{\"ok\":false,\"error\":\"busy: too many operator connections\"}\n");
      continue;
    }
    const AdminClientId id = next_id_++;
    epoll_event interest{};
    interest.events = EPOLLIN;
    interest.data.u64 = id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &interest) != 0) {
      ::close(fd);
      continue;
    }
    Client& c = clients_[id];
    c.fd = fd;
    c.deadline = now + kRequestTimeoutMs;
  }
}

void AdminSocket::read_request(AdminClientId id, Millis now) {
  Client& c = clients_.at(id);
  char buffer[4096];
  const ssize_t n = ::recv(c.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n == 0 && c.deadline == kNever && !c.answered) {
    // Done sending (shutdown of its write side) while its answer is being
    // worked out: keep it for the answer, but stop watching its input.
    epoll_event interest{};
    interest.data.u64 = id;
    (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &interest);
    return;
  }
  if (n <= 0) {
    drop(id);  // hung up
    return;
  }
  if (c.answered || c.deadline == kNever) return;  // one request per connection; more is ignored
  c.input.append(buffer, static_cast<size_t>(n));
  const size_t nl = c.input.find('\n');
  if (nl == std::string::npos) {
    if (c.input.size() > kMaxRequest) answer(id, "{\"ok\":false,\"error\":\"request line too long\"}", now);
    return;
  }
  std::string line = c.input.substr(0, nl);
  c.input.clear();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  // Waiting for the answer has no deadline of its own: the handler bounds
  // it (a device's response has a timeout).
  c.deadline = kNever;
  handler_.on_request(id, line, now);
}

void AdminSocket::answer(AdminClientId id, std::string_view line, Millis now) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.answered) return;
  Client& c = it->second;
  c.answered = true;
  c.output.assign(line);
  c.output += '\n';
  c.deadline = now + kAnswerTimeoutMs;
  write_answer(id);
}

void AdminSocket::write_answer(AdminClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& c = it->second;
  while (c.written < c.output.size()) {
    const ssize_t n = ::send(c.fd, c.output.data() + c.written, c.output.size() - c.written,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A large answer (a fleet's device list) goes out as the client reads.
      epoll_event interest{};
      interest.events = EPOLLOUT;
      interest.data.u64 = id;
      (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &interest);
      return;
    }
    break;  // the client went away
  }
  drop(id);
}

bool AdminSocket::waiting(AdminClientId id) const {
  auto it = clients_.find(id);
  return it != clients_.end() && !it->second.answered;
}

void AdminSocket::drop(AdminClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ::close(it->second.fd);  // also leaves the epoll set
  clients_.erase(it);
}

}  // namespace sublink
