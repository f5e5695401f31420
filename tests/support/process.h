// Test helpers that run real peers (python3-websockets, openssl s_server,
// tinyproxy, haproxy) on loopback. A ChildProcess (linux_util/process) is
// stopped by its own PID when it goes out of scope, also when the test fails.
#pragma once

#include <netinet/in.h>

#include <string>

#include "linux_util/process/child_process.h"

namespace sublink::test {

/// The one child-process helper (linux_util/process), by the name the tests
/// have always used.
using ::sublink::ChildProcess;

/// A free TCP port on 127.0.0.1 (bound, read, released).
int free_port();

/// A TCP port on 127.0.0.1 that refuses every connection for as long as this
/// object lives: bound but never listening. Unlike a released free_port(),
/// no other process can take it meanwhile, and the kernel never hands it out
/// as an ephemeral source port (a connect from port P to P on loopback
/// connects to itself).
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// 127.0.0.1:`port` as connect(2) and bind(2) take it.
sockaddr_in loopback_address(int port);

/// A listening TCP socket on 127.0.0.1 at a port the kernel chooses, which
/// goes into `port`; -1 when it cannot listen.
int listen_on_loopback(int& port, int backlog = 16);

/// Waits until a TCP connect to 127.0.0.1:port succeeds (or ::1 if v6).
bool wait_for_port(int port, int timeout_ms, bool v6 = false);

/// A fresh temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Runs a shell command, returns its exit status (-1 if it could not run).
int run_command(const std::string& command);

/// How a shell command exited and what it printed, stdout and stderr apart.
struct ShellOutput {
  int status = -1;  // the exit status, -1 when killed
  std::string out;
  std::string err;
};

/// Runs `command` through the shell with stdin from /dev/null, capturing
/// stdout and stderr in files of `tmp`.
ShellOutput run_shell(const std::string& command, const TempDir& tmp);

/// Path of a file under the source tree (tests/..., tools/...).
std::string source_path(const std::string& relative);

/// tinyproxy on 127.0.0.1:`port`, letting CONNECT through to
/// `allowed_port` only, with Basic authentication (user "user", password
/// "s3cret") when `auth`; its configuration and log in `dir`. Check
/// wait_for_port(port) before use: a proxy that did not start has exited.
ChildProcess start_tinyproxy(const TempDir& dir, int port, int allowed_port, bool auth);

}  // namespace sublink::test
