#include "server/tunnel_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <vector>

#include "integration/sublinkd_rig.h"

namespace sublink::test {

namespace {

bool send_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

EchoService::EchoService() {
  fd_ = listen_on_loopback(port_, 64);
  thread_ = std::thread([this] { serve(); });
}

EchoService::~EchoService() {
  stop_ = true;
  ::shutdown(fd_, SHUT_RDWR);
  thread_.join();
  ::close(fd_);
  for (std::thread& w : workers_) w.join();
}

void EchoService::serve() {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) < 0 && errno != EINTR) return;
    if (stop_) return;
    if (!(p.revents & POLLIN)) continue;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    ++accepted_;
    workers_.emplace_back([this, c] {
      timeval t{1, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t));
      std::vector<uint8_t> buffer(64 * 1024);
      for (;;) {
        const ssize_t n = ::recv(c, buffer.data(), buffer.size(), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          if (stop_) break;
          continue;
        }
        if (n <= 0 || !send_all(c, buffer.data(), static_cast<size_t>(n))) break;
      }
      ::shutdown(c, SHUT_WR);
      ::close(c);
    });
  }
}

int connect_loopback(int port, int timeout_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in a = loopback_address(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval t{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t));
  return fd;
}

uint8_t pattern_byte(uint64_t seed, uint64_t offset) {
  // splitmix64 of (seed, offset / 8), one byte of it per offset.
  uint64_t z = (seed * 0x9E3779B97F4A7C15ull) ^ (offset / 8 + 1) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<uint8_t>(z >> ((offset % 8) * 8));
}

bool echo_round_trip(int port, uint64_t seed, uint64_t bytes, std::string& why) {
  const int fd = connect_loopback(port);
  if (fd < 0) {
    why = "cannot connect to the forward";
    return false;
  }
  std::atomic<bool> sent_ok{true};
  std::thread writer([&] {
    std::vector<uint8_t> block(64 * 1024);
    for (uint64_t at = 0; at < bytes;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(block.size(), bytes - at));
      for (size_t i = 0; i < n; ++i) block[i] = pattern_byte(seed, at + i);
      if (!send_all(fd, block.data(), n)) {
        sent_ok = false;
        return;
      }
      at += n;
    }
    ::shutdown(fd, SHUT_WR);
  });
  std::vector<uint8_t> buffer(64 * 1024);
  uint64_t got = 0;
  bool same = true;
  for (;;) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = "receive failed after " + std::to_string(got) + " bytes: " + strerror(errno);
      same = false;
      break;
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n && same; ++i) {
      if (buffer[static_cast<size_t>(i)] != pattern_byte(seed, got + static_cast<uint64_t>(i))) {
        why = "byte " + std::to_string(got + static_cast<uint64_t>(i)) + " differs";
        same = false;
      }
    }
    got += static_cast<uint64_t>(n);
    if (!same) break;
  }
  if (!same) ::shutdown(fd, SHUT_RDWR);  // unblocks the writer
  writer.join();
  ::close(fd);
  if (same && !sent_ok) {
    why = "send failed";
    return false;
  }
  if (same && got != bytes) {
    why = "got " + std::to_string(got) + " of " + std::to_string(bytes) + " bytes back";
    return false;
  }
  return same;
}

std::vector<std::string> make_pages(const TempDir& dir, int n, uint64_t& total) {
  std::vector<std::string> names;
  total = 0;
  for (int i = 0; i < n; ++i) {
    const std::string name = "page" + std::to_string(i) + ".bin";
    std::ofstream out(dir.file(name), std::ios::binary);
    const uint64_t size = 1000 + static_cast<uint64_t>(i) * 397'000;
    for (uint64_t b = 0; b < size; ++b) out.put(static_cast<char>(pattern_byte(static_cast<uint64_t>(i), b)));
    names.push_back(name);
    total += size;
  }
  return names;
}

ChildProcess serve_http(const TempDir& dir, const TempDir& site, int& port) {
  port = free_port();
  ChildProcess http({"/usr/bin/python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1",
                     "--directory", site.path()},
                    dir.file("http-" + std::to_string(port) + ".log"));
  EXPECT_TRUE(wait_for_port(port, 10000)) << http.log();
  return http;
}

std::string fetch_pages_in_parallel(int port, const std::vector<std::string>& names, const TempDir& site,
                                    const TempDir& into) {
  std::string command = "curl -sS --fail --parallel --parallel-max " + std::to_string(names.size()) + " --max-time 60";
  for (const std::string& name : names) {
    command += " -o '" + into.file("got-" + name) + "' http://127.0.0.1:" + std::to_string(port) + "/" + name;
  }
  const ShellOutput fetched = run_shell(command, into);
  if (fetched.status != 0) return "curl: exit " + std::to_string(fetched.status) + ": " + fetched.err;
  for (const std::string& name : names) {
    const ShellOutput same = run_shell("cmp '" + site.file(name) + "' '" + into.file("got-" + name) + "'", into);
    if (same.status != 0) return name + ": " + same.out + same.err;
  }
  return "";
}

bool closed_within(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  uint8_t byte = 0;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN);
}

TestDevice::TestDevice(const TempDir& dir, int port, const std::vector<std::string>& services, int window,
                       int max_channels, const std::vector<std::string>& extra) {
  const std::string& pki = rig_pki_dir();
  std::vector<std::string> argv = {"/usr/bin/python3", source_path("tests/server/tunnel_device.py"),
                                   "--port", std::to_string(port),
                                   "--ca", pki + "/ca.crt",
                                   "--cert", pki + "/device.crt",
                                   "--key", pki + "/device.key",
                                   "--customer", "CUST-1",
                                   "--system", "SYS-0001",
                                   "--window", std::to_string(window),
                                   "--max-channels", std::to_string(max_channels)};
  for (const std::string& s : services) {
    argv.push_back("--service");
    argv.push_back(s);
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  static int count = 0;
  process_ = ChildProcess(argv, dir.file("device-" + std::to_string(++count) + ".log"));
}

bool TestDevice::welcomed() {
  return eventually([&] { return log().find("welcome") != std::string::npos; }, 10000);
}

std::vector<int> TestDevice::heartbeat_rtts() const {
  std::vector<int> out;
  const std::string text = log();
  const std::string tag = "heartbeat-rtt ";
  for (size_t at = text.find(tag); at != std::string::npos; at = text.find(tag, at + 1)) {
    out.push_back(std::atoi(text.c_str() + at + tag.size()));
  }
  return out;
}

TestSshd::TestSshd(const TempDir& dir, int port) : key_(dir.file("user_key")) {
  const std::string keygen = "ssh-keygen -q -t ed25519 -N '' -f ";
  EXPECT_EQ(run_command(keygen + "'" + dir.file("host_key") + "'"), 0);
  EXPECT_EQ(run_command(keygen + "'" + key_ + "'"), 0);
  EXPECT_EQ(run_command("cp '" + key_ + ".pub' '" + dir.file("authorized_keys") + "'"), 0);
  std::ofstream config(dir.file("sshd_config"));
  config << "Port " << port << "\nListenAddress 127.0.0.1\nHostKey " << dir.file("host_key")
         << "\nAuthorizedKeysFile " << dir.file("authorized_keys")
         << "\nPidFile none\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n";
  config.close();
  // As root, sshd wants its privilege separation folder (the package's
  // tmpfiles make it at boot; a container may not have run them).
  if (geteuid() == 0) (void)run_command("mkdir -p /run/sshd");
  process_ = ChildProcess({"/usr/sbin/sshd", "-D", "-e", "-f", dir.file("sshd_config")}, dir.file("sshd.log"));
  EXPECT_TRUE(wait_for_port(port, 10000)) << process_.log();
}

std::string TestSshd::login_command(int port, const std::string& command) const {
  return "ssh -p " + std::to_string(port) + " -i '" + key_ +
         "' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes"
         " -o ConnectTimeout=10 \"$(id -un)\"@127.0.0.1 '" + command + "'";
}

ForwardingServer::ForwardingServer(const TempDir& dir) {
  provision_test_fleet(ServerProcess::db_path(dir.path()));
  port_ = free_port();
  process_ = std::make_unique<ServerProcess>(dir.path(), std::vector<int>{port_});
}

ForwardingServer::~ForwardingServer() {
  if (process_->pid() > 0) {
    EXPECT_EQ(process_->stop(), 0) << process_->log();
  }
}

CommandResult ForwardingServer::admin(const std::string& args) const {
  return run_server_command("admin --control '" + process_->control_path() + "' " + args);
}

int ForwardingServer::forward(const std::string& service, const std::string& op) const {
  const CommandResult r = admin("forward SYS-0001 " + service + " --listen 127.0.0.1:0 --operator " + op);
  std::smatch m;
  if (r.status != 0 ||
      !std::regex_search(r.out, m, std::regex("forwarding 127\\.0\\.0\\.1:([0-9]+) to SYS-0001 service "))) {
    ADD_FAILURE() << r.text() << "\n" << log();
    return 0;
  }
  return std::stoi(m[1]);
}

std::vector<TunnelRecord> ForwardingServer::records() const {
  Result<std::unique_ptr<SqliteDirectory>> db = SqliteDirectory::open(process_->db_path(), 2000);
  if (!db.ok()) return {};
  Result<std::vector<TunnelRecord>> rows = (*db)->tunnels("SYS-0001");
  return rows.ok() ? *rows : std::vector<TunnelRecord>{};
}

std::vector<TunnelRecord> ForwardingServer::closed_records(size_t n) const {
  std::vector<TunnelRecord> rows;
  eventually([&] {
    rows = records();
    size_t closed = 0;
    for (const TunnelRecord& r : rows) closed += r.closed.has_value() ? 1 : 0;
    return closed >= n;
  }, 15000);
  return rows;
}

void TestDevice::kill() {
  if (process_.running()) ::kill(process_.pid(), SIGKILL);
  (void)process_.stop();
}

}  // namespace sublink::test
