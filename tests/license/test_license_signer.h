// Test-only license signer: the server's LicenseSigner with a fresh P-256
// key made at test time (never committed), plus what tests need to build
// hostile input: the other valid s, the group order, DER to raw r||s.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hal/posix/system_random.h"
#include "server_core/base64url_encode.h"
#include "server_core/license_signer.h"

namespace sublink::test {

using sublink::base64url_encode;

class TestLicenseSigner {
 public:
  /// Generates the key; a failure throws (the test cannot go on).
  TestLicenseSigner();
  TestLicenseSigner(const TestLicenseSigner&) = delete;
  TestLicenseSigner& operator=(const TestLicenseSigner&) = delete;

  /// The public key as "-----BEGIN PUBLIC KEY-----" PEM.
  std::string public_key_pem() const { return signer_.public_key_pem(); }
  /// ES256 signature of `message`, raw r||s; a failure throws.
  std::array<uint8_t, 64> sign(std::string_view message);
  /// The same signature with s replaced by n - s (the other valid form).
  std::array<uint8_t, 64> other_s_form(const std::array<uint8_t, 64>& signature);
  /// The group order n, big endian.
  std::array<uint8_t, 32> group_order();
  /// The signer itself, for a server session signing with the test key.
  LicenseSigner& license_signer() { return signer_; }

 private:
  SystemRandom entropy_;
  LicenseSigner signer_{entropy_};
};

/// DER ECDSA-Sig-Value (as openssl dgst -sign writes it) to raw r||s;
/// empty on malformed input.
std::vector<uint8_t> der_signature_to_raw(std::span<const uint8_t> der);

}  // namespace sublink::test
