#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "hal/linux/file_ops.h"

namespace sublink {

namespace {
Status from_errno() { return Status(Reason::io_error, errno); }
}  // namespace

Result<int> PosixFileOps::open(const char* path, OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::read: flags |= O_RDONLY; break;
    case OpenMode::replace: flags |= O_WRONLY | O_CREAT | O_TRUNC; break;
    case OpenMode::directory: flags |= O_RDONLY | O_DIRECTORY; break;
  }
  int fd;
  do {
    fd = ::open(path, flags, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return from_errno();
  return fd;
}

Result<size_t> PosixFileOps::read(int fd, std::span<uint8_t> out) {
  ssize_t n;
  do {
    n = ::read(fd, out.data(), out.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return from_errno();
  return static_cast<size_t>(n);
}

Result<size_t> PosixFileOps::write(int fd, std::span<const uint8_t> data) {
  ssize_t n;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return from_errno();
  return static_cast<size_t>(n);
}

Status PosixFileOps::fsync(int fd) { return ::fsync(fd) == 0 ? Status::Ok() : from_errno(); }

Status PosixFileOps::close(int fd) {
  // Not retried on EINTR: on Linux the descriptor is gone either way.
  return ::close(fd) == 0 ? Status::Ok() : from_errno();
}

Status PosixFileOps::rename(const char* from, const char* to) {
  return std::rename(from, to) == 0 ? Status::Ok() : from_errno();
}

Status PosixFileOps::make_directory(const char* path) {
  return ::mkdir(path, 0700) == 0 ? Status::Ok() : from_errno();
}

}  // namespace sublink
