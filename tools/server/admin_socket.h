// The server side of sublink-server's control socket: a UNIX stream socket
// (linux_util/control/unix_socket.h rules: 0600, owner or root only) on
// which each operator connection sends one request line and gets one
// answer line, then the server closes it. Non-blocking; it keeps its own
// epoll set, so the server loop watches a single descriptor for it. An
// answer may come later than the request (a device's response), and a
// large one is written as the client reads it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "hal/clock.h"
#include "hal/status.h"

namespace sublink {

/// Identifies one operator connection for a later answer.
using AdminClientId = uint64_t;

/// What the server does with a request line.
class AdminRequestHandler {
 public:
  virtual ~AdminRequestHandler() = default;
  /// Handles one request line (no newline). Answer with AdminSocket::answer,
  /// now or later; a client that hung up meanwhile is simply gone.
  virtual void on_request(AdminClientId client, std::string_view line, Millis now) = 0;
};

class AdminSocket {
 public:
  /// Operator connections served at once; more are told "busy" and closed.
  static constexpr size_t kMaxClients = 16;
  /// Longest request line; a longer one is refused.
  static constexpr size_t kMaxRequest = 64 * 1024;
  /// A client that sends no whole line within this long is closed.
  static constexpr Millis kRequestTimeoutMs = 5000;
  /// A client that does not read its answer within this long is closed.
  static constexpr Millis kAnswerTimeoutMs = 30000;

  explicit AdminSocket(AdminRequestHandler& handler) : handler_(handler) {}
  /// Closes every client and removes the socket file.
  ~AdminSocket();
  AdminSocket(const AdminSocket&) = delete;
  AdminSocket& operator=(const AdminSocket&) = delete;

  /// Listens on `path`; on failure `error` names the problem in one line.
  Status listen(const std::string& path, std::string& error);

  /// The descriptor to watch for input (this socket's own epoll set).
  int fd() const { return epoll_fd_; }
  /// Accepts, reads and writes what is ready.
  void on_ready(Millis now);
  /// Closes clients that took too long; returns the next deadline.
  Millis step(Millis now);

  /// Sends `line` (one JSON object, no newline) to `client` and closes it
  /// once written. Ignored when the client is gone or already answered.
  void answer(AdminClientId client, std::string_view line, Millis now);
  /// True while `client` is connected and not yet answered.
  bool waiting(AdminClientId client) const;

 private:
  struct Client {
    int fd = -1;
    std::string input;
    std::string output;   // the answer line still to write
    size_t written = 0;
    bool answered = false;
    Millis deadline = kNever;
  };
  void accept_clients(Millis now);
  void read_request(AdminClientId id, Millis now);
  void write_answer(AdminClientId id);
  void drop(AdminClientId id);

  AdminRequestHandler& handler_;
  int epoll_fd_ = -1;
  int listen_fd_ = -1;
  std::string path_;
  AdminClientId next_id_ = 1;  // 0 marks the listening socket in the epoll set
  std::map<AdminClientId, Client> clients_;
};

}  // namespace sublink
