// The test PKI (tests/pki/make_pki.sh: a CA, server and device SYS-0001
// certificates, the license key pair), made once per test program.
#pragma once

#include <string>

namespace sublink::test {

/// The directory holding the PKI, made on first use in a temporary directory
/// that is removed when the program exits; empty when make_pki.sh failed
/// (the caller reports it as a test failure).
const std::string& test_pki_dir();

}  // namespace sublink::test
