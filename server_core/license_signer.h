// The server's license signer: ES256 (ECDSA P-256 with SHA-256) over the
// exact license bytes, signatures in the raw r||s form sublink/1 carries.
// The private key comes from a PEM file (production) or is generated
// (tests, the simulation); the matching public key is what devices load as
// `license_key_file`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>

#include "hal/random.h"
#include "hal/status.h"
#include "server_core/license_json.h"

namespace sublink {

inline constexpr size_t kEs256RawSignatureBytes = 64;
using Es256Signature = std::array<uint8_t, kEs256RawSignatureBytes>;

/// A license ready for a `license_grant`: both fields base64url.
struct SignedGrant {
  std::string license_json;  // the signed bytes, as text
  std::string license;       // base64url of license_json
  std::string sig;           // base64url of the raw r||s signature
};

class LicenseSigner {
 public:
  /// `entropy` seeds the signature nonces (CTR-DRBG) and must outlive the
  /// signer: SystemRandom in production; a DeterministicRandom makes the
  /// simulation's signatures reproducible. No key until load or generate.
  explicit LicenseSigner(Random& entropy);
  virtual ~LicenseSigner();
  LicenseSigner(const LicenseSigner&) = delete;
  LicenseSigner& operator=(const LicenseSigner&) = delete;

  /// Loads a PEM ("-----BEGIN EC PRIVATE KEY-----" or PKCS#8 "PRIVATE KEY")
  /// or DER private key. Anything but an unencrypted P-256 EC key is
  /// invalid_argument (detail: the Mbed TLS error code when parsing failed).
  Status load_private_key(std::string_view key_text);

  /// Makes a fresh P-256 key pair from the entropy source.
  Status generate();

  bool ready() const { return ready_; }

  /// The public key as "-----BEGIN PUBLIC KEY-----" PEM (empty before a key).
  std::string public_key_pem() const;

  /// The private key as "-----BEGIN EC PRIVATE KEY-----" PEM (empty before a
  /// key), so a generated key can be stored for a server.
  std::string private_key_pem() const;

  /// ES256 signature of `message`, raw r||s. invalid_argument without a key;
  /// io_error (detail: Mbed TLS code) when the entropy source fails.
  Result<Es256Signature> sign(std::string_view message);

  /// make_license_json + sign + base64url: the fields of a license_grant.
  Result<SignedGrant> sign_license(const LicenseContent& content);

 private:
  Status seed_once();

  Random& entropy_;
  mbedtls_pk_context pk_;
  mbedtls_ctr_drbg_context drbg_;
  bool seeded_ = false;
  bool ready_ = false;
};

}  // namespace sublink
