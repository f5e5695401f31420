// The one child-process helper of the host tools and tests: a program started
// with its log, stopped by its own PID, and short commands run to the end.
#include "linux_util/process/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <string>

#include "support/process.h"

namespace sublink {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

void wait_until_exited(ChildProcess& p) {
  while (p.running()) {
  }
}

TEST(RunCommand, SeparatesOutputErrorsAndExitStatus) {
  CommandResult r = run_command({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(run_command({"/nonexistent/program"}).exit_code, 127);
}

TEST(RunCommand, AProgramThatDoesNotFinishIsKilled) {
  CommandResult r = run_command({"/bin/sh", "-c", "echo started; exec sleep 30"}, 300);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.out, "started\n");
}

TEST(RunCommand, FindsAProgramByNameInPath) {
  CommandResult r = run_command({"sh", "-c", "echo found"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "found\n");
}

TEST(ChildProcess, StopsByItsPidAndReportsHowItEnded) {
  test::TempDir dir;
  ChildProcess sleeper({"/bin/sleep", "30"}, dir.file("sleep.log"));
  ASSERT_GT(sleeper.pid(), 0);
  EXPECT_TRUE(sleeper.running());
  const int status = sleeper.stop();
  EXPECT_EQ(describe_wait_status(status), "signal 15");
  EXPECT_FALSE(sleeper.running());
  EXPECT_EQ(sleeper.stop(), -1) << "nothing left to stop";

  ChildProcess done({"/bin/sh", "-c", "echo said; exit 4"}, dir.file("done.log"));
  wait_until_exited(done);
  EXPECT_EQ(describe_wait_status(done.exit_status()), "exit 4");
  EXPECT_EQ(first_line(dir.file("done.log")), "said");
}

TEST(ChildProcess, GoingOutOfScopeStopsIt) {
  test::TempDir dir;
  pid_t pid;
  {
    ChildProcess sleeper({"/bin/sleep", "30"}, dir.file("sleep.log"));
    pid = sleeper.pid();
    ASSERT_GT(pid, 0);
  }
  EXPECT_EQ(kill(pid, 0), -1) << "the process is gone (and reaped)";
}

TEST(ChildProcess, StopAfterItExitedGivesItsStatusOnce) {
  test::TempDir dir;
  ChildProcess done({"/bin/sh", "-c", "exit 5"}, dir.file("done.log"));
  wait_until_exited(done);
  EXPECT_EQ(describe_wait_status(done.stop()), "exit 5") << "running() reaped it; stop() still tells how it ended";
  EXPECT_EQ(done.stop(), -1);
}

TEST(ChildProcess, AProgramThatIgnoresSigtermIsKilledAfterTheGrace) {
  test::TempDir dir;
  ChildProcess stubborn({"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"},
                        dir.file("stubborn.log"));
  for (int i = 0; i < 200 && first_line(dir.file("stubborn.log")) != "ready"; ++i) usleep(10000);
  EXPECT_EQ(describe_wait_status(stubborn.stop(200)), "signal 9");
}

TEST(ChildProcess, LogTruncatesOrAppendsAsAsked) {
  test::TempDir dir;
  const std::string path = dir.file("run.log");
  std::ofstream(path) << "earlier run\n";
  ChildProcess appended({"/bin/sh", "-c", "echo second run"}, path, ChildLog::append);
  wait_until_exited(appended);
  EXPECT_EQ(appended.log(), "earlier run\nsecond run\n");

  ChildProcess fresh({"/bin/sh", "-c", "echo only run; echo to stderr >&2"}, path);
  wait_until_exited(fresh);
  EXPECT_EQ(fresh.log(), "only run\nto stderr\n") << "the default starts a fresh log";
}

TEST(ChildProcess, RunsInItsOwnProcessGroupWithSignalsAtTheirDefaults) {
  test::TempDir dir;
  // The parent blocks SIGTERM; the child must not inherit that, or stop()
  // could only kill it.
  sigset_t term, before;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &before), 0);
  ChildProcess child({"/bin/sleep", "30"}, dir.file("sleep.log"));
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &before, nullptr), 0);
  ASSERT_GT(child.pid(), 0);
  for (int i = 0; i < 200 && getpgid(child.pid()) != child.pid(); ++i) usleep(10000);
  EXPECT_EQ(getpgid(child.pid()), child.pid());
  EXPECT_NE(getpgid(child.pid()), getpgrp());
  EXPECT_EQ(describe_wait_status(child.stop()), "signal 15");
}

TEST(DescribeWaitStatus, NamesExitsSignalsAndNothing) {
  EXPECT_EQ(describe_wait_status(-1), "not running");
  EXPECT_EQ(describe_wait_status(3 << 8), "exit 3");
  EXPECT_EQ(describe_wait_status(SIGKILL), "signal 9");
}

}  // namespace
}  // namespace sublink
