#include "firmware/license/license_key.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/process.h"
#include "test_license_signer.h"

namespace sublink {
namespace {

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LicenseKeyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(key.load(signer.public_key_pem()).ok()); }
  test::TestLicenseSigner signer;
  LicenseKey key;
  std::string message = R"({"serial":"L-1"})";
};

TEST_F(LicenseKeyTest, AcceptsASignatureOverTheExactBytes) {
  auto sig = signer.sign(message);
  EXPECT_TRUE(key.verify(bytes_of(message), sig));
}

TEST_F(LicenseKeyTest, RefusesASignatureOverDifferentBytes) {
  auto sig = signer.sign(message);
  std::string changed = message + " ";
  EXPECT_FALSE(key.verify(bytes_of(changed), sig));
  std::string flipped = message;
  flipped[3] ^= 1;
  EXPECT_FALSE(key.verify(bytes_of(flipped), sig));
}

TEST_F(LicenseKeyTest, RefusesASignatureByAnotherKey) {
  test::TestLicenseSigner other;
  EXPECT_FALSE(key.verify(bytes_of(message), other.sign(message)));
}

TEST_F(LicenseKeyTest, RefusesTruncatedExtendedAndDamagedSignatures) {
  auto sig = signer.sign(message);
  EXPECT_FALSE(key.verify(bytes_of(message), std::span<const uint8_t>(sig).first(63)));
  std::array<uint8_t, 65> longer{};
  std::copy(sig.begin(), sig.end(), longer.begin());
  EXPECT_FALSE(key.verify(bytes_of(message), longer));
  EXPECT_FALSE(key.verify(bytes_of(message), {}));
  for (size_t i : {0u, 31u, 32u, 63u}) {
    auto bad = sig;
    bad[i] ^= 0x01;
    EXPECT_FALSE(key.verify(bytes_of(message), bad)) << "bit flipped in byte " << i;
  }
}

TEST_F(LicenseKeyTest, RefusesZeroAndOutOfRangeScalars) {
  auto sig = signer.sign(message);
  std::array<uint8_t, 64> zero{};
  EXPECT_FALSE(key.verify(bytes_of(message), zero));
  auto zero_r = sig;
  std::fill(zero_r.begin(), zero_r.begin() + 32, 0);
  EXPECT_FALSE(key.verify(bytes_of(message), zero_r));
  auto zero_s = sig;
  std::fill(zero_s.begin() + 32, zero_s.end(), 0);
  EXPECT_FALSE(key.verify(bytes_of(message), zero_s));
  auto n = signer.group_order();
  auto s_is_n = sig;
  std::copy(n.begin(), n.end(), s_is_n.begin() + 32);
  EXPECT_FALSE(key.verify(bytes_of(message), s_is_n));
  std::array<uint8_t, 64> all_ones;
  all_ones.fill(0xFF);
  EXPECT_FALSE(key.verify(bytes_of(message), all_ones));
}

TEST_F(LicenseKeyTest, AcceptsBothLowAndHighSFormsLikeStandardVerifiers) {
  auto sig = signer.sign(message);
  auto other = signer.other_s_form(sig);
  EXPECT_NE(sig, other);
  EXPECT_TRUE(key.verify(bytes_of(message), sig));
  EXPECT_TRUE(key.verify(bytes_of(message), other));
}

TEST(LicenseKeyLoad, RefusesGarbageAndUnusableKeys) {
  LicenseKey key;
  EXPECT_FALSE(key.load("").ok());
  EXPECT_FALSE(key.load("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
  EXPECT_FALSE(key.loaded());
  EXPECT_FALSE(key.verify({}, std::array<uint8_t, 64>{}));

  test::TempDir dir;
  ASSERT_EQ(test::run_command("openssl ecparam -name secp384r1 -genkey -noout -out " + dir.file("p384.pem") +
                              " 2>/dev/null && openssl ec -in " + dir.file("p384.pem") + " -pubout -out " +
                              dir.file("p384.pub") + " 2>/dev/null"),
            0);
  Status p384 = key.load(read_file(dir.file("p384.pub")));
  EXPECT_EQ(p384.reason(), Reason::invalid_argument) << "a P-384 key is not ES256";
  ASSERT_EQ(test::run_command("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out " +
                              dir.file("rsa.pem") + " 2>/dev/null && openssl pkey -in " + dir.file("rsa.pem") +
                              " -pubout -out " + dir.file("rsa.pub") + " 2>/dev/null"),
            0);
  EXPECT_EQ(key.load(read_file(dir.file("rsa.pub"))).reason(), Reason::invalid_argument);
  EXPECT_FALSE(key.loaded());
}

// An independent signer (OpenSSL, DER signatures) must produce licenses the
// device accepts: the server side is not necessarily Mbed TLS.
TEST(LicenseKeyInterop, VerifiesSignaturesMadeByOpenSsl) {
  test::TempDir dir;
  const std::string message = R"({"serial":"L-ossl","issued":1})";
  {
    std::ofstream(dir.file("license.json"), std::ios::binary) << message;
  }
  ASSERT_EQ(test::run_command("cd " + dir.path() +
                              " && openssl ecparam -name prime256v1 -genkey -noout -out k.pem 2>/dev/null"
                              " && openssl ec -in k.pem -pubout -out k.pub 2>/dev/null"
                              " && openssl dgst -sha256 -sign k.pem -out sig.der license.json"),
            0);
  LicenseKey key;
  ASSERT_TRUE(key.load(read_file(dir.file("k.pub"))).ok());
  std::string der = read_file(dir.file("sig.der"));
  auto raw = test::der_signature_to_raw(bytes_of(der));
  ASSERT_EQ(raw.size(), 64u);
  EXPECT_TRUE(key.verify(bytes_of(message), raw));
  EXPECT_FALSE(key.verify(bytes_of(message + "x"), raw));
  // DER itself is not the wire form.
  EXPECT_FALSE(key.verify(bytes_of(message), bytes_of(der)));
}

}  // namespace
}  // namespace sublink
