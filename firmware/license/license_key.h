// The license verification key (`license_key_file`): an ECDSA P-256 public
// key, loaded once at set-up, that checks ES256 signatures as sublink/1
// sends them (raw r||s, 64 bytes, over the exact license bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <mbedtls/pk.h>

#include "hal/status.h"

namespace sublink {

inline constexpr size_t kEs256SignatureBytes = 64;

class LicenseKey {
 public:
  LicenseKey();
  ~LicenseKey();
  LicenseKey(const LicenseKey&) = delete;
  LicenseKey& operator=(const LicenseKey&) = delete;

  /// Loads a PEM ("-----BEGIN PUBLIC KEY-----") or DER SubjectPublicKeyInfo.
  /// Anything but a P-256 EC key is invalid_argument (detail: the Mbed TLS
  /// error code when parsing failed). Set-up time only: it allocates.
  Status load(std::string_view key_text);

  bool loaded() const { return loaded_; }

  /// True when `signature` (r||s, 32 bytes each, big endian) is a valid
  /// ES256 signature of `message` by this key. Any other length, r or s of
  /// zero or not below the group order, is false. Both s and n-s verify, as
  /// in every standard ECDSA verifier: a license is identified by its signed
  /// bytes, so the alternative form gives an attacker nothing.
  bool verify(std::span<const uint8_t> message, std::span<const uint8_t> signature) const;

 private:
  mbedtls_pk_context pk_;
  bool loaded_ = false;
};

}  // namespace sublink
