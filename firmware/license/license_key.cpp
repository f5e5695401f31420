#include "firmware/license/license_key.h"

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/sha256.h>

#include <cstring>
#include <memory>

namespace sublink {

LicenseKey::LicenseKey() { mbedtls_pk_init(&pk_); }

LicenseKey::~LicenseKey() { mbedtls_pk_free(&pk_); }

Status LicenseKey::load(std::string_view key_text) {
  mbedtls_pk_free(&pk_);
  mbedtls_pk_init(&pk_);
  loaded_ = false;
  // Mbed TLS wants PEM NUL-terminated, with the NUL counted in the length.
  size_t size = key_text.size() + 1;
  std::unique_ptr<unsigned char[]> copy(new unsigned char[size]);
  std::memcpy(copy.get(), key_text.data(), key_text.size());
  copy[key_text.size()] = '\0';
  bool pem = key_text.find("-----BEGIN") != std::string_view::npos;
  int rc = mbedtls_pk_parse_public_key(&pk_, copy.get(), pem ? size : key_text.size());
  if (rc != 0) return Status(Reason::invalid_argument, rc);
  if (!mbedtls_pk_can_do(&pk_, MBEDTLS_PK_ECKEY) || mbedtls_pk_ec(pk_)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
    return Status(Reason::invalid_argument);
  }
  loaded_ = true;
  return Status::Ok();
}

bool LicenseKey::verify(std::span<const uint8_t> message, std::span<const uint8_t> signature) const {
  if (!loaded_ || signature.size() != kEs256SignatureBytes) return false;
  unsigned char hash[32];
  if (mbedtls_sha256_ret(message.data(), message.size(), hash, 0) != 0) return false;

  mbedtls_mpi r;
  mbedtls_mpi s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  const mbedtls_ecp_keypair* key = mbedtls_pk_ec(pk_);
  // mbedtls_ecdsa_verify needs a mutable group for its scratch values; the
  // group is copied so this method stays const and re-entrant.
  mbedtls_ecp_group grp;
  mbedtls_ecp_group_init(&grp);
  bool ok = mbedtls_mpi_read_binary(&r, signature.data(), 32) == 0 &&
            mbedtls_mpi_read_binary(&s, signature.data() + 32, 32) == 0 &&
            mbedtls_ecp_group_copy(&grp, &key->grp) == 0 &&
            mbedtls_ecdsa_verify(&grp, hash, sizeof hash, &key->Q, &r, &s) == 0;
  mbedtls_ecp_group_free(&grp);
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  return ok;
}

}  // namespace sublink
