// Test-only license signer: a fresh P-256 key pair made with Mbed TLS at
// test time (never committed), ES256 signatures in the raw r||s form
// sublink/1 uses, and the conversions tests need to build hostile input.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>

namespace sublink::test {

class TestLicenseSigner {
 public:
  TestLicenseSigner();
  ~TestLicenseSigner();
  TestLicenseSigner(const TestLicenseSigner&) = delete;
  TestLicenseSigner& operator=(const TestLicenseSigner&) = delete;

  /// The public key as "-----BEGIN PUBLIC KEY-----" PEM.
  std::string public_key_pem();
  /// ES256 signature of `message`, raw r||s.
  std::array<uint8_t, 64> sign(std::string_view message);
  /// The same signature with s replaced by n - s (the other valid form).
  std::array<uint8_t, 64> other_s_form(const std::array<uint8_t, 64>& signature);
  /// The group order n, big endian.
  std::array<uint8_t, 32> group_order();

 private:
  mbedtls_pk_context pk_;
  mbedtls_ctr_drbg_context drbg_;
};

/// base64url without padding.
std::string base64url_encode(std::span<const uint8_t> bytes);
std::string base64url_encode(std::string_view text);

/// DER ECDSA-Sig-Value (as openssl dgst -sign writes it) to raw r||s;
/// empty on malformed input.
std::vector<uint8_t> der_signature_to_raw(std::span<const uint8_t> der);

}  // namespace sublink::test
