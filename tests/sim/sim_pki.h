// The test PKI for simulation tests and the benchmark: tests/pki/make_pki.sh
// run once per program into a temporary directory (removed at exit), and
// its certificates and keys loaded as the simulation takes them.
#pragma once

#include <string>

#include "boards/sim/sim_credentials.h"

namespace sublink::test {

/// The directory holding the PKI; empty when make_pki.sh failed.
const std::string& sim_pki_dir();

/// The PKI's credentials, loaded once; nullptr when they could not be made
/// or read (then `error`, when given, says why).
const SimCredentials* sim_credentials(std::string* error = nullptr);

}  // namespace sublink::test
