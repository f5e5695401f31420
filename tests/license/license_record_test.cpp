#include "firmware/license/license_record.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "firmware/license/license_acceptance.h"
#include "test_license_signer.h"

namespace sublink {
namespace {

const std::string kLicense =
    R"({"serial":"L-9","customer_id":"C-42","system_id":"SYS-7","issued":5,"not_before":10,"expires":20,)"
    R"("features":[{"name":"trunks","qty":8}]})";

class LicenseRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(key.load(signer.public_key_pem()).ok());
    std::string body = test::base64url_encode(kLicense);
    std::string sig = test::base64url_encode(signer.sign(kLicense));
    ASSERT_TRUE(accept_license_grant(key, {body, sig, "ES256"}, {"C-42", "SYS-7", 15, nullptr}, *held).accepted());
  }
  std::vector<uint8_t> record() {
    std::vector<uint8_t> out(kMaxLicenseRecordBytes);
    auto n = write_license_record(held->signed_form, out);
    EXPECT_TRUE(n.ok());
    out.resize(n.ok() ? *n : 0);
    return out;
  }
  test::TestLicenseSigner signer;
  LicenseKey key;
  std::unique_ptr<License> held = std::make_unique<License>();
  std::unique_ptr<License> restored = std::make_unique<License>();
};

TEST_F(LicenseRecordTest, RoundTripsAndVerifiesAgainAtBoot) {
  auto bytes = record();
  EXPECT_EQ(bytes.size(), kLicenseRecordHeaderBytes + kLicense.size() + 64);
  SignedLicense stored;
  ASSERT_TRUE(read_license_record(bytes, stored).ok());
  LicenseDecision d = verify_stored_license(key, stored, "C-42", "SYS-7", *restored);
  ASSERT_TRUE(d.accepted()) << license_refusal_name(d.refusal);
  EXPECT_EQ(restored->terms.serial.view(), "L-9");
  EXPECT_EQ(restored->terms.quantity("trunks"), 8u);
  EXPECT_EQ(restored->terms.issued, 5);
  // The window is judged later, by the server's clock.
  EXPECT_EQ(license_window_refusal(restored->terms, 9 - kServerClockLagMs), LicenseRefusal::not_yet_valid);
  EXPECT_EQ(license_window_refusal(restored->terms, 20), LicenseRefusal::none);
  EXPECT_EQ(license_window_refusal(restored->terms, 21), LicenseRefusal::expired);
}

TEST_F(LicenseRecordTest, DetectsTamperingThroughTheSignature) {
  auto bytes = record();
  // Raise the trunk count: 8 -> 9, inside the license bytes.
  size_t at = kLicenseRecordHeaderBytes + kLicense.find("\"qty\":8") + 6;
  bytes[at] = '9';
  SignedLicense stored;
  ASSERT_TRUE(read_license_record(bytes, stored).ok());
  EXPECT_EQ(verify_stored_license(key, stored, "C-42", "SYS-7", *restored).refusal, LicenseRefusal::bad_signature);

  bytes = record();
  bytes.back() ^= 0x80;  // inside the signature
  ASSERT_TRUE(read_license_record(bytes, stored).ok());
  EXPECT_EQ(verify_stored_license(key, stored, "C-42", "SYS-7", *restored).refusal, LicenseRefusal::bad_signature);
}

TEST_F(LicenseRecordTest, RefusesARecordMovedToAnotherDevice) {
  SignedLicense stored;
  ASSERT_TRUE(read_license_record(record(), stored).ok());
  EXPECT_EQ(verify_stored_license(key, stored, "C-42", "SYS-8", *restored).refusal, LicenseRefusal::wrong_system);
  EXPECT_EQ(verify_stored_license(key, stored, "C-1", "SYS-7", *restored).refusal, LicenseRefusal::wrong_customer);
}

TEST_F(LicenseRecordTest, RefusesDamagedFraming) {
  SignedLicense stored;
  auto good = record();
  auto bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_FALSE(read_license_record(bad_magic, stored).ok());
  auto bad_version = good;
  bad_version[3] = 2;
  EXPECT_FALSE(read_license_record(bad_version, stored).ok());
  auto truncated = good;
  truncated.pop_back();
  EXPECT_FALSE(read_license_record(truncated, stored).ok());
  auto extended = good;
  extended.push_back(0);
  EXPECT_FALSE(read_license_record(extended, stored).ok());
  auto huge_length = good;
  huge_length[4] = 0xFF;
  EXPECT_FALSE(read_license_record(huge_length, stored).ok());
  EXPECT_FALSE(read_license_record({}, stored).ok());
}

TEST_F(LicenseRecordTest, ReportsTooSmallOutputWithTheSizeNeeded) {
  std::vector<uint8_t> small(10);
  auto n = write_license_record(held->signed_form, small);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().reason(), Reason::out_of_memory);
  EXPECT_EQ(static_cast<size_t>(n.status().detail()), kLicenseRecordHeaderBytes + kLicense.size() + 64);
}

}  // namespace
}  // namespace sublink
