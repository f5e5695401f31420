// A TCP relay on loopback standing in for the network path between a device
// and the server (a NAT, a middlebox): every connection to its port is
// relayed to the server's port. cut_device_side() breaks the path the way a
// NAT that drops its mapping does: the device's side is reset at once,
// while the server's side stays open and silent, so the server still holds
// the old connection when the device links again from a new one.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

namespace sublink::test {

class TcpRelay {
 public:
  /// Listens on a free port of 127.0.0.1 and relays to 127.0.0.1:`target_port`.
  explicit TcpRelay(int target_port);
  /// Stops relaying and closes every socket.
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  int port() const { return port_; }
  /// Resets the device's side of every relayed connection (a TCP RST) and
  /// keeps the server's side open without a byte more either way.
  void cut_device_side();
  /// Connections relayed so far.
  int accepted() const { return accepted_; }

 private:
  struct Pair {
    int device = -1;  // -1 once cut
    int server = -1;
  };
  void run();

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> cut_{false};
  std::atomic<int> accepted_{0};
  std::vector<Pair> pairs_;  // the relay thread's alone
  std::vector<int> held_;  // server sides of cut connections, open until the relay goes
  std::thread thread_;
};

}  // namespace sublink::test
