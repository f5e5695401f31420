// The server's license pieces: base64url as the device decodes it, the
// license JSON bytes, and ES256 signatures the device (and OpenSSL) verify.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>

#include "firmware/license/base64url.h"
#include "firmware/license/license_acceptance.h"
#include "firmware/license/license_key.h"
#include "hal/posix/system_random.h"
#include "hal/sim/deterministic_random.h"
#include "support/process.h"
#include "server_core/base64url_encode.h"
#include "server_core/license_json.h"
#include "server_core/license_signer.h"

namespace sublink {
namespace {

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The device's strict decoder, as text.
std::string decode(std::string_view text) {
  std::vector<uint8_t> out(base64url_decoded_size(text.size()) + 1);
  Result<size_t> n = base64url_decode(text, out);
  if (!n.ok()) return "<refused>";
  return std::string(reinterpret_cast<const char*>(out.data()), *n);
}

TEST(Base64urlEncode, Rfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(std::string_view("")), "");
  EXPECT_EQ(base64url_encode(std::string_view("f")), "Zg");
  EXPECT_EQ(base64url_encode(std::string_view("fo")), "Zm8");
  EXPECT_EQ(base64url_encode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(base64url_encode(std::string_view("foob")), "Zm9vYg");
  EXPECT_EQ(base64url_encode(std::string_view("fooba")), "Zm9vYmE");
  EXPECT_EQ(base64url_encode(std::string_view("foobar")), "Zm9vYmFy");
}

TEST(Base64urlEncode, UsesTheUrlAlphabet) {
  const uint8_t bytes[] = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64url_encode(std::span<const uint8_t>(bytes)), "-_-_");
}

TEST(Base64urlEncode, EveryLengthAndByteDecodesBackOnTheDevice) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t len = 0; len <= all.size(); len += 7) {
    std::string input = all.substr(0, len);
    EXPECT_EQ(decode(base64url_encode(input)), input) << "length " << len;
  }
}

LicenseContent sample_content() {
  LicenseContent c;
  c.serial = "L-9";
  c.customer_id = "C-42";
  c.system_id = "SYS-7";
  c.issued = 1'750'000'000'000;
  c.not_before = 1'749'999'700'000;
  c.expires = 1'757'776'000'000;
  c.features = {{"trunks", 30}, {"recording", 1}};
  return c;
}

TEST(LicenseJson, WritesEveryFieldInProtocolOrder) {
  Result<std::string> json = make_license_json(sample_content());
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json,
            R"({"serial":"L-9","customer_id":"C-42","system_id":"SYS-7","issued":1750000000000,)"
            R"("not_before":1749999700000,"expires":1757776000000,)"
            R"("features":[{"name":"trunks","qty":30},{"name":"recording","qty":1}]})");
}

TEST(LicenseJson, EscapesStringsAndKeepsLargeQuantities) {
  LicenseContent c = sample_content();
  c.serial = "L-\"9\"\\";
  c.features = {{"tr\u00fcnks", 4294967295u}};
  Result<std::string> json = make_license_json(c);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find(R"("serial":"L-\"9\"\\")"), std::string::npos) << *json;
  EXPECT_NE(json->find(R"("qty":4294967295)"), std::string::npos) << *json;
}

TEST(LicenseJson, RefusesInvalidUtf8) {
  LicenseContent c = sample_content();
  c.system_id = "SYS-\xff";
  EXPECT_EQ(make_license_json(c).status().reason(), Reason::invalid_argument);
}

TEST(LicenseJson, ALargeFeatureListIsWrittenWhole) {
  LicenseContent c = sample_content();
  c.features.clear();
  for (int i = 0; i < 200; ++i) c.features.push_back({"feature-" + std::to_string(i), static_cast<uint32_t>(i)});
  Result<std::string> json = make_license_json(c);
  ASSERT_TRUE(json.ok());
  EXPECT_GT(json->size(), 512u);
  EXPECT_NE(json->find(R"({"name":"feature-199","qty":199}]})"), std::string::npos);
}

class LicenseSignerTest : public ::testing::Test {
 protected:
  SystemRandom entropy;
  LicenseSigner signer{entropy};
};

TEST_F(LicenseSignerTest, WithoutAKeyNothingIsSigned) {
  EXPECT_FALSE(signer.ready());
  EXPECT_EQ(signer.sign("x").status().reason(), Reason::invalid_argument);
  EXPECT_EQ(signer.public_key_pem(), "");
}

TEST_F(LicenseSignerTest, SignaturesVerifyWithTheDeviceLicenseKey) {
  ASSERT_TRUE(signer.generate().ok());
  LicenseKey key;
  ASSERT_TRUE(key.load(signer.public_key_pem()).ok());
  Result<Es256Signature> sig = signer.sign("exact bytes");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key.verify(bytes_of("exact bytes"), *sig));
  EXPECT_FALSE(key.verify(bytes_of("exact bytes "), *sig));
}

TEST_F(LicenseSignerTest, SignedLicenseIsAcceptedByTheDevice) {
  ASSERT_TRUE(signer.generate().ok());
  LicenseKey key;
  ASSERT_TRUE(key.load(signer.public_key_pem()).ok());
  LicenseContent content = sample_content();
  Result<SignedGrant> grant = signer.sign_license(content);
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(decode(grant->license), grant->license_json);
  EXPECT_EQ(grant->license_json, *make_license_json(content));
  License out;
  LicenseContext context{"C-42", "SYS-7", content.issued, nullptr};
  LicenseDecision d = accept_license_grant(key, {grant->license, grant->sig, "ES256"}, context, out);
  ASSERT_TRUE(d.accepted()) << license_refusal_name(d.refusal);
  EXPECT_EQ(out.terms.serial.view(), "L-9");
  EXPECT_EQ(out.terms.quantity("trunks"), 30u);
  EXPECT_EQ(out.terms.expires, content.expires);
}

TEST_F(LicenseSignerTest, AnotherKeysLicenseIsRefused) {
  ASSERT_TRUE(signer.generate().ok());
  LicenseSigner other(entropy);
  ASSERT_TRUE(other.generate().ok());
  LicenseKey key;
  ASSERT_TRUE(key.load(other.public_key_pem()).ok());
  Result<SignedGrant> grant = signer.sign_license(sample_content());
  License out;
  LicenseContext context{"C-42", "SYS-7", sample_content().issued, nullptr};
  EXPECT_EQ(accept_license_grant(key, {grant->license, grant->sig, "ES256"}, context, out).refusal,
            LicenseRefusal::bad_signature);
}

TEST_F(LicenseSignerTest, PrivateKeyPemRoundTrips) {
  ASSERT_TRUE(signer.generate().ok());
  LicenseSigner loaded(entropy);
  ASSERT_TRUE(loaded.load_private_key(signer.private_key_pem()).ok());
  EXPECT_EQ(loaded.public_key_pem(), signer.public_key_pem());
  LicenseKey key;
  ASSERT_TRUE(key.load(signer.public_key_pem()).ok());
  EXPECT_TRUE(key.verify(bytes_of("m"), *loaded.sign("m")));
}

TEST_F(LicenseSignerTest, LoadsOpenSslKeysInBothPemForms) {
  test::TempDir dir;
  ASSERT_EQ(test::run_command("cd " + dir.path() +
                              " && openssl ecparam -name prime256v1 -genkey -noout -out sec1.pem 2>/dev/null"
                              " && openssl pkcs8 -topk8 -nocrypt -in sec1.pem -out pkcs8.pem 2>/dev/null"
                              " && openssl ec -in sec1.pem -pubout -out pub.pem 2>/dev/null"),
            0);
  for (const char* form : {"sec1.pem", "pkcs8.pem"}) {
    LicenseSigner s(entropy);
    ASSERT_TRUE(s.load_private_key(read_file(dir.file(form))).ok()) << form;
    EXPECT_EQ(s.public_key_pem(), read_file(dir.file("pub.pem"))) << form;
  }
}

/// raw r||s to DER ECDSA-Sig-Value, for OpenSSL.
std::string raw_to_der(const Es256Signature& raw) {
  auto integer = [](const uint8_t* p) {
    size_t skip = 0;
    while (skip < 31 && p[skip] == 0) ++skip;
    std::string out(reinterpret_cast<const char*>(p + skip), 32 - skip);
    if (static_cast<uint8_t>(out[0]) & 0x80) out.insert(out.begin(), '\0');
    return std::string("\x02", 1) + static_cast<char>(out.size()) + out;
  };
  std::string body = integer(raw.data()) + integer(raw.data() + 32);
  return std::string("\x30", 1) + static_cast<char>(body.size()) + body;
}

// An independent verifier (OpenSSL) accepts the server's signatures: the
// devices are not the only ones that may check them.
TEST_F(LicenseSignerTest, OpenSslVerifiesTheSignatures) {
  ASSERT_TRUE(signer.generate().ok());
  test::TempDir dir;
  const std::string message = *make_license_json(sample_content());
  std::ofstream(dir.file("license.json"), std::ios::binary) << message;
  std::ofstream(dir.file("pub.pem"), std::ios::binary) << signer.public_key_pem();
  for (int i = 0; i < 4; ++i) {
    std::ofstream(dir.file("sig.der"), std::ios::binary) << raw_to_der(*signer.sign(message));
    EXPECT_EQ(test::run_command("cd " + dir.path() +
                                " && openssl dgst -sha256 -verify pub.pem -signature sig.der license.json >/dev/null"),
              0);
  }
  std::ofstream(dir.file("license.json"), std::ios::binary) << message << " ";
  EXPECT_NE(test::run_command("cd " + dir.path() +
                              " && openssl dgst -sha256 -verify pub.pem -signature sig.der license.json >/dev/null"),
            0);
}

TEST_F(LicenseSignerTest, RefusesKeysThatAreNotP256) {
  test::TempDir dir;
  ASSERT_EQ(test::run_command("cd " + dir.path() +
                              " && openssl ecparam -name secp384r1 -genkey -noout -out p384.pem 2>/dev/null"
                              " && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.pem "
                              "2>/dev/null"),
            0);
  EXPECT_EQ(signer.load_private_key(read_file(dir.file("p384.pem"))).reason(), Reason::invalid_argument);
  EXPECT_EQ(signer.load_private_key(read_file(dir.file("rsa.pem"))).reason(), Reason::invalid_argument);
  Status garbage = signer.load_private_key("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
  EXPECT_EQ(garbage.reason(), Reason::invalid_argument);
  EXPECT_NE(garbage.detail(), 0) << "the Mbed TLS code says why";
  EXPECT_FALSE(signer.ready());
}

TEST_F(LicenseSignerTest, AFailedLoadKeepsThePreviousKey) {
  ASSERT_TRUE(signer.generate().ok());
  std::string before = signer.public_key_pem();
  EXPECT_FALSE(signer.load_private_key("not a key").ok());
  EXPECT_TRUE(signer.ready());
  EXPECT_EQ(signer.public_key_pem(), before);
}

// The simulation replays runs from a seed: the same seed gives the same key
// and the same signatures.
TEST(LicenseSignerDeterminism, SameSeedSameKeyAndSignatures) {
  DeterministicRandom r1(7), r2(7), r3(8);
  LicenseSigner a(r1), b(r2), c(r3);
  ASSERT_TRUE(a.generate().ok());
  ASSERT_TRUE(b.generate().ok());
  ASSERT_TRUE(c.generate().ok());
  EXPECT_EQ(a.public_key_pem(), b.public_key_pem());
  EXPECT_NE(a.public_key_pem(), c.public_key_pem());
  EXPECT_EQ(*a.sign("m"), *b.sign("m"));
}

/// A Random that has failed (a broken entropy source).
class BrokenRandom final : public Random {
 public:
  Status fill(std::span<uint8_t>) override { return Status(Reason::io_error, 5); }
};

TEST(LicenseSignerEntropy, ABrokenEntropySourceIsAnError) {
  BrokenRandom broken;
  LicenseSigner s(broken);
  EXPECT_EQ(s.generate().reason(), Reason::io_error);
  EXPECT_FALSE(s.ready());
}

}  // namespace
}  // namespace sublink
