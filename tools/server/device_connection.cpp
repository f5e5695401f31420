#include "tools/server/device_connection.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace sublink {

namespace {

// How long a closing connection may take to finish its close handshake and
// drain its last bytes before the socket is simply closed.
constexpr Millis kLingerMs = 5000;

// "closed_by_peer 1000", "tls_alert 48", "connection_closed": what the log
// and the connection record say about the end.
std::string describe(Status why) {
  std::string text = reason_name(why.reason());
  if (why.detail() != 0) text += " " + std::to_string(why.detail());
  return text;
}

}  // namespace

DeviceConnection::DeviceConnection(ServerContext& context, int fd, std::string address, uint16_t port, Millis now)
    : context_(context),
      fd_(fd),
      address_(std::move(address)),
      port_(port),
      opened_(now),
      chain_(context.tls, context.ws, *this) {
  now_ = now;
  chain_.start();
  settle(now);
}

DeviceConnection::~DeviceConnection() {
  if (!ended_) end(now_, "server_stopped");
  ::close(fd_);
}

void DeviceConnection::on_readable(Millis now) {
  now_ = now;
  uint8_t buffer[16 * 1024];
  while (!chain_.ended()) {
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      chain_.receive(std::span<const uint8_t>(buffer, static_cast<size_t>(n)));
      // Output produced on the way (acks, the close) goes out between reads.
      settle(now);
      continue;
    }
    if (n == 0) {
      socket_failed_ = true;
      chain_.finish(Status(Reason::connection_closed));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      socket_failed_ = true;
      chain_.finish(Status(Reason::connection_reset, errno));
    }
  }
  settle(now);
}

void DeviceConnection::on_writable(Millis now) {
  now_ = now;
  settle(now);
}

Millis DeviceConnection::step(Millis now) {
  now_ = now;
  Millis next = kNever;
  if (session_) {
    next = session_->step(now);
  } else if (!chain_.ended()) {
    // No upgrade yet: a connection that never completes TLS and the upgrade
    // must not hold its memory forever.
    const Millis deadline = opened_ + context_.session.hello_timeout_ms;
    if (now >= deadline) {
      chain_.finish(Status(Reason::connect_timeout));
    } else {
      next = deadline;
    }
  }
  settle(now);
  if (linger_until_ != kNever) {
    if (now >= linger_until_) {
      chain_.finish(Status(Reason::connect_timeout));
      end(now, "close_timeout");
      done_ = true;
    }
    next = std::min(next, linger_until_);
  }
  return done_ ? kNever : next;
}

void DeviceConnection::shut_down(Millis now) {
  now_ = now;
  pending_.clear();
  pending_bytes_ = 0;
  pending_close_.reset();
  (void)chain_.close(1001, "server_shutdown");
  if (linger_until_ == kNever) linger_until_ = now + kLingerMs;
  settle(now);
}

void DeviceConnection::close_now(Millis now, std::string_view why, bool reset) {
  now_ = now;
  if (reset) {
    // SO_LINGER 0: close(2) sends RST at once, whatever is still queued.
    const linger abort{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  }
  end(now, why);
  done_ = true;
}

ServerTunnel& DeviceConnection::tunnel() {
  if (!tunnel_) {
    tunnel_ = std::make_unique<ServerTunnel>(context_.tunnel_limits, *context_.tunnel_observer);
    held_frame_.resize(kTunnelMaxFrameBytes);
  }
  return *tunnel_;
}

bool DeviceConnection::set_blackhole(bool on) {
  if (!session_) return false;
  session_->set_blackhole(on);
  blackholed_ = on;
  return true;
}

WsUpgradeDecision DeviceConnection::on_upgrade(std::string_view client_cn, const WsUpgradeRequestInfo& request) {
  if (request.path != kSublinkPath) {
    context_.log.write(LogLevel::info, "%s: upgrade for %.*s refused (404)", address_.c_str(),
                       static_cast<int>(request.path.size()), request.path.data());
    return {404, -1};
  }
  if (client_cn.empty()) return {403, -1};  // only when client certificates are optional
  PeerInfo peer{std::string(client_cn), address_, port_};
  session_ = std::make_unique<ServerSession>(context_.session, context_.directory, context_.signer,
                                             context_.identities, std::move(peer), now_);
  session_->set_wake_callback([this] {
    if (context_.wake) context_.wake(*this);
  });
  session_->set_response_callback([this](const DeviceResponse& response) {
    if (context_.observer != nullptr) context_.observer->on_response(*this, response);
  });
  context_.log.write(LogLevel::info, "%s: device %.*s on port %u", address_.c_str(), static_cast<int>(client_cn.size()),
                     client_cn.data(), static_cast<unsigned>(port_));
  return {};
}

void DeviceConnection::on_text(std::string_view message) {
  context_.log.write(LogLevel::debug, "%s: received %.*s", address_.c_str(), static_cast<int>(message.size()),
                     message.data());
  if (session_) session_->on_text(message, now_);
  // Answers go out in order right here, so a burst of messages does not
  // pile up more output than one settle can queue.
  take_session_output();
  send_pending();
}

void DeviceConnection::on_binary(std::span<const uint8_t> message) {
  // A hung server (blackhole) and a link not yet welcomed take no frames.
  if (blackholed_ || !session_ || !session_->welcomed() || session_->closing()) return;
  if (tunnel_) {
    const Status s = tunnel_->receive(message, now_);
    if (s.ok()) return;
  } else {
    // No channel was ever opened here: every well-formed frame is for an
    // unknown channel. Not worth a table (and its memory): answered with
    // RST protocol as the table would, except to an RST.
    Result<TunnelFrame> frame = parse_tunnel_frame(message);
    if (frame.ok()) {
      if (frame->type != TunnelFrameType::rst) {
        uint8_t out[kTunnelHeaderBytes + 1];
        Result<size_t> n = write_tunnel_frame(TunnelFrame::rst(frame->channel, TunnelReset::protocol), out);
        if (n.ok()) (void)chain_.send_binary(std::span<const uint8_t>(out, *n));  // dropped when full: advisory
      }
      return;
    }
  }
  context_.log.write(LogLevel::warning, "%s: malformed tunnel frame: closing the link (1002)", address_.c_str());
  pending_.clear();
  pending_bytes_ = 0;
  pending_close_ = CloseRequest{1002, "malformed_tunnel_frame"};
}

void DeviceConnection::send_tunnel_frames() {
  if (!tunnel_ || !pending_.empty() || pending_close_ || chain_.ended() || blackholed_) return;
  tunnel_->mux().tick(now_);
  for (;;) {
    if (held_frame_bytes_ == 0) {
      held_frame_bytes_ = tunnel_->mux().next_frame(held_frame_);
      if (held_frame_bytes_ == 0) return;
    }
    const Status s = chain_.send_binary(std::span<const uint8_t>(held_frame_.data(), held_frame_bytes_));
    if (s.reason() == Reason::would_block) return;  // room comes back as the socket drains
    held_frame_bytes_ = 0;  // sent, or the link is closing and the frame goes with it
  }
}

void DeviceConnection::settle(Millis now) {
  take_session_output();
  send_pending();
  flush_socket();
  if (chain_.ended()) {
    end(now, describe(chain_.end_status()));
    if (chain_.output().empty() || socket_failed_) {
      done_ = true;
    } else if (linger_until_ == kNever) {
      linger_until_ = now + kLingerMs;
    }
  }
}

void DeviceConnection::take_session_output() {
  if (!session_ || !session_->has_output()) return;
  SessionOutput out = session_->take_output();
  if (out.identity) log_identity(*out.identity);
  for (std::string& m : out.messages) {
    pending_bytes_ += m.size();
    pending_.push_back(std::move(m));
  }
  if (out.close) {
    // The session's reason names why (a refused hello: unknown_customer, ...).
    context_.log.write(LogLevel::info, "%s: closing the link (%u %s)", address_.c_str(),
                       static_cast<unsigned>(out.close->code), out.close->reason.c_str());
    pending_close_ = std::move(out.close);
  }
  if (pending_bytes_ > context_.max_pending_bytes) {
    context_.log.write(LogLevel::warning, "%s: device does not read its messages, dropped", address_.c_str());
    pending_.clear();
    pending_bytes_ = 0;
    chain_.finish(Status(Reason::out_of_memory));
  }
}

void DeviceConnection::log_identity(const IdentityNotice& n) {
  const char* id = n.system_id.c_str();
  const std::string instance = n.instance.value_or("(none)");
  if (n.refused && n.replaced_peer.empty() && n.replacements_in_window == 0) {
    context_.log.write(LogLevel::warning, "%s: system %s (instance %s) refused: a duplicate_identity alarm stands",
                       address_.c_str(), id, instance.c_str());
    return;
  }
  if (!n.replaced_peer.empty()) {
    context_.log.write(LogLevel::notice, "%s: system %s (instance %s) replaces its link from %s (instance %s)%s",
                       address_.c_str(), id, instance.c_str(), n.replaced_peer.c_str(),
                       n.replaced_instance.value_or("(none)").c_str(),
                       n.counted ? ", another appliance" : ", the same appliance reconnecting");
  }
  if (n.duplicate) {
    context_.log.write(LogLevel::error,
                       "system %s: duplicate_identity alarm: two instances took turns %zu times within the hour "
                       "(a cloned appliance)%s",
                       id, n.replacements_in_window, n.refused ? "; both refused" : "");
  }
}

void DeviceConnection::send_pending() {
  while (!pending_.empty() && !chain_.ended()) {
    const Status s = chain_.send_text(pending_.front());
    if (s.reason() == Reason::would_block) return;  // room comes back as the socket drains
    if (!s.ok()) {
      context_.log.write(LogLevel::error, "%s: cannot send a message: %s", address_.c_str(), reason_name(s.reason()));
    }
    pending_bytes_ -= pending_.front().size();
    pending_.pop_front();
  }
  if (pending_.empty() && pending_close_ && !chain_.ended()) {
    (void)chain_.close(pending_close_->code, pending_close_->reason);
    pending_close_.reset();
    linger_until_ = now_ + kLingerMs;
  }
  send_tunnel_frames();
}

void DeviceConnection::flush_socket() {
  if (blackholed_) return;  // a hung server writes nothing; it stays queued
  while (!socket_failed_ && !chain_.output().empty()) {
    const std::span<const uint8_t> out = chain_.output();
    const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      chain_.consume_output(static_cast<size_t>(n));
      send_pending();  // the freed room takes the next waiting message
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    socket_failed_ = true;
    chain_.finish(Status(Reason::connection_reset, errno));
  }
}

void DeviceConnection::end(Millis now, std::string_view why) {
  if (ended_) return;
  ended_ = true;
  // Every channel is gone with the link; the operators' connections close now.
  if (tunnel_) tunnel_->on_link_down();
  if (context_.observer != nullptr) context_.observer->on_ended(*this);
  if (session_) {
    session_->on_closed(now, why);
    const SessionInfo info = session_->info();
    context_.log.write(info.welcomed ? LogLevel::notice : LogLevel::info, "%s: %s%s closed (%.*s)", address_.c_str(),
                       info.system_id.empty() ? "device " : "system ",
                       info.system_id.empty() ? "before hello" : info.system_id.c_str(),
                       static_cast<int>(why.size()), why.data());
  } else {
    context_.log.write(LogLevel::info, "%s: closed before the upgrade (%.*s)", address_.c_str(),
                       static_cast<int>(why.size()), why.data());
  }
}

}  // namespace sublink
