#include "server/server_process.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "integration/sublinkd_rig.h"

#ifndef SUBLINK_SERVER_PATH
#error "SUBLINK_SERVER_PATH must be defined by the build"
#endif

namespace sublink::test {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ServerProcess::ServerProcess(const std::string& dir, std::vector<int> ports, int heartbeat_s, int audit_s,
                             const std::vector<std::string>& extra_args)
    : dir_(dir) {
  const std::string& pki = rig_pki_dir();
  std::vector<std::string> argv = {SUBLINK_SERVER_PATH,
                                   "--db", db_path(),
                                   "--control", control_path(),
                                   "--ca", pki + "/ca.crt",
                                   "--cert", pki + "/server.crt",
                                   "--key", pki + "/server.key",
                                   "--license-key", pki + "/license.key",
                                   "--bind", "127.0.0.1",
                                   "--heartbeat-s", std::to_string(heartbeat_s),
                                   "--audit-s", std::to_string(audit_s),
                                   "--verbose"};
  for (int p : ports) {
    argv.push_back("--port");
    argv.push_back(std::to_string(p));
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = ChildProcess(argv, dir + "/server-" + std::to_string(ports.front()) + ".log");
  for (int p : ports) EXPECT_TRUE(wait_for_port(p, 10000)) << log();
}

CommandResult run_server_command(const std::string& args) {
  TempDir tmp;
  const std::string out = tmp.file("out");
  const std::string err = tmp.file("err");
  CommandResult r;
  r.status = run_command(std::string("'") + SUBLINK_SERVER_PATH + "' " + args + " >'" + out + "' 2>'" + err + "'");
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

int server_db_command(const std::string& db, const std::string& command, const std::string& args) {
  return run_command(std::string(SUBLINK_SERVER_PATH) + " " + command + " --db " + db + " " + args + " >/dev/null");
}

void provision_test_fleet(const std::string& db) {
  EXPECT_EQ(server_db_command(db, "init-db", ""), 0);
  EXPECT_EQ(server_db_command(db, "add-customer", "CUST-1"), 0);
  EXPECT_EQ(server_db_command(db, "add-system", "--customer CUST-1 SYS-0001"), 0);
  EXPECT_EQ(server_db_command(db, "entitle", "SYS-0001 seats 3"), 0);
  EXPECT_EQ(server_db_command(db, "entitle", "SYS-0001 trunks 1"), 0);
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace sublink::test
