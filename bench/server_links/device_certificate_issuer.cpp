#include "bench/server_links/device_certificate_issuer.h"

#include "mbedtls/bignum.h"
#include "mbedtls/oid.h"
#include "mbedtls/x509_crt.h"
#include "net/tls/pem_loading.h"

namespace sublink {

namespace {

// extendedKeyUsage ::= SEQUENCE { id-kp-clientAuth (1.3.6.1.5.5.7.3.2) }:
// Mbed TLS 2.28's writer has no setter for it.
constexpr unsigned char kClientAuthUsage[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
                                              0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
// An EC P-256 leaf certificate takes about 500 bytes.
constexpr size_t kMaxCertificateBytes = 2048;

}  // namespace

DeviceCertificateIssuer::DeviceCertificateIssuer() {
  mbedtls_x509_crt_init(&ca_cert_);
  mbedtls_pk_init(&ca_key_);
  mbedtls_pk_init(&device_key_);
}

DeviceCertificateIssuer::~DeviceCertificateIssuer() {
  mbedtls_pk_free(&device_key_);
  mbedtls_pk_free(&ca_key_);
  mbedtls_x509_crt_free(&ca_cert_);
}

Status DeviceCertificateIssuer::load(std::string_view ca_cert_pem, std::string_view ca_key_pem,
                                     std::string_view device_key_pem, TlsRandom& random) {
  Status s = load_certificates(ca_cert_, ca_cert_pem);
  if (s.ok()) s = load_private_key(ca_key_, ca_key_pem, {});
  if (s.ok()) s = check_key_matches(ca_cert_, ca_key_);
  if (s.ok()) s = load_private_key(device_key_, device_key_pem, {});
  if (!s.ok()) return s;
  char name[256];
  const int n = mbedtls_x509_dn_gets(name, sizeof(name), &ca_cert_.subject);
  if (n < 0) return Status(Reason::invalid_argument, n);
  issuer_name_.assign(name, static_cast<size_t>(n));
  random_ = &random;
  return Status::Ok();
}

Result<std::vector<uint8_t>> DeviceCertificateIssuer::issue(std::string_view system_id, uint64_t serial) {
  if (random_ == nullptr) return Status(Reason::invalid_argument);
  mbedtls_x509write_cert writer;
  mbedtls_x509write_crt_init(&writer);
  mbedtls_mpi number;
  mbedtls_mpi_init(&number);
  const std::string subject = "CN=" + std::string(system_id);
  int rc = mbedtls_mpi_lset(&number, static_cast<mbedtls_mpi_sint>(serial));
  mbedtls_x509write_crt_set_version(&writer, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&writer, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&writer, &device_key_);
  mbedtls_x509write_crt_set_issuer_key(&writer, &ca_key_);
  if (rc == 0) rc = mbedtls_x509write_crt_set_serial(&writer, &number);
  if (rc == 0) rc = mbedtls_x509write_crt_set_validity(&writer, "20000101000000", "20991231235959");
  if (rc == 0) rc = mbedtls_x509write_crt_set_issuer_name(&writer, issuer_name_.c_str());
  if (rc == 0) rc = mbedtls_x509write_crt_set_subject_name(&writer, subject.c_str());
  if (rc == 0) rc = mbedtls_x509write_crt_set_basic_constraints(&writer, 0, -1);
  if (rc == 0) rc = mbedtls_x509write_crt_set_key_usage(&writer, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
  if (rc == 0) rc = mbedtls_x509write_crt_set_authority_key_identifier(&writer);
  if (rc == 0) {
    rc = mbedtls_x509write_crt_set_extension(&writer, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                             MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, kClientAuthUsage,
                                             sizeof(kClientAuthUsage));
  }
  std::vector<uint8_t> der;
  if (rc == 0) {
    unsigned char buffer[kMaxCertificateBytes];
    // The writer fills the buffer from its end and returns the length.
    rc = mbedtls_x509write_crt_der(&writer, buffer, sizeof(buffer), TlsRandom::generate, random_->context());
    if (rc > 0) der.assign(buffer + sizeof(buffer) - rc, buffer + sizeof(buffer));
  }
  mbedtls_mpi_free(&number);
  mbedtls_x509write_crt_free(&writer);
  if (rc < 0) return Status(Reason::invalid_argument, rc);
  return der;
}

}  // namespace sublink
