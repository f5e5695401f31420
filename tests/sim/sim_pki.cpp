#include "sim/sim_pki.h"

#include "support/test_pki.h"

namespace sublink::test {

namespace {
struct Pki {
  std::string path;
  SimCredentials credentials;
  std::string error;
  bool loaded = false;

  Pki() : path(test_pki_dir()) {
    if (path.empty()) {
      error = "tests/pki/make_pki.sh failed";
      return;
    }
    loaded = load_sim_credentials(path, credentials, error);
  }
};

Pki& pki() {
  static Pki made;
  return made;
}
}  // namespace

const std::string& sim_pki_dir() { return pki().path; }

const SimCredentials* sim_credentials(std::string* error) {
  Pki& p = pki();
  if (!p.loaded && error != nullptr) *error = p.error;
  return p.loaded ? &p.credentials : nullptr;
}

}  // namespace sublink::test
