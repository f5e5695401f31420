#include "server_core/license_signer.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/sha256.h>

#include "server_core/base64url_encode.h"

namespace sublink {

namespace {

int entropy_callback(void* ctx, unsigned char* out, size_t len) {
  Status s = static_cast<Random*>(ctx)->fill({out, len});
  return s.ok() ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

bool is_p256(const mbedtls_pk_context& pk) {
  return mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY &&
         mbedtls_pk_ec(pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

// Mbed TLS error codes are negative; the Status detail carries them as is.
Status mbedtls_failure(Reason reason, int rc) { return Status(reason, rc); }

}  // namespace

LicenseSigner::LicenseSigner(Random& entropy) : entropy_(entropy) {
  mbedtls_pk_init(&pk_);
  mbedtls_ctr_drbg_init(&drbg_);
}

LicenseSigner::~LicenseSigner() {
  mbedtls_pk_free(&pk_);
  mbedtls_ctr_drbg_free(&drbg_);
}

Status LicenseSigner::seed_once() {
  if (seeded_) return Status::Ok();
  static constexpr unsigned char kPersonalisation[] = "sublink license signer";
  int rc = mbedtls_ctr_drbg_seed(&drbg_, entropy_callback, &entropy_, kPersonalisation, sizeof kPersonalisation - 1);
  if (rc != 0) return mbedtls_failure(Reason::io_error, rc);
  seeded_ = true;
  return Status::Ok();
}

Status LicenseSigner::load_private_key(std::string_view key_text) {
  // PEM parsing needs the terminating NUL counted in the length.
  std::string text(key_text);
  mbedtls_pk_context parsed;
  mbedtls_pk_init(&parsed);
  int rc = mbedtls_pk_parse_key(&parsed, reinterpret_cast<const unsigned char*>(text.c_str()), text.size() + 1,
                                nullptr, 0);
  if (rc != 0 || !is_p256(parsed)) {
    mbedtls_pk_free(&parsed);
    return mbedtls_failure(Reason::invalid_argument, rc);
  }
  mbedtls_pk_free(&pk_);
  pk_ = parsed;  // the context owns its key through a pointer: moving it is a plain copy
  ready_ = true;
  return Status::Ok();
}

Status LicenseSigner::generate() {
  Status seeded = seed_once();
  if (!seeded.ok()) return seeded;
  mbedtls_pk_context fresh;
  mbedtls_pk_init(&fresh);
  int rc = mbedtls_pk_setup(&fresh, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc == 0) {
    rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(fresh), mbedtls_ctr_drbg_random, &drbg_);
  }
  if (rc != 0) {
    mbedtls_pk_free(&fresh);
    return mbedtls_failure(Reason::io_error, rc);
  }
  mbedtls_pk_free(&pk_);
  pk_ = fresh;
  ready_ = true;
  return Status::Ok();
}

std::string LicenseSigner::public_key_pem() const {
  if (!ready_) return {};
  unsigned char buf[1024];
  if (mbedtls_pk_write_pubkey_pem(const_cast<mbedtls_pk_context*>(&pk_), buf, sizeof buf) != 0) return {};
  return reinterpret_cast<const char*>(buf);
}

std::string LicenseSigner::private_key_pem() const {
  if (!ready_) return {};
  unsigned char buf[1024];
  if (mbedtls_pk_write_key_pem(const_cast<mbedtls_pk_context*>(&pk_), buf, sizeof buf) != 0) return {};
  return reinterpret_cast<const char*>(buf);
}

Result<Es256Signature> LicenseSigner::sign(std::string_view message) {
  if (!ready_) return Status(Reason::invalid_argument);
  Status seeded = seed_once();
  if (!seeded.ok()) return seeded;
  unsigned char hash[32];
  int rc = mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(message.data()), message.size(), hash, 0);
  if (rc != 0) return mbedtls_failure(Reason::io_error, rc);
  mbedtls_ecp_keypair* key = mbedtls_pk_ec(pk_);
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  Es256Signature raw{};
  rc = mbedtls_ecdsa_sign(&key->grp, &r, &s, &key->d, hash, sizeof hash, mbedtls_ctr_drbg_random, &drbg_);
  if (rc == 0) rc = mbedtls_mpi_write_binary(&r, raw.data(), 32);
  if (rc == 0) rc = mbedtls_mpi_write_binary(&s, raw.data() + 32, 32);
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  if (rc != 0) return mbedtls_failure(Reason::io_error, rc);
  return raw;
}

Result<SignedGrant> LicenseSigner::sign_license(const LicenseContent& content) {
  Result<std::string> json = make_license_json(content);
  if (!json.ok()) return json.status();
  Result<Es256Signature> signature = sign(*json);
  if (!signature.ok()) return signature.status();
  SignedGrant grant;
  grant.license = base64url_encode(*json);
  grant.sig = base64url_encode(std::span<const uint8_t>(signature->data(), signature->size()));
  grant.license_json = std::move(*json);
  return grant;
}

}  // namespace sublink
