#include "support/test_pki.h"

#include "support/process.h"

namespace sublink::test {

const std::string& test_pki_dir() {
  // A static object, not a leaked pointer: its destructor removes the
  // directory at exit, so a run leaves nothing behind in /tmp.
  static const TempDir dir;
  static const std::string path = [] {
    const std::string out = dir.path() + "/pki";
    const std::string command = "sh '" + source_path("tests/pki/make_pki.sh") + "' '" + out + "' >/dev/null 2>&1";
    return run_command(command) == 0 ? out : std::string();
  }();
  return path;
}

}  // namespace sublink::test
