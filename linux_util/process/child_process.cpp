#include "linux_util/process/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "hal/posix/system_clock.h"

namespace sublink {

namespace {

void sleep_ms(int ms) {
  timespec t{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

// In the child between fork and exec: its own process group, SIGTERM when
// the parent dies, and the signal state a fresh program expects (the parent
// may block or ignore signals it handles itself).
void become_child(pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(127);  // the parent died before prctl
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
}

// stdin from /dev/null, then the program; 127 when it cannot be executed.
[[noreturn]] void exec(const std::vector<std::string>& argv) {
  int null = open("/dev/null", O_RDONLY);
  if (null >= 0) dup2(null, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (args[0] != nullptr) execvp(args[0], args.data());
  _exit(127);
}

// Reaps `pid`, retrying when a signal interrupts the wait.
int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_path, ChildLog mode)
    : log_path_(log_path) {
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    become_child(parent);
    const int flags = O_WRONLY | O_CREAT | (mode == ChildLog::append ? O_APPEND : O_TRUNC);
    int fd = open(log_path.c_str(), flags, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    exec(argv);
  }
}

ChildProcess::~ChildProcess() { stop(); }

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(o.pid_), reaped_(o.reaped_), exit_status_(o.exit_status_), log_path_(std::move(o.log_path_)) {
  o.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    stop();
    pid_ = o.pid_;
    reaped_ = o.reaped_;
    exit_status_ = o.exit_status_;
    log_path_ = std::move(o.log_path_);
    o.pid_ = -1;
  }
  return *this;
}

bool ChildProcess::running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  reaped_ = true;
  exit_status_ = r == pid_ ? status : 0;
  return false;
}

int ChildProcess::stop(int grace_ms) {
  if (pid_ <= 0) return -1;
  if (!running()) {
    pid_ = -1;
    return exit_status_;
  }
  kill(pid_, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 10) {
    if (!running()) {
      pid_ = -1;
      return exit_status_;
    }
    sleep_ms(10);
  }
  kill(pid_, SIGKILL);
  exit_status_ = wait_for(pid_);
  reaped_ = true;
  pid_ = -1;
  return exit_status_;
}

std::string ChildProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult run_command(const std::vector<std::string>& argv, int timeout_ms) {
  CommandResult result;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return result;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return result;
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    become_child(parent);
    dup2(out[1], 1);
    dup2(err[1], 2);
    exec(argv);
  }
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(out[0]);
    close(err[0]);
    return result;
  }
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  SystemMonotonicClock clock;
  const Millis deadline = clock.now_ms() + timeout_ms;
  bool timed_out = false;
  int open_fds = 2;
  while (open_fds > 0) {
    const Millis left = deadline - clock.now_ms();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  if (timed_out) kill(pid, SIGKILL);
  const int status = wait_for(pid);
  result.exit_code = !timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string describe_wait_status(int status) {
  if (status < 0) return "not running";
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace sublink
