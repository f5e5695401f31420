// The programs the demo starts: long-running ones (server, agent, watch)
// whose output goes to a log file, and short commands whose output the demo
// reads. A ChildProcess is stopped by its own PID when it goes out of scope,
// also when the demo fails or is interrupted, and gets SIGTERM from the
// kernel if the demo itself dies.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sublink::demo {

class ChildProcess {
 public:
  ChildProcess() = default;
  /// Starts argv[0] (a path) with stdout and stderr appended to `log_path`
  /// and stdin from /dev/null. pid() is -1 when fork failed.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// True while the process has not exited (reaps it when it has).
  bool running();
  /// SIGTERM, then SIGKILL after `grace_ms`; the wait status, or -1 when
  /// nothing was running.
  int stop(int grace_ms = 5000);
  /// The wait status once the process has exited by itself (-1 before).
  int exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

/// What a finished short command said.
struct CommandResult {
  int exit_code = -1;  // -1: could not run, killed, or timed out
  std::string out;
  std::string err;
};

/// Runs argv[0] (a path) to completion, no shell, reading its stdout and
/// stderr; killed (exit_code -1) when it runs longer than `timeout_ms`.
CommandResult run_command(const std::vector<std::string>& argv, int timeout_ms = 10000);

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, read,
/// released); 0 when none could be had.
int free_loopback_port();

/// "exit 0", "exit 3" or "signal 9" for a wait status.
std::string describe_wait_status(int status);

}  // namespace sublink::demo
