// The command lines as an operator meets them: what every installed and
// developer program answers to --version; how the server and the narrated
// link read the files they are given (with sublinkd's bound, naming a file
// that is not one to read); the server's words for a key that does not
// match its certificate and a database it cannot open; and its offline
// commands, which validate as `admin` does and create no database but by
// init-db.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

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

// tests/pki/make_pki.sh OUTDIR SYS-0002 on an existing PKI adds a device
// of the same CA and keeps the CA, so a second appliance joins the fleet.
TEST_F(ServerFiles, MakePkiAddsADeviceToAnExistingPki) {
  const std::string dir = tmp_.file("pki");
  ASSERT_EQ(run_command("sh " + source_path("tests/pki/make_pki.sh") + " " + dir + " >/dev/null 2>&1"), 0);
  Output before = run("sha256sum " + dir + "/ca.crt " + dir + "/ca.key " + dir + "/device.crt", tmp_);
  Output added = run("sh " + source_path("tests/pki/make_pki.sh") + " " + dir + " SYS-0002", tmp_);
  ASSERT_EQ(added.status, 0) << added.err;
  Output after = run("sha256sum " + dir + "/ca.crt " + dir + "/ca.key " + dir + "/device.crt", tmp_);
  EXPECT_EQ(before.out, after.out) << "the CA and the first device are kept";
  Output verify = run("openssl verify -CAfile " + dir + "/ca.crt " + dir + "/device-SYS-0002.crt", tmp_);
  EXPECT_EQ(verify.status, 0) << verify.out << verify.err;
  Output subject = run("openssl x509 -noout -subject -in " + dir + "/device-SYS-0002.crt", tmp_);
  EXPECT_NE(subject.out.find("CN = SYS-0002"), std::string::npos) << subject.out;
  struct stat st {};
  ASSERT_EQ(stat((dir + "/device-SYS-0002.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Output bad = run("sh " + source_path("tests/pki/make_pki.sh") + " " + dir + " 'SYS 3'", tmp_);
  EXPECT_EQ(bad.status, 2) << bad.err;
}

TEST_F(ServerFiles, AKeyThatIsNotTheCertificatesIsNamed) {
  Output o = run(server(pki_->file("ca.crt"), pki_->file("server.crt"), pki_->file("device.key")), tmp_);
  EXPECT_EQ(o.status, 78) << o.err;
  EXPECT_NE(o.err.find("--key '" + pki_->file("device.key") + "' is not the private key of the certificate in --cert '" +
                       pki_->file("server.crt") + "' (CN="),
            std::string::npos)
      << o.err;
  EXPECT_EQ(o.err.find("Mbed TLS -20352"), std::string::npos) << o.err;
}

TEST_F(ServerFiles, ADatabaseThatCannotBeOpenedIsNamedInSQLitesWords) {
  const std::string serve = " --ca " + pki_->file("ca.crt") + " --cert " + pki_->file("server.crt") + " --key " +
                            pki_->file("server.key") + " --license-key " + pki_->file("license.key") + " --port " +
                            std::to_string(free_port());
  Output missing = run(std::string(SERVER_PATH) + " --db " + tmp_.file("no/such/folder/fleet.db") + serve, tmp_);
  EXPECT_EQ(missing.status, 78) << missing.err;
  EXPECT_NE(missing.err.find("--db '" + tmp_.file("no/such/folder/fleet.db") +
                             "': unable to open database file: No such file or directory (SQLite 14)"),
            std::string::npos)
      << missing.err;
  // Only init-db makes a database: serving from a missing one is refused,
  // names the command that makes it, and creates nothing.
  const std::string absent = tmp_.file("fleet-typo.db");
  Output none = run(std::string(SERVER_PATH) + " --db " + absent + serve, tmp_);
  EXPECT_EQ(none.status, 78) << none.err;
  EXPECT_NE(none.err.find("--db '" + absent + "': unable to open database file: No such file or directory (SQLite 14)"
                          "; make it with 'sublink-server init-db --db " + absent + "'"),
            std::string::npos)
      << none.err;
  EXPECT_NE(access(absent.c_str(), F_OK), 0) << "no database is created by serving";
  std::ofstream(tmp_.file("notes.txt")) << std::string(4096, 'x');
  Output text = run(std::string(SERVER_PATH) + " --db " + tmp_.file("notes.txt") + serve, tmp_);
  EXPECT_EQ(text.status, 78) << text.err;
  EXPECT_NE(text.err.find("--db '" + tmp_.file("notes.txt") + "': file is not a database (SQLite 26)"),
            std::string::npos)
      << text.err;
}

TEST_F(ServerFiles, OfflineCommandsValidateAsAdminAndOnlyInitDbMakesADatabase) {
  const std::string bin = std::string(SERVER_PATH) + " ";
  const std::string db = tmp_.file("fleet.db");
  Output typo = run(bin + "add-customer --db " + tmp_.file("typo.db") + " CUST-1", tmp_);
  EXPECT_EQ(typo.status, 1) << typo.err;
  EXPECT_NE(typo.err.find("no database '" + tmp_.file("typo.db") + "' (make one with 'sublink-server init-db"),
            std::string::npos)
      << typo.err;
  EXPECT_NE(access(tmp_.file("typo.db").c_str(), F_OK), 0) << "no database is made by add-customer";

  ASSERT_EQ(run(bin + "init-db --db " + db, tmp_).status, 0);
  ASSERT_EQ(run(bin + "add-customer --db " + db + " CUST-1", tmp_).status, 0);
  Output nope = run(bin + "add-system --db " + db + " --customer NOPE SYS-0001", tmp_);
  EXPECT_EQ(nope.status, 1) << nope.err;
  EXPECT_NE(nope.err.find("no customer NOPE (add-customer first)"), std::string::npos) << nope.err;
  Output listed = run(bin + "add-system --db " + db + " --customer CUST-1 SYS-0001", tmp_);
  EXPECT_EQ(listed.status, 0) << listed.err;
  // No customer NOPE was made on the way: adding a system to it still fails.
  EXPECT_EQ(run(bin + "add-system --db " + db + " --customer NOPE SYS-0002", tmp_).status, 1);

  struct Case {
    std::string args;
    std::string said;
  } cases[] = {
      {"add-customer --db " + db + " ''", "add-customer: an argument is empty"},
      {"add-system --db " + db + " --customer CUST-1 ''", "add-system: an argument is empty"},
      {"entitle --db " + db + " SYS-0001 '' 3", "entitle: an argument is empty"},
      {"entitle --db " + db + " SYS-0001 seats +3", "QTY must be a whole number from 0 to 4294967295, not '+3'"},
      {"entitle --db " + db + " SYS-0001 seats 4294967296", "not '4294967296'"},
  };
  for (const Case& c : cases) {
    Output o = run(bin + c.args, tmp_);
    EXPECT_EQ(o.status, 2) << c.args << ": " << o.err;
    EXPECT_NE(o.err.find(c.said), std::string::npos) << c.args << ": " << o.err;
  }
  EXPECT_EQ(run(bin + "entitle --db " + db + " SYS-0001 seats 4294967295", tmp_).status, 0);
}

}  // namespace
}  // namespace sublink::test
