// Device certificates for a whole simulated fleet, issued in-process with
// Mbed TLS's certificate writer from one CA: one signature per device
// instead of one openssl run. Every certificate names its own system_id as
// subject CN (the server checks CN == system_id) and carries clientAuth, as
// a real device certificate does; the devices share one key pair, which the
// server neither sees nor cares about, so issuing costs no key generation.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hal/status.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"
#include "net/tls/tls_random.h"

namespace sublink {

class DeviceCertificateIssuer {
 public:
  DeviceCertificateIssuer();
  ~DeviceCertificateIssuer();
  DeviceCertificateIssuer(const DeviceCertificateIssuer&) = delete;
  DeviceCertificateIssuer& operator=(const DeviceCertificateIssuer&) = delete;

  /// Loads the issuing CA (certificate and unencrypted key) and the key the
  /// devices share. `random` signs and must outlive the issuer.
  /// invalid_argument (detail: Mbed TLS code) for unusable PEM.
  Status load(std::string_view ca_cert_pem, std::string_view ca_key_pem, std::string_view device_key_pem,
              TlsRandom& random);

  /// A DER certificate for `system_id`, serial `serial`, valid 2000..2099.
  /// invalid_argument (detail: Mbed TLS code) when writing fails.
  Result<std::vector<uint8_t>> issue(std::string_view system_id, uint64_t serial);

  /// The CA as Mbed TLS holds it: the trust anchor of the fleet's TLS.
  mbedtls_x509_crt& ca_certificate() { return ca_cert_; }
  /// The key every device certificate is issued for.
  mbedtls_pk_context& device_key() { return device_key_; }

 private:
  TlsRandom* random_ = nullptr;
  mbedtls_x509_crt ca_cert_;
  mbedtls_pk_context ca_key_;
  mbedtls_pk_context device_key_;
  std::string issuer_name_;  // the CA's subject, as the writer takes it
};

}  // namespace sublink
