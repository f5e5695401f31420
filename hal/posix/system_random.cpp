#include "hal/posix/system_random.h"

#include <errno.h>
#include <sys/random.h>

namespace sublink {

Status SystemRandom::fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {Reason::io_error, errno};
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace sublink
