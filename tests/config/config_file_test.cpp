// load_config_file against real files: the test PKI from make_pki.sh in a
// temporary directory, with each named file broken in turn.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "boards/host/config/config_file.h"
#include "support/process.h"

namespace sublink {
namespace {

using test::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ConfigFile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir();
    std::string command = "sh '" + test::source_path("tests/pki/make_pki.sh") + "' '" + pki_->path() + "' >/dev/null";
    ASSERT_EQ(test::run_command(command), 0) << "make_pki.sh failed";
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    values_ = {
        {"server", "\"localhost\""},
        {"customer_id", "\"CUST-1\""},
        {"system_id", "\"SYS-0001\""},
        {"ca_file", quoted(copy("ca.crt"))},
        {"cert_file", quoted(copy("device.crt"))},
        {"key_file", quoted(copy("device.key"))},
        {"license_key_file", quoted(copy("license.pub"))},
        {"state_dir", quoted(dir_.file("state"))},
    };
  }

  static std::string quoted(const std::string& s) { return "\"" + s + "\""; }
  static std::string pki(const std::string& name) { return pki_->file(name); }

  // Copies a PKI file into this test's directory, so the test may break it.
  std::string copy(const std::string& name, const std::string& as = "") {
    std::string to = dir_.file(as.empty() ? name : as);
    std::ifstream in(pki(name), std::ios::binary);
    std::ofstream out(to, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
    out.close();
    ::chmod(to.c_str(), 0600);
    return to;
  }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    std::string path = dir_.file(name);
    std::ofstream(path, std::ios::trunc) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  void set(const std::string& key, const std::string& path) { values_[key] = quoted(path); }

  std::string config_path() {
    std::string text = "{";
    for (const auto& [key, value] : values_) text += (text.size() > 1 ? ",\n  \"" : "\n  \"") + key + "\": " + value;
    return write("agent.json", text + "\n}\n");
  }
  ConfigError load() { return load_config_file(config_path(), loaded_); }
  std::string error() {
    ConfigError e = load();
    EXPECT_FALSE(e.ok());
    return std::string(e.message());
  }

  static TempDir* pki_;
  TempDir dir_;
  std::map<std::string, std::string> values_;
  HostConfig loaded_;
};

TempDir* ConfigFile::pki_ = nullptr;

TEST_F(ConfigFile, GoodFilesLoadAndStateDirIsCreatedPrivate) {
  ConfigError e = load();
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(loaded_.config->system_id.view(), "SYS-0001");
  EXPECT_EQ(loaded_.config->server.view(), "localhost");
  EXPECT_THAT(loaded_.ca_pem, StartsWith("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(loaded_.cert_pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(loaded_.key_pem, HasSubstr("PRIVATE KEY-----"));
  EXPECT_THAT(loaded_.license_key_pem, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("state").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // A second start finds the directory it made and accepts it.
  HostConfig again;
  EXPECT_TRUE(load_config_file(config_path(), again).ok());
}

TEST_F(ConfigFile, MissingOrUnusableConfigFile) {
  HostConfig out;
  ConfigError e = load_config_file(dir_.file("absent.json"), out);
  EXPECT_EQ(e.message(), "config: config file '" + dir_.file("absent.json") + "': cannot read: No such file or directory");
  EXPECT_EQ(e.status().reason(), Reason::io_error);
  EXPECT_EQ(load_config_file(dir_.path(), out).message(), "config: config file '" + dir_.path() + "' is not a regular file");
}

TEST_F(ConfigFile, InvalidJsonNamesLineAndColumn) {
  HostConfig out;
  std::string path = write("bad.json", "{\n  \"server\": \"x\"\n  \"ports\": [443]\n}\n");
  EXPECT_EQ(load_config_file(path, out).message(), "config: not valid JSON at line 3, column 3");
}

TEST_F(ConfigFile, ARawControlCharacterIsRefusedWithItsPlace) {
  // "SYS-0001" NUL "X": cJSON alone reads "SYS-0001", which matches the
  // certificate, and the file would load saying something else than it
  // reads in an editor.
  values_["system_id"] = std::string("\"SYS-0001\0X\"", 12);
  EXPECT_EQ(error(), "config: a raw control character (0x00, must be escaped) at line 9, column 25");
  values_["system_id"] = "\"SYS-0001\"";
  values_["customer_id"] = "\"CUST-1\x1b[2J\"";
  EXPECT_EQ(error(), "config: a raw control character (0x1b, must be escaped) at line 4, column 25");
}

TEST_F(ConfigFile, SettingErrorsComeFromTheParser) {
  values_["retry_max"] = "5";
  EXPECT_EQ(error(), "config: 'retry_max': unknown key");
}

TEST_F(ConfigFile, UnreadableNamedFilesAreNamed) {
  for (const char* key : {"ca_file", "cert_file", "key_file", "license_key_file"}) {
    SetUp();
    set(key, dir_.file("nowhere.pem"));
    EXPECT_EQ(error(), std::string("config: ") + key + " '" + dir_.file("nowhere.pem") +
                           "': cannot read: No such file or directory");
  }
}

TEST_F(ConfigFile, NamedFilesMustBePem) {
  for (const char* key : {"ca_file", "cert_file", "key_file", "license_key_file"}) {
    SetUp();
    set(key, write("der.bin", "\x30\x82\x01\x0a not pem"));
    EXPECT_EQ(error(), std::string("config: ") + key + " '" + dir_.file("der.bin") +
                           "' is not PEM (no \"-----BEGIN\" line)");
  }
}

TEST_F(ConfigFile, PemThatDoesNotParseIsRefused) {
  std::string junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  set("ca_file", write("junk-ca.crt", junk));
  EXPECT_THAT(error(), StartsWith("config: ca_file '" + dir_.file("junk-ca.crt") + "' holds an invalid certificate (Mbed TLS -0x"));
  SetUp();
  set("cert_file", write("junk-device.crt", junk));
  EXPECT_THAT(error(), StartsWith("config: cert_file '" + dir_.file("junk-device.crt") + "' holds no valid certificate"));
  SetUp();
  set("key_file", copy("device.crt", "cert-as-key.pem"));
  EXPECT_THAT(error(), StartsWith("config: key_file '" + dir_.file("cert-as-key.pem") +
                                  "' holds no valid unencrypted private key"));
  SetUp();
  set("license_key_file", copy("ca.crt", "cert-as-license.pub"));
  EXPECT_EQ(error(), "config: license_key_file '" + dir_.file("cert-as-license.pub") + "' is not an EC P-256 public key");
}

TEST_F(ConfigFile, RsaLicenseKeyIsRefused) {
  std::string pub = dir_.file("rsa.pub");
  ASSERT_EQ(test::run_command("openssl pkey -in '" + pki("server-rsa.key") + "' -pubout -out '" + pub + "' 2>/dev/null"), 0);
  set("license_key_file", pub);
  EXPECT_EQ(error(), "config: license_key_file '" + pub + "' is not an EC P-256 public key");
}

TEST_F(ConfigFile, PrivateKeyReadableByOthersIsRefused) {
  std::string key = dir_.file("device.key");
  ::chmod(key.c_str(), 0644);
  EXPECT_EQ(error(), "config: key_file '" + key + "' is readable by group or others (mode 0644): chmod 600 it");
  ::chmod(key.c_str(), 0640);
  EXPECT_EQ(error(), "config: key_file '" + key + "' is readable by group or others (mode 0640): chmod 600 it");
  ::chmod(key.c_str(), 0400);
  EXPECT_TRUE(load().ok());
}

TEST_F(ConfigFile, KeyOfAnotherCertificateIsRefused) {
  set("key_file", copy("server.key"));
  EXPECT_EQ(error(), "config: key_file '" + dir_.file("server.key") + "' is not the key of cert_file '" +
                         dir_.file("device.crt") + "'");
}

TEST_F(ConfigFile, SystemIdMustBeTheCertificateCommonName) {
  values_["system_id"] = "\"SYS-0002\"";
  EXPECT_EQ(error(), "config: system_id \"SYS-0002\" differs from the device certificate's CN \"SYS-0001\" (cert_file '" +
                         dir_.file("device.crt") + "')");
  values_["system_id"] = "\"sys-0001\"";  // the comparison is exact
  EXPECT_THAT(error(), HasSubstr("differs from the device certificate's CN"));
}

TEST_F(ConfigFile, StateDirMustBePrivateWritableDirectory) {
  std::string state = dir_.file("state");
  ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
  ::chmod(state.c_str(), 0755);
  EXPECT_EQ(error(), "config: state_dir '" + state + "' is accessible by group or others (mode 0755): chmod 700 it");
  ::chmod(state.c_str(), 0700);
  EXPECT_TRUE(load().ok());

  set("state_dir", write("plain-file", "x"));
  EXPECT_EQ(error(), "config: state_dir '" + dir_.file("plain-file") + "' is not a directory");

  set("state_dir", dir_.file("no/such/parent"));
  ConfigError e = load();
  EXPECT_EQ(e.message(), "config: state_dir '" + dir_.file("no/such/parent") + "': cannot create: No such file or directory");
  EXPECT_EQ(e.status().reason(), Reason::io_error);
}

}  // namespace
}  // namespace sublink
