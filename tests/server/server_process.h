// The real sublink-server for tests: started on loopback ports with the
// test PKI, its database and control socket in a test's folder, stopped by
// PID when it goes out of scope; and its command lines (the offline
// database commands and `admin` against the running server).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "support/process.h"

namespace sublink::test {

class ServerProcess {
 public:
  /// Starts the server on `ports` (127.0.0.1) with `dir`/server.db and the
  /// control socket `dir`/server.sock, and waits until every port listens.
  /// `extra_args` go on its command line too.
  ServerProcess(const std::string& dir, std::vector<int> ports, int heartbeat_s = 1, int audit_s = 2,
                const std::vector<std::string>& extra_args = {});

  static std::string db_path(const std::string& dir) { return dir + "/server.db"; }
  std::string db_path() const { return db_path(dir_); }
  std::string control_path() const { return dir_ + "/server.sock"; }
  std::string log() const { return process_.log(); }
  pid_t pid() const { return process_.pid(); }
  /// SIGTERM; the wait status.
  int stop() { return process_.stop(); }

 private:
  std::string dir_;
  ChildProcess process_;
};

/// What a command printed and its exit status.
struct CommandResult {
  int status = -1;  // the exit status, -1 when it did not exit
  std::string out;
  std::string err;
  /// Everything, for failure messages.
  std::string text() const { return "exit " + std::to_string(status) + "\nstdout: " + out + "\nstderr: " + err; }
};

/// Runs `sublink-server ARGS` (ARGS are shell words, quoted by the caller).
CommandResult run_server_command(const std::string& args);

/// Runs `sublink-server COMMAND --db DB ARGS` (the offline database
/// commands); the exit status.
int server_db_command(const std::string& db, const std::string& command, const std::string& args);

/// Makes database `db` with the fleet the integration tests link: customer
/// CUST-1 with system SYS-0001 (the test PKI's device), entitled to 3 seats
/// and 1 trunk. Records a test failure for any command that fails.
void provision_test_fleet(const std::string& db);

/// How many times `needle` occurs in `text` (not overlapping).
size_t occurrences(const std::string& text, const std::string& needle);

}  // namespace sublink::test
