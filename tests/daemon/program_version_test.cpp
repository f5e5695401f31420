// What every installed and developer program answers to --version, and how
// the server and the narrated link read the files they are given: with the
// same bound as sublinkd, naming a file that is not one to read.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <string>

#include "support/process.h"

namespace sublink::test {
namespace {

using Output = ShellOutput;
constexpr auto run = &run_shell;

TEST(ProgramVersion, EveryProgramPrintsItsNameAndVersion) {
  TempDir tmp;
  const std::pair<const char*, const char*> programs[] = {
      {"sublinkd", SUBLINKD_PATH},         {"sublinkctl", SUBLINKCTL_PATH},
      {"sublink-server", SERVER_PATH},     {"sublink-sim", SIM_PATH},
      {"sublink-connect", CONNECT_PATH},   {"sublink-demo", DEMO_PATH},
  };
  for (const auto& [name, path] : programs) {
    Output o = run(std::string(path) + " --version", tmp);
    EXPECT_EQ(o.status, 0) << name << ": " << o.err;
    EXPECT_EQ(o.out, std::string(name) + " " + SUBLINK_VERSION + "\n") << name;
  }
  // Also after other words: 'sublink-server --db x --version' is a question.
  Output later = run(std::string(SERVER_PATH) + " --db x.db --version", tmp);
  EXPECT_EQ(later.status, 0) << later.err;
  EXPECT_EQ(later.out, std::string("sublink-server ") + SUBLINK_VERSION + "\n");
}

class ServerFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir();
    ASSERT_EQ(run_command("sh " + source_path("tests/pki/make_pki.sh") + " " + pki_->path() + " >/dev/null 2>&1"), 0);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  std::string server(const std::string& ca, const std::string& cert, const std::string& key) const {
    return std::string(SERVER_PATH) + " --db " + tmp_.file("fleet.db") + " --ca " + ca + " --cert " + cert + " --key " +
           key + " --license-key " + pki_->file("license.key") + " --port " + std::to_string(free_port());
  }
  static TempDir* pki_;
  TempDir tmp_;
};
TempDir* ServerFiles::pki_ = nullptr;

TEST_F(ServerFiles, ADeviceNodeOrAnOversizedFileIsNamedNotRead) {
  Output zero = run(server("/dev/zero", pki_->file("server.crt"), pki_->file("server.key")), tmp_);
  EXPECT_EQ(zero.status, 78) << zero.err;
  EXPECT_NE(zero.err.find("--ca '/dev/zero' is not a regular file"), std::string::npos) << zero.err;

  std::ofstream(tmp_.file("big.crt")) << std::string(300 * 1024, 'A');
  Output big = run(server(pki_->file("ca.crt"), tmp_.file("big.crt"), pki_->file("server.key")), tmp_);
  EXPECT_EQ(big.status, 78) << big.err;
  EXPECT_NE(big.err.find("--cert '" + tmp_.file("big.crt") + "' is larger than 262144 bytes"), std::string::npos)
      << big.err;

  Output missing = run(server(pki_->file("ca.crt"), pki_->file("server.crt"), tmp_.file("none.key")), tmp_);
  EXPECT_EQ(missing.status, 78) << missing.err;
  EXPECT_NE(missing.err.find("--key '" + tmp_.file("none.key") + "': cannot read: No such file or directory"),
            std::string::npos)
      << missing.err;

  Output connect = run(std::string(CONNECT_PATH) + " --server 127.0.0.1 --ca /dev/zero --cert " +
                           pki_->file("device.crt") + " --key " + pki_->file("device.key"),
                       tmp_);
  EXPECT_EQ(connect.status, 2) << connect.err;
  EXPECT_NE(connect.err.find("--ca '/dev/zero' is not a regular file"), std::string::npos) << connect.err;
}

}  // namespace
}  // namespace sublink::test
