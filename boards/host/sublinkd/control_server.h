// sublinkd's side of the control socket (linux_util/control/
// control_protocol.h): accepts local clients on the daemon's poll loop,
// reads one request line each and lets the daemon answer it. Nothing here
// blocks the agent: sockets are non-blocking and a client that does not
// keep up with `watch` lines is dropped rather than waited for.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "hal/status.h"
#include "net/posix/posix_network.h"

namespace sublink {

/// What the daemon does with a request line.
class ControlCommands {
 public:
  virtual ~ControlCommands() = default;
  /// The answer to `request` (one JSON object, no newline). Sets `subscribe`
  /// when the client wants every later broadcast() too (watch).
  virtual std::string answer(std::string_view request, bool& subscribe) = 0;
};

class ControlServer final : public FdHandler {
 public:
  /// Clients served at once; one more is answered with an error and closed.
  static constexpr size_t kMaxClients = 4;

  ControlServer(PosixNetwork& loop, ControlCommands& commands);
  /// Closes every client and removes the socket file.
  ~ControlServer() override;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  /// Binds `path` (mode 0600), replacing a stale socket left by a crash but
  /// never any other kind of file, and refusing when another agent answers
  /// there. io_error (detail: errno) or invalid_state-like failures come
  /// back with `error` naming the problem in one line.
  Status listen(const std::string& path, std::string& error);

  /// Sends `line` to every watching client.
  void broadcast(std::string_view line);

  /// Clients connected now (tests, and the daemon's own accounting).
  size_t clients() const;

  void on_readable(int fd) override;

 private:
  struct Client {
    int fd = -1;
    bool watching = false;
    std::string input;
  };
  void accept_clients();
  void serve(Client& c);
  bool write_line(Client& c, std::string_view line);
  void drop(Client& c);

  PosixNetwork& loop_;
  ControlCommands& commands_;
  int listen_fd_ = -1;
  std::string path_;
  std::array<Client, kMaxClients> clients_{};
};

}  // namespace sublink
