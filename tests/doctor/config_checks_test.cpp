// The doctor's configuration check with a real test PKI: every file on its
// own line, certificates judged by the clock, nothing created.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "boards/host/doctor/config_checks.h"
#include "support/process.h"

namespace sublink {
namespace {

using ::testing::HasSubstr;

constexpr Millis kYear2030 = 1893456000000;

class ConfigChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = dir_.file("pki");
    ASSERT_EQ(test::run_command("sh '" + test::source_path("tests/pki/make_pki.sh") + "' '" + pki_ + "' >/dev/null"),
              0);
  }

  std::string write(const std::string& cert = "device.crt", const std::string& state = "state") {
    const std::string path = dir_.file("sublink.json");
    std::ofstream(path) << R"({"server":"127.0.0.1","customer_id":"C-1","system_id":"SYS-0001",)"
                        << R"("ca_file":")" << pki_ << R"(/ca.crt","cert_file":")" << pki_ << "/" << cert << R"(",)"
                        << R"("key_file":")" << pki_ << R"(/device.key","license_key_file":")" << pki_
                        << R"(/license.pub","state_dir":")" << dir_.file(state) << R"("})";
    return path;
  }

  std::string text(const ConfigCheck& c) {
    std::string out;
    for (const CheckLine& l : c.lines) out += check_line_text(l) + "\n";
    return out;
  }

  test::TempDir dir_;
  std::string pki_;
};

TEST_F(ConfigChecks, AGoodSetPassesLineByLineAndTheMissingStateDirIsLeftToSublinkd) {
  ConfigCheck c;
  check_configuration(write(), kYear2030, c);
  EXPECT_TRUE(c.parsed && c.ok && c.tls_ready) << text(c);
  EXPECT_THAT(text(c), HasSubstr("PASS  ca_file '" + pki_ + "/ca.crt': CA 'sublink test CA', valid until 2099-12-31"));
  EXPECT_THAT(text(c), HasSubstr("device certificate 'SYS-0001', valid until"));
  EXPECT_THAT(text(c), HasSubstr("PASS  license_key_file"));
  EXPECT_THAT(text(c), HasSubstr("WARN  state_dir '" + dir_.file("state") + "' does not exist yet"));
  struct stat st {};
  EXPECT_NE(stat(dir_.file("state").c_str(), &st), 0) << "the doctor creates nothing";
}

TEST_F(ConfigChecks, CertificatesAreJudgedByTheClock) {
  ConfigCheck late;
  check_configuration(write(), kYear2030 + 20 * 365 * kDayMs, late);  // 2050: the device cert has ended
  EXPECT_FALSE(late.ok);
  EXPECT_THAT(text(late), HasSubstr("certificate 'SYS-0001' expired on"));
  EXPECT_THAT(text(late), HasSubstr("renew it"));

  ConfigCheck early;
  check_configuration(write(), 946684800000 - kDayMs, early);  // 1999-12-31: before the CA
  EXPECT_FALSE(early.ok);
  EXPECT_THAT(text(early), HasSubstr("certificate 'sublink test CA' is valid only from 2000-01-01"));
}

TEST_F(ConfigChecks, ACertificateOfAnotherSystemIsNamedAndEveryOtherFileStillChecked) {
  ConfigCheck c;
  check_configuration(write("server.crt"), kYear2030, c);
  EXPECT_TRUE(c.parsed);
  EXPECT_FALSE(c.ok);
  EXPECT_FALSE(c.tls_ready);
  EXPECT_THAT(text(c), HasSubstr("FAIL  key_file '" + pki_ + "/device.key' is not the key of cert_file"));
  EXPECT_THAT(text(c), HasSubstr("PASS  license_key_file")) << "the next files are checked all the same";
}

TEST_F(ConfigChecks, AnUnparsableFileIsOneLineAndNothingElse) {
  const std::string path = dir_.file("bad.json");
  std::ofstream(path) << R"({"server":"x","colour":"blue"})";
  ConfigCheck c;
  check_configuration(path, kYear2030, c);
  EXPECT_FALSE(c.parsed);
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_THAT(check_line_text(c.lines[0]), HasSubstr("FAIL  configuration '" + path + "': 'colour': unknown key"));
}

}  // namespace
}  // namespace sublink
