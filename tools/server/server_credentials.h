// The server's own files checked one by one before TLS is set up, so a
// start that cannot use them says which file and why in the operator's
// words ("--key 'server.key' is not the private key of --cert ..."),
// not as one Mbed TLS code for the whole set.
#pragma once

#include <string>

namespace sublink {

/// Where each file came from (the option and its path) and its text.
struct ServerCredentialFiles {
  std::string cert_path, cert_pem;  // --cert: the server's certificate chain
  std::string key_path, key_pem;    // --key: its private key
  std::string ca_path, ca_pem;      // --ca: the CA device certificates chain to
};

/// One line naming the first problem: a chain or CA that does not parse,
/// a key that does not parse (or is encrypted), or a key that is not the
/// private half of the chain's first certificate. Empty when all is well.
std::string server_credentials_problem(const ServerCredentialFiles& files);

}  // namespace sublink
