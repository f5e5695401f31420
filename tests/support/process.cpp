#include "support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#ifndef SUBLINK_SOURCE_DIR
#error "SUBLINK_SOURCE_DIR must be defined by the build"
#endif

namespace sublink::test {

int free_port() {
  // The kernel may hand the same released port out again at once: a test
  // that asks for two ports must never get one port twice.
  static std::mutex lock;
  static std::set<int> handed_out;
  const std::lock_guard<std::mutex> hold(lock);
  int port = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    close(fd);
    if (handed_out.insert(port).second) break;
  }
  return port;
}

sockaddr_in loopback_address(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int listen_on_loopback(int& port, int backlog) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  sockaddr_in a = loopback_address(0);
  socklen_t size = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd, backlog) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

ClosedPort::ClosedPort() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::fprintf(stderr, "ClosedPort: %s\n", std::strerror(errno));
    std::abort();
  }
  port_ = ntohs(a.sin_port);
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) close(fd_);
}

bool wait_for_port(int port, int timeout_ms, bool v6) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    int rc;
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_addr = in6addr_loopback;
      a.sin6_port = htons(static_cast<uint16_t>(port));
      rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port));
      rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    close(fd);
    if (rc == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/sublink-test-XXXXXX";
  char* p = mkdtemp(tmpl);
  path_ = p ? p : "/tmp";
}

TempDir::~TempDir() {
  if (path_.rfind("/tmp/sublink-test-", 0) == 0) run_command("rm -rf '" + path_ + "'");
}

int run_command(const std::string& command) {
  int rc = std::system(command.c_str());
  if (rc == -1) return -1;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

ShellOutput run_shell(const std::string& command, const TempDir& tmp) {
  ShellOutput o;
  const std::string out = tmp.file("run.out"), err = tmp.file("run.err");
  const int w = std::system((command + " </dev/null >" + out + " 2>" + err).c_str());
  o.status = w != -1 && WIFEXITED(w) ? WEXITSTATUS(w) : -1;
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  o.out = slurp(out);
  o.err = slurp(err);
  return o;
}

std::string source_path(const std::string& relative) { return std::string(SUBLINK_SOURCE_DIR) + "/" + relative; }

ChildProcess start_tinyproxy(const TempDir& dir, int port, int allowed_port, bool auth) {
  std::ofstream(dir.file("tinyproxy.conf")) << "Port " << port << "\nListen 127.0.0.1\nTimeout 30\n"
                                            << "Allow 127.0.0.1\nConnectPort " << allowed_port << "\n"
                                            << "LogLevel Info\nMaxClients 16\n"
                                            << (auth ? "BasicAuth user s3cret\n" : "");
  ChildProcess p({"tinyproxy", "-d", "-c", dir.file("tinyproxy.conf")}, dir.file("tinyproxy.log"));
  wait_for_port(port, 10000);
  return p;
}

}  // namespace sublink::test
