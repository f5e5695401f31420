#include "integration/tiny_file_system.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sublink::test {

TinyFileSystem::TinyFileSystem(const std::string& path, const std::string& size) : path_(path) {
  ::mkdir(path.c_str(), 0700);
  const std::string options = "size=" + size + ",mode=0700";
  mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
  if (!mounted_) error_ = std::string("mount tmpfs: ") + std::strerror(errno);
}

TinyFileSystem::~TinyFileSystem() {
  if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
}

bool TinyFileSystem::fill() {
  const int fd = ::open((path_ + "/filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::vector<char> block(4096, 'x');
  int err = 0;
  for (size_t size = block.size(); size > 0 && err == 0;) {
    if (::write(fd, block.data(), size) < 0) {
      if (errno != ENOSPC) err = errno;
      size /= 2;  // the last page may still take a few bytes
    }
  }
  ::close(fd);
  return err == 0;
}

void TinyFileSystem::unfill() { ::unlink((path_ + "/filler").c_str()); }

bool TinyFileSystem::set_read_only(bool read_only) {
  const unsigned long flags = MS_REMOUNT | MS_NOSUID | MS_NODEV | (read_only ? MS_RDONLY : 0);
  // The kernel refuses a read-only remount (EBUSY) while a file is open for
  // writing: the daemon writes its checkpoint every second, and on a loaded
  // machine the remount can land inside one. Retry until it falls between.
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (::mount(nullptr, path_.c_str(), nullptr, flags, nullptr) == 0) return true;
    if (errno != EBUSY) break;
    ::usleep(50 * 1000);
  }
  error_ = std::string("remount: ") + std::strerror(errno);
  return false;
}

}  // namespace sublink::test
