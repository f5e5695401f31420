#include "sim/sim_pki.h"

#include "support/process.h"

namespace sublink::test {

namespace {
struct Pki {
  TempDir dir;
  std::string path;
  SimCredentials credentials;
  std::string error;
  bool loaded = false;

  Pki() {
    const std::string out = dir.path() + "/pki";
    if (run_command("sh '" + source_path("tests/pki/make_pki.sh") + "' '" + out + "' >/dev/null 2>&1") != 0) {
      error = "tests/pki/make_pki.sh failed";
      return;
    }
    path = out;
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
