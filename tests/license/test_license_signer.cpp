#include "test_license_signer.h"

#include <mbedtls/asn1.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/sha256.h>

#include <random>
#include <stdexcept>

namespace sublink::test {

namespace {
int test_entropy(void*, unsigned char* out, size_t len) {
  std::random_device rd;
  for (size_t i = 0; i < len; ++i) out[i] = static_cast<unsigned char>(rd());
  return 0;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + " failed: " + std::to_string(rc));
}
}  // namespace

TestLicenseSigner::TestLicenseSigner() {
  mbedtls_pk_init(&pk_);
  mbedtls_ctr_drbg_init(&drbg_);
  check(mbedtls_ctr_drbg_seed(&drbg_, test_entropy, nullptr, nullptr, 0), "drbg seed");
  check(mbedtls_pk_setup(&pk_, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), "pk setup");
  check(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk_), mbedtls_ctr_drbg_random, &drbg_),
        "key generation");
}

TestLicenseSigner::~TestLicenseSigner() {
  mbedtls_pk_free(&pk_);
  mbedtls_ctr_drbg_free(&drbg_);
}

std::string TestLicenseSigner::public_key_pem() {
  unsigned char buf[1024];
  check(mbedtls_pk_write_pubkey_pem(&pk_, buf, sizeof buf), "write public key");
  return reinterpret_cast<const char*>(buf);
}

std::array<uint8_t, 64> TestLicenseSigner::sign(std::string_view message) {
  unsigned char hash[32];
  check(mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(message.data()), message.size(), hash, 0), "sha256");
  mbedtls_ecp_keypair* key = mbedtls_pk_ec(pk_);
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  check(mbedtls_ecdsa_sign(&key->grp, &r, &s, &key->d, hash, sizeof hash, mbedtls_ctr_drbg_random, &drbg_), "sign");
  std::array<uint8_t, 64> raw{};
  check(mbedtls_mpi_write_binary(&r, raw.data(), 32), "write r");
  check(mbedtls_mpi_write_binary(&s, raw.data() + 32, 32), "write s");
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  return raw;
}

std::array<uint8_t, 64> TestLicenseSigner::other_s_form(const std::array<uint8_t, 64>& signature) {
  mbedtls_mpi s, other;
  mbedtls_mpi_init(&s);
  mbedtls_mpi_init(&other);
  check(mbedtls_mpi_read_binary(&s, signature.data() + 32, 32), "read s");
  check(mbedtls_mpi_sub_mpi(&other, &mbedtls_pk_ec(pk_)->grp.N, &s), "n - s");
  std::array<uint8_t, 64> out = signature;
  check(mbedtls_mpi_write_binary(&other, out.data() + 32, 32), "write s");
  mbedtls_mpi_free(&s);
  mbedtls_mpi_free(&other);
  return out;
}

std::array<uint8_t, 32> TestLicenseSigner::group_order() {
  std::array<uint8_t, 32> n{};
  check(mbedtls_mpi_write_binary(&mbedtls_pk_ec(pk_)->grp.N, n.data(), n.size()), "write n");
  return n;
}

std::string base64url_encode(std::span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (uint8_t b : bytes) {
    bits = (bits << 8) | b;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 0x3F];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 0x3F];
  return out;
}

std::string base64url_encode(std::string_view text) {
  return base64url_encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::vector<uint8_t> der_signature_to_raw(std::span<const uint8_t> der) {
  unsigned char* p = const_cast<unsigned char*>(der.data());
  const unsigned char* end = p + der.size();
  size_t len = 0;
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) return {};
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  std::vector<uint8_t> raw(64);
  bool ok = mbedtls_asn1_get_mpi(&p, end, &r) == 0 && mbedtls_asn1_get_mpi(&p, end, &s) == 0 && p == end &&
            mbedtls_mpi_write_binary(&r, raw.data(), 32) == 0 && mbedtls_mpi_write_binary(&s, raw.data() + 32, 32) == 0;
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  if (!ok) raw.clear();
  return raw;
}

}  // namespace sublink::test
