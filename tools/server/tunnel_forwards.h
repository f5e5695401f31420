// The operator's forwards (`sublink-server admin forward`, like ssh -L): a
// loopback listening socket per forward, and for each TCP connection
// accepted there one tunnel channel to the device's service over the link
// the device opened (PROTOCOL.md section 6). Nothing is opened towards the
// device's network: the channel rides the device's own link.
//
// Flow control end to end: the operator's socket is read only while the
// channel's send queue has room (so a slow device stops the reads, never
// grows a buffer), and bytes from the device are passed to the operator's
// socket as it takes them, the credit granted back only for what it took
// (so a slow operator stops the device, never grows a buffer). When the
// link drops, every operator connection on it is reset at once. Every
// channel is written to the records when it opens and when it closes.
//
// One epoll set of its own (the forwards' listeners and the operators'
// sockets), so the server loop watches one descriptor for all of it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hal/clock.h"
#include "linux_util/log/stderr_log.h"
#include "tools/server/admin_request.h"
#include "tools/server/db/sqlite_directory.h"
#include "tools/server/server_loop.h"
#include "server_core/server_tunnel.h"

namespace sublink {

/// A forward as `tunnels` lists it.
struct ForwardInfo {
  std::string listen;  // "127.0.0.1:8080"
  std::string system_id;
  std::string service;
  std::string op;
  size_t channels = 0;  // open now
  uint64_t accepted = 0;  // operator connections since it started
};

/// An open channel as `tunnels` lists it.
struct ChannelInfo {
  std::string listen;  // the forward it came through
  std::string system_id;
  uint16_t channel = 0;
  std::string service;
  std::string op;
  std::string peer;     // the operator's TCP address
  Millis opened = 0;    // UTC ms
  uint64_t bytes_in = 0;   // to the device (the device's sense, as tunnel_closed)
  uint64_t bytes_out = 0;  // from the device
  bool accepted = false;   // OPEN_OK arrived
};

class TunnelForwards final : public LoopExtension, private ServerTunnelObserver {
 public:
  /// `loop`, `db`, `context` and `log` outlive this; the device
  /// connections of `context` make their tunnels with this as observer.
  TunnelForwards(ServerLoop& loop, SqliteDirectory& db, ServerContext& context);
  ~TunnelForwards() override;
  TunnelForwards(const TunnelForwards&) = delete;
  TunnelForwards& operator=(const TunnelForwards&) = delete;

  /// Makes the epoll set; io_error (detail: errno) when it cannot.
  Status start();

  /// Starts forwarding `listen` to `service` of `system_id` for operator
  /// `op`. Refused at once, with `error` in one line, when the system is not
  /// linked, its hello named services and `service` is not one of them,
  /// the address is taken, or a forward already listens there. Returns the
  /// address listened on (its port chosen by the kernel when 0 was asked).
  std::optional<ListenAddress> add(const std::string& system_id, const std::string& service, const std::string& op,
                                   const ListenAddress& listen, std::string& error, Millis now);
  /// Stops the forward listening at `listen` and resets its open channels
  /// (RST shutdown; the operators' connections are reset). False with
  /// `error` when no forward listens there.
  bool close(const ListenAddress& listen, std::string& error, Millis now);

  std::vector<ForwardInfo> forwards() const;
  /// Open channels, oldest first.
  std::vector<ChannelInfo> channels() const;

  // LoopExtension
  int watch_fd() const override { return epoll_fd_; }
  void on_ready(Millis now) override;
  Millis step(Millis now) override;

 private:
  struct Forward {
    int fd = -1;
    ListenAddress listen;
    std::string system_id;
    std::string service;
    std::string op;
    uint64_t accepted = 0;
  };
  /// One operator TCP connection and its channel.
  struct Stream {
    int fd = -1;
    uint64_t forward = 0;  // the Forward's tag
    std::string peer;
    DeviceConnection* link = nullptr;
    ServerTunnel* tunnel = nullptr;
    TunnelSlot slot = 0;
    uint16_t channel = 0;
    int64_t record = 0;  // the records' row; 0 when the database failed
    Millis opened = 0;
    bool accepted = false;   // OPEN_OK
    bool reading = true;     // the operator's socket is read (send room left)
    bool operator_done = false;  // the operator finished sending: FIN queued
    bool shut_down = false;  // the device finished: shutdown(SHUT_WR) done
    uint32_t interest = 0;
  };

  // ServerTunnelObserver
  void on_channel_accepted(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner) override;
  void on_channel_readable(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner) override;
  void on_channel_closed(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner, const TunnelClosed& closed) override;

  /// Accepts every waiting operator connection on forward `tag`.
  void accept_all(uint64_t tag, Millis now);
  /// Opens the channel for an accepted socket, or closes the socket.
  void start_stream(uint64_t forward_tag, Forward& forward, int fd, std::string peer, Millis now);
  /// Reads the operator's bytes into the channel while it has room.
  void read_operator(uint64_t tag, Millis now);
  /// Writes the device's bytes to the operator while its socket takes them.
  /// `inside_link`: called from the link's own processing (its output is
  /// sent when that returns).
  void write_operator(uint64_t tag, bool inside_link, Millis now);
  /// Watches `stream`'s socket for what it needs now.
  void watch(uint64_t tag, Stream& stream);
  /// Resets the operator's connection and forgets it (its channel is gone).
  void drop_stream(uint64_t tag, bool reset);

  ServerLoop& loop_;
  SqliteDirectory& db_;
  ServerContext& context_;
  int epoll_fd_ = -1;
  uint64_t next_tag_ = 1;  // forwards and streams share one space of epoll tags
  std::map<uint64_t, Forward> forwards_;
  std::map<uint64_t, Stream> streams_;
};

}  // namespace sublink
