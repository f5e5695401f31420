#include "tools/server/tunnel_forwards.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "tools/server/tcp_listener.h"

namespace sublink {

namespace {

// Operator sockets handled per wake; more ready ones wait for the next.
constexpr int kEventsPerWake = 64;
// One read from an operator's socket: at most one DATA frame's payload.
constexpr size_t kReadChunk = kTunnelMaxData;

// A forward's listen(2) backlog: an operator's browser opens a handful.
constexpr int kForwardBacklog = 128;

// Closes `fd` with a TCP reset: the operator's program sees the channel
// failed, not a clean end of the service's answer.
void close_with_reset(int fd) {
  const linger abort{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  ::close(fd);
}

}  // namespace

TunnelForwards::TunnelForwards(ServerLoop& loop, SqliteDirectory& db, ServerContext& context)
    : loop_(loop), db_(db), context_(context) {
  context_.tunnel_observer = this;
}

TunnelForwards::~TunnelForwards() {
  if (context_.tunnel_observer == this) context_.tunnel_observer = nullptr;
  for (auto& [tag, s] : streams_) close_with_reset(s.fd);
  for (auto& [tag, f] : forwards_) ::close(f.fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status TunnelForwards::start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  return epoll_fd_ < 0 ? Status(Reason::io_error, errno) : Status::Ok();
}

std::optional<ListenAddress> TunnelForwards::add(const std::string& system_id, const std::string& service,
                                                 const std::string& op, const ListenAddress& listen,
                                                 std::string& error, Millis /*now*/) {
  DeviceConnection* link = loop_.link_of(system_id);
  if (link == nullptr) {
    error = system_id + " is not linked";
    return std::nullopt;
  }
  const std::optional<std::vector<std::string>>& offered = link->session()->info().hello.services;
  if (offered && std::find(offered->begin(), offered->end(), service) == offered->end()) {
    std::string names;
    for (const std::string& s : *offered) names += (names.empty() ? "" : ", ") + s;
    error = system_id + " offers no service '" + service + "' (its services: " + (names.empty() ? "none" : names) +
            ")";
    return std::nullopt;
  }
  for (const auto& [tag, f] : forwards_) {
    if (f.listen.host == listen.host && f.listen.port == listen.port && listen.port != 0) {
      error = "a forward already listens on " + listen_address_text(listen);
      return std::nullopt;
    }
  }
  Result<int> fd = open_tcp_listener(listen.host, listen.port, kForwardBacklog);
  if (!fd.ok()) {
    error = "cannot listen on " + listen_address_text(listen) + ": " + strerror(fd.status().detail());
    return std::nullopt;
  }
  const uint64_t tag = next_tag_++;
  epoll_event interest{};
  interest.events = EPOLLIN;
  interest.data.u64 = tag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, *fd, &interest) != 0) {
    error = std::string("cannot watch the forward's socket: ") + strerror(errno);
    ::close(*fd);
    return std::nullopt;
  }
  Forward& f = forwards_[tag];
  f.fd = *fd;
  f.listen = {listen.host, bound_port(*fd)};
  f.system_id = system_id;
  f.service = service;
  f.op = op;
  context_.log.write(LogLevel::notice, "operator %s: forward %s to %s service %s", op.empty() ? "-" : op.c_str(),
                     listen_address_text(f.listen).c_str(), system_id.c_str(), service.c_str());
  return f.listen;
}

bool TunnelForwards::close(const ListenAddress& listen, std::string& error, Millis now) {
  auto it = std::find_if(forwards_.begin(), forwards_.end(), [&](const auto& entry) {
    return entry.second.listen.host == listen.host && entry.second.listen.port == listen.port;
  });
  if (it == forwards_.end()) {
    error = "no forward listens on " + listen_address_text(listen);
    return false;
  }
  const uint64_t forward_tag = it->first;
  ::close(it->second.fd);  // also leaves the epoll set
  context_.log.write(LogLevel::notice, "forward %s closed (operator)", listen_address_text(listen).c_str());
  forwards_.erase(it);
  std::vector<uint64_t> doomed;
  for (const auto& [tag, s] : streams_) {
    if (s.forward == forward_tag) doomed.push_back(tag);
  }
  for (uint64_t tag : doomed) {
    auto s = streams_.find(tag);
    if (s == streams_.end()) continue;
    DeviceConnection* link = s->second.link;
    // on_channel_closed records the end and resets the operator's socket.
    s->second.tunnel->mux().reset(s->second.slot, TunnelReset::shutdown);
    loop_.serviced(*link, now);  // the RST goes out
  }
  return true;
}

std::vector<ForwardInfo> TunnelForwards::forwards() const {
  std::vector<ForwardInfo> out;
  for (const auto& [tag, f] : forwards_) {
    ForwardInfo info{listen_address_text(f.listen), f.system_id, f.service, f.op, 0, f.accepted};
    for (const auto& [stag, s] : streams_) info.channels += s.forward == tag ? 1 : 0;
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<ChannelInfo> TunnelForwards::channels() const {
  std::vector<ChannelInfo> out;
  for (const auto& [tag, s] : streams_) {
    const auto f = forwards_.find(s.forward);
    const TunnelChannelInfo live = s.tunnel->mux().info(s.slot);
    ChannelInfo info;
    info.listen = f != forwards_.end() ? listen_address_text(f->second.listen) : "-";
    info.system_id = f != forwards_.end() ? f->second.system_id : "";
    info.channel = s.channel;
    info.service = s.tunnel->service(s.slot);
    info.op = s.tunnel->op(s.slot);
    info.peer = s.peer;
    info.opened = s.opened;
    // The table counts from the server's side: what it sent went in to the device.
    info.bytes_in = live.bytes_out;
    info.bytes_out = live.bytes_in;
    info.accepted = s.accepted;
    out.push_back(std::move(info));
  }
  return out;
}

void TunnelForwards::on_ready(Millis now) {
  epoll_event events[kEventsPerWake];
  const int ready = ::epoll_wait(epoll_fd_, events, kEventsPerWake, 0);
  for (int i = 0; i < ready; ++i) {
    const uint64_t tag = events[i].data.u64;
    if (forwards_.count(tag) != 0) {
      accept_all(tag, now);
      continue;
    }
    if (streams_.count(tag) == 0) continue;  // closed earlier in this wake
    if (events[i].events & EPOLLERR) {
      // The operator's connection was reset: nothing more goes either way.
      // Ended here, as neither a read nor a write may be pending (a stalled
      // channel) to find the error.
      Stream& s = streams_.at(tag);
      DeviceConnection* link = s.link;
      s.tunnel->mux().reset(s.slot, TunnelReset::local_reset);  // forgets the stream
      loop_.serviced(*link, now);
      continue;
    }
    if (events[i].events & EPOLLOUT) write_operator(tag, false, now);
    if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_operator(tag, now);
  }
}

Millis TunnelForwards::step(Millis now) {
  // Channels whose send queue had no room get read again once the link
  // took their bytes (the device connection pulled DATA meanwhile).
  std::vector<uint64_t> resume;
  for (const auto& [tag, s] : streams_) {
    if (!s.reading && !s.operator_done && s.tunnel->mux().send_room(s.slot) > 0) resume.push_back(tag);
  }
  for (uint64_t tag : resume) {
    auto s = streams_.find(tag);
    if (s == streams_.end()) continue;
    s->second.reading = true;
    watch(tag, s->second);
  }
  (void)now;
  return kNever;
}

void TunnelForwards::accept_all(uint64_t tag, Millis now) {
  for (;;) {
    auto f = forwards_.find(tag);
    if (f == forwards_.end()) return;
    sockaddr_storage peer{};
    socklen_t size = sizeof(peer);
    const int fd = ::accept4(f->second.fd, reinterpret_cast<sockaddr*>(&peer), &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        context_.log.write(LogLevel::error, "forward %s: accept: %s", listen_address_text(f->second.listen).c_str(),
                           strerror(errno));
      }
      return;  // EAGAIN: all taken
    }
    ++f->second.accepted;
    start_stream(tag, f->second, fd, socket_address_text(peer), now);
  }
}

void TunnelForwards::start_stream(uint64_t forward_tag, Forward& forward, int fd, std::string peer, Millis now) {
  const std::string where = listen_address_text(forward.listen);
  DeviceConnection* link = loop_.link_of(forward.system_id);
  if (link == nullptr) {
    // The forward stays for when the device links again; this connection
    // cannot wait for it.
    context_.log.write(LogLevel::warning, "forward %s: %s from %s refused: %s is not linked", where.c_str(),
                       forward.service.c_str(), peer.c_str(), forward.system_id.c_str());
    close_with_reset(fd);
    return;
  }
  const uint64_t tag = next_tag_++;
  ServerTunnel& tunnel = link->tunnel();
  Result<TunnelSlot> slot = tunnel.open(forward.service, forward.op, tag);
  if (!slot.ok()) {
    context_.log.write(LogLevel::warning, "forward %s: %s from %s refused: %zu channels already open on the link",
                       where.c_str(), forward.service.c_str(), peer.c_str(), tunnel.mux().live_count());
    close_with_reset(fd);
    return;
  }
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  Stream& s = streams_[tag];
  s.fd = fd;
  s.forward = forward_tag;
  s.peer = std::move(peer);
  s.link = link;
  s.tunnel = &tunnel;
  s.slot = *slot;
  s.channel = tunnel.mux().channel_id(*slot);
  s.opened = now;
  TunnelRecord record;
  record.system_id = forward.system_id;
  record.channel = s.channel;
  record.service = forward.service;
  record.op = forward.op;
  record.opened = now;
  Result<int64_t> row = db_.tunnel_opened(record);
  if (row.ok()) {
    s.record = *row;
  } else {
    context_.log.write(LogLevel::error, "channel %u of %s: not recorded: %s", static_cast<unsigned>(s.channel),
                       forward.system_id.c_str(), db_.error_message().c_str());
  }
  context_.log.write(LogLevel::info, "forward %s: channel %u to %s %s for %s", where.c_str(),
                     static_cast<unsigned>(s.channel), forward.system_id.c_str(), forward.service.c_str(),
                     s.peer.c_str());
  epoll_event interest{};
  interest.events = EPOLLIN | EPOLLRDHUP;
  interest.data.u64 = tag;
  s.interest = interest.events;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &interest) != 0) {
    tunnel.mux().reset(*slot, TunnelReset::no_memory);  // on_channel_closed forgets the stream
    loop_.serviced(*link, now);
    return;
  }
  // The operator's first bytes (a request) ride behind the OPEN when they
  // are already there.
  read_operator(tag, now);
  loop_.serviced(*link, now);
}

void TunnelForwards::read_operator(uint64_t tag, Millis now) {
  auto it = streams_.find(tag);
  if (it == streams_.end()) return;
  Stream& s = it->second;
  DeviceConnection* link = s.link;
  uint8_t buffer[kReadChunk];
  bool reset = false;
  while (s.reading && !s.operator_done) {
    const size_t room = s.tunnel->mux().send_room(s.slot);
    if (room == 0) {
      s.reading = false;  // until the link takes queued bytes (step)
      break;
    }
    const ssize_t n = ::recv(s.fd, buffer, std::min(room, sizeof(buffer)), MSG_DONTWAIT);
    if (n > 0) {
      (void)s.tunnel->mux().write(s.slot, std::span<const uint8_t>(buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) {
      s.operator_done = true;
      s.tunnel->mux().finish(s.slot);  // FIN after the queued DATA
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) reset = true;
    break;
  }
  // finish() may have ended the channel (the device had finished too):
  // the stream is looked up again.
  auto again = streams_.find(tag);
  if (again != streams_.end()) {
    if (reset) {
      again->second.tunnel->mux().reset(again->second.slot, TunnelReset::local_reset);  // forgets the stream
    } else {
      watch(tag, again->second);
    }
  }
  loop_.serviced(*link, now);  // what was queued goes out now
}

void TunnelForwards::write_operator(uint64_t tag, bool inside_link, Millis now) {
  auto it = streams_.find(tag);
  if (it == streams_.end()) return;
  Stream& s = it->second;
  DeviceConnection* link = s.link;
  TunnelMux& mux = s.tunnel->mux();
  bool reset = false;
  for (;;) {
    const std::span<const uint8_t> bytes = mux.readable(s.slot);
    if (bytes.empty()) break;
    const ssize_t n = ::send(s.fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      mux.consume(s.slot, static_cast<size_t>(n));  // credit follows what the operator took
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) reset = true;
    break;
  }
  // consume() may have ended the channel (FIN both ways, all passed on).
  auto again = streams_.find(tag);
  if (again != streams_.end()) {
    Stream& still = again->second;
    if (reset) {
      mux.reset(still.slot, TunnelReset::local_reset);  // forgets the stream
    } else {
      if (!still.shut_down && mux.held(still.slot) == 0 && mux.peer_finished(still.slot)) {
        still.shut_down = true;
        ::shutdown(still.fd, SHUT_WR);  // the device's FIN, passed on
      }
      watch(tag, still);
    }
  }
  // Inside the link's processing its output goes out when that returns.
  if (!inside_link) loop_.serviced(*link, now);
}

void TunnelForwards::watch(uint64_t tag, Stream& s) {
  // Once the operator half-closed, its EOF stays readable: watching it
  // still would wake the loop at once, again and again, while the channel
  // waits for the device's answer (EPOLLHUP and EPOLLERR come regardless).
  uint32_t want = s.operator_done ? 0u : static_cast<uint32_t>(EPOLLRDHUP);
  if (s.reading && !s.operator_done) want |= EPOLLIN;
  if (s.tunnel->mux().held(s.slot) > 0) want |= EPOLLOUT;
  if (want == s.interest) return;
  epoll_event interest{};
  interest.events = want;
  interest.data.u64 = tag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &interest) == 0) s.interest = want;
}

void TunnelForwards::drop_stream(uint64_t tag, bool reset) {
  auto it = streams_.find(tag);
  if (it == streams_.end()) return;
  if (reset) {
    close_with_reset(it->second.fd);
  } else {
    ::close(it->second.fd);
  }
  streams_.erase(it);
}

void TunnelForwards::on_channel_accepted(ServerTunnel& /*tunnel*/, TunnelSlot /*slot*/, uint64_t owner) {
  auto it = streams_.find(owner);
  if (it != streams_.end()) it->second.accepted = true;
}

void TunnelForwards::on_channel_readable(ServerTunnel& /*tunnel*/, TunnelSlot /*slot*/, uint64_t owner) {
  write_operator(owner, true, server_now());
}

void TunnelForwards::on_channel_closed(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner,
                                       const TunnelClosed& closed) {
  auto it = streams_.find(owner);
  if (it == streams_.end()) return;
  Stream& s = it->second;
  const Millis now = server_now();
  // What the device sent before a clean end still reaches the operator,
  // as far as its socket takes it now.
  if (closed.end == TunnelClosed::End::fin) {
    for (std::span<const uint8_t> bytes = tunnel.mux().readable(slot); !bytes.empty();
         bytes = tunnel.mux().readable(slot)) {
      const ssize_t n = ::send(s.fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) break;
      tunnel.mux().consume(slot, static_cast<size_t>(n));
    }
  }
  const char* reason = closed.reason_name();
  // The table counts from the server's side: what it sent went in to the device.
  if (s.record != 0) {
    const Status recorded = db_.tunnel_closed(s.record, now, closed.bytes_out, closed.bytes_in, reason);
    if (!recorded.ok()) {
      context_.log.write(LogLevel::error, "channel %u: its end not recorded: %s", static_cast<unsigned>(s.channel),
                         db_.error_message().c_str());
    }
  }
  context_.log.write(LogLevel::info, "channel %u (%s) closed: %s, %llu bytes in, %llu out",
                     static_cast<unsigned>(s.channel), s.peer.c_str(), reason,
                     static_cast<unsigned long long>(closed.bytes_out),
                     static_cast<unsigned long long>(closed.bytes_in));
  drop_stream(owner, closed.end != TunnelClosed::End::fin);
}

}  // namespace sublink
