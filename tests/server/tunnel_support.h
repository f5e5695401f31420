// Loopback helpers for the tunnel tests: an echo service, an operator's
// TCP client that streams a known pattern and checks what comes back, and
// the Python test device (tunnel_device.py) as a child process.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/server_process.h"
#include "support/process.h"
#include "tools/server/db/sqlite_directory.h"

namespace sublink::test {

/// A TCP echo service on 127.0.0.1: every connection gets back what it
/// sends, and a FIN once the client finished. Stopped on destruction.
class EchoService {
 public:
  EchoService();
  ~EchoService();
  EchoService(const EchoService&) = delete;
  EchoService& operator=(const EchoService&) = delete;
  int port() const { return port_; }
  /// Connections accepted so far.
  int accepted() const { return accepted_.load(); }

 private:
  void serve();
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

/// A blocking TCP connection to 127.0.0.1:`port` with `timeout_ms` on each
/// send and receive; -1 when it cannot connect.
int connect_loopback(int port, int timeout_ms = 30000);

/// The byte at `offset` of stream `seed`'s pattern (not periodic within
/// any size the tests send, so a lost, repeated or reordered block shows).
uint8_t pattern_byte(uint64_t seed, uint64_t offset);

/// Sends `bytes` of pattern `seed` on a new connection to `port`, then
/// FIN, while reading what comes back; true when exactly the same bytes
/// came back, in order, then EOF. `why` says what went wrong.
bool echo_round_trip(int port, uint64_t seed, uint64_t bytes, std::string& why);

/// Files of pattern bytes (see pattern_byte) in `dir` for a web server to
/// serve: page0.bin .. page{n-1}.bin, from 1000 bytes up to about 2 MB.
/// Returns their names; `total` gets their bytes together.
std::vector<std::string> make_pages(const TempDir& dir, int n, uint64_t& total);

/// Python's http.server serving `site` on 127.0.0.1:`port` (a free port
/// chosen here), its log in `dir`; waits until it listens.
ChildProcess serve_http(const TempDir& dir, const TempDir& site, int& port);

/// Fetches `names` from http://127.0.0.1:`port`/ all at once with curl
/// (--parallel) into `into`; then compares each with the same file in
/// `site`. "" when all came whole, else what went wrong.
std::string fetch_pages_in_parallel(int port, const std::vector<std::string>& names, const TempDir& site,
                                    const TempDir& into);

/// True when the peer closed `fd` (EOF or reset) within `timeout_ms`.
bool closed_within(int fd, int timeout_ms);

/// tests/server/tunnel_device.py linked as SYS-0001 to the server on `port`,
/// offering `services` ("name=127.0.0.1:port"), granting `window` per
/// channel, at most `max_channels`. Waits for its welcome.
class TestDevice {
 public:
  /// `extra`: more of tunnel_device.py's options (--no-credit, --probe).
  TestDevice(const TempDir& dir, int port, const std::vector<std::string>& services, int window = 65536,
             int max_channels = 8, const std::vector<std::string>& extra = {});
  std::string log() const { return process_.log(); }
  /// Kills it at once (SIGKILL): the link drops without a close handshake.
  void kill();
  pid_t pid() const { return process_.pid(); }
  bool welcomed();
  /// The heartbeat round trips it measured (ms), in order.
  std::vector<int> heartbeat_rtts() const;

 private:
  ChildProcess process_;
};

/// sublink-server as the tunnel tests use it: the test fleet (SYS-0001) in
/// `dir`, one loopback port, its admin command line and its tunnel records.
/// Stopped by PID on destruction, which must find it exiting 0.
class ForwardingServer {
 public:
  explicit ForwardingServer(const TempDir& dir);
  ~ForwardingServer();
  int port() const { return port_; }
  std::string log() const { return process_->log(); }
  std::string db_path() const { return process_->db_path(); }
  pid_t pid() const { return process_->pid(); }
  /// `sublink-server admin ARGS` against it.
  CommandResult admin(const std::string& args) const;
  /// `forward SYS-0001 SERVICE --listen 127.0.0.1:0 --operator OP`: the
  /// port it listens on (0, and a test failure, when refused).
  int forward(const std::string& service, const std::string& op) const;
  /// Every channel of SYS-0001 in its records.
  std::vector<TunnelRecord> records() const;
  /// The records once at least `n` channels are closed (it writes each as
  /// it closes), or what is there after 15 s.
  std::vector<TunnelRecord> closed_records(size_t n) const;

 private:
  int port_ = 0;
  std::unique_ptr<ServerProcess> process_;
};

/// Debian's sshd on loopback `port` with a host key and an authorized key
/// made in `dir`, in the foreground (-D) and killed by PID with this
/// object; the system's ssh service is never involved.
class TestSshd {
 public:
  TestSshd(const TempDir& dir, int port);
  std::string log() const { return process_.log(); }
  /// The shell command that logs in through 127.0.0.1:`port` (a forward) as
  /// the current user with the authorized key and runs `command`.
  std::string login_command(int port, const std::string& command) const;

 private:
  std::string key_;
  ChildProcess process_;
};

}  // namespace sublink::test
