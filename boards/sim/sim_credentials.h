// The PEM texts a simulated device and server are built from: what a real
// board reads from ca_file, cert_file, key_file and license_key_file, and
// what the server holds (its certificate and the license signing key).
// Loaded from a directory made by tests/pki/make_pki.sh, so no key is ever
// committed.
#pragma once

#include <string>

namespace sublink {

struct SimCredentials {
  std::string ca_pem;              // trust anchors of both sides (the test CA)
  std::string device_cert_pem;     // cert_file: CN is the system_id
  std::string device_key_pem;      // key_file
  std::string server_cert_pem;     // names "localhost"
  std::string server_key_pem;
  std::string license_public_pem;  // license_key_file on the device
  std::string license_private_pem; // the server's ES256 signing key
};

/// Reads ca.crt, device.crt/.key, server.crt/.key and license.pub/.key from
/// `dir`. On failure returns false and names the file in `error`.
bool load_sim_credentials(const std::string& dir, SimCredentials& out, std::string& error);

}  // namespace sublink
