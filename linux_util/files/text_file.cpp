#include "linux_util/files/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sublink {

namespace {
TextFileError system_error(int err) { return {true, std::string(": cannot read: ") + std::strerror(err)}; }
}  // namespace

TextFileError read_text_file(const std::string& path, std::string& out) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused
  // below as not a regular file).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return system_error(errno);
  struct stat st {};
  TextFileError error;
  if (::fstat(fd, &st) != 0) {
    error = system_error(errno);
  } else if (!S_ISREG(st.st_mode)) {
    error = {false, " is not a regular file"};
  } else if (static_cast<uint64_t>(st.st_size) > kMaxTextFileBytes) {
    error = {false, " is larger than " + std::to_string(kMaxTextFileBytes) + " bytes"};
  } else {
    out.assign(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = system_error(errno);
        break;
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    out.resize(done);
  }
  ::close(fd);
  return error;
}

}  // namespace sublink
