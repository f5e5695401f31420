// Programs started by the host tools and tests: long-running ones (a server,
// an agent, a peer) whose output goes to a log file, and short commands
// whose output the caller reads. The one child-process helper of the tree:
// the test support (tests/support) and the demo (tools/demo) both use it.
//
// A ChildProcess is stopped by its own PID when it goes out of scope, also
// when its owner fails; it runs in its own process group (a Ctrl-C at the
// terminal reaches only the owner, which then stops its children in order)
// and gets SIGTERM from the kernel if the thread that started it dies.
//
// Driving it:
//   sublink::ChildProcess server({"sublink-server", "--db", db}, dir + "/server.log");
//   if (!server.running()) report(describe_wait_status(server.exit_status()), server.log());
//   int status = server.stop();  // SIGTERM, SIGKILL after the grace
//   sublink::CommandResult r = sublink::run_command({"/usr/bin/curl", "-s", url}, 5000);
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sublink {

/// How a ChildProcess opens its log file.
enum class ChildLog {
  truncate,  // a fresh log per start
  append,    // a log that a reader follows across restarts keeps what it held
};

class ChildProcess {
 public:
  ChildProcess() = default;
  /// Starts argv[0] (a path, or a name searched in PATH) with stdout and
  /// stderr to `log_path` and stdin from /dev/null. pid() is -1 when fork
  /// failed; a program that cannot be executed exits with status 127.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
               ChildLog mode = ChildLog::truncate);
  ~ChildProcess();
  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// False once the child has exited; that reaps it, and from then on
  /// nothing is sent to its PID (which the system may give to another
  /// process).
  bool running();
  /// SIGTERM, then SIGKILL after `grace_ms`; returns the wait status (also
  /// when running() already reaped the child), or -1 when nothing was
  /// started or it was stopped before.
  int stop(int grace_ms = 2000);
  /// The wait status once the process has exited (-1 before).
  int exit_status() const { return exit_status_; }
  /// Contents of the log so far (for failure messages).
  std::string log() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_status_ = -1;
  std::string log_path_;
};

/// What a finished short command said.
struct CommandResult {
  int exit_code = -1;  // -1: could not run, killed, or timed out
  std::string out;
  std::string err;
};

/// Runs argv[0] (a path, or a name searched in PATH) to completion, no
/// shell, reading its stdout and stderr apart; killed (exit_code -1) when it
/// runs longer than `timeout_ms`.
CommandResult run_command(const std::vector<std::string>& argv, int timeout_ms = 10000);

/// "exit 0", "exit 3" or "signal 9" for a wait status ("not running" for -1).
std::string describe_wait_status(int status);

}  // namespace sublink
