#include "linux_util/control/control_protocol.h"

namespace sublink {

std::string control_socket_path(std::string_view state_dir) {
  std::string path(state_dir);
  if (path.empty() || path.back() != '/') path += '/';
  path += kControlSocketName;
  return path;
}

}  // namespace sublink
