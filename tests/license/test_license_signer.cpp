#include "test_license_signer.h"

#include <mbedtls/asn1.h>
#include <mbedtls/ecp.h>

#include <stdexcept>

namespace sublink::test {

namespace {
void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + " failed: " + std::to_string(rc));
}

void check(const Status& s, const char* what) {
  if (!s.ok()) throw std::runtime_error(std::string(what) + " failed: " + reason_name(s.reason()));
}

/// The P-256 group, for its order n.
struct P256 {
  P256() {
    mbedtls_ecp_group_init(&group);
    check(mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1), "load P-256");
  }
  ~P256() { mbedtls_ecp_group_free(&group); }
  mbedtls_ecp_group group;
};
}  // namespace

TestLicenseSigner::TestLicenseSigner() { check(signer_.generate(), "key generation"); }

std::array<uint8_t, 64> TestLicenseSigner::sign(std::string_view message) {
  Result<Es256Signature> signature = signer_.sign(message);
  check(signature.status(), "sign");
  return *signature;
}

std::array<uint8_t, 64> TestLicenseSigner::other_s_form(const std::array<uint8_t, 64>& signature) {
  P256 p256;
  mbedtls_mpi s, other;
  mbedtls_mpi_init(&s);
  mbedtls_mpi_init(&other);
  check(mbedtls_mpi_read_binary(&s, signature.data() + 32, 32), "read s");
  check(mbedtls_mpi_sub_mpi(&other, &p256.group.N, &s), "n - s");
  std::array<uint8_t, 64> out = signature;
  check(mbedtls_mpi_write_binary(&other, out.data() + 32, 32), "write s");
  mbedtls_mpi_free(&s);
  mbedtls_mpi_free(&other);
  return out;
}

std::array<uint8_t, 32> TestLicenseSigner::group_order() {
  P256 p256;
  std::array<uint8_t, 32> n{};
  check(mbedtls_mpi_write_binary(&p256.group.N, n.data(), n.size()), "write n");
  return n;
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
