// A size-limited tmpfs mounted at a path for an agent's state_dir, so a test
// can fill a real file system or make it read-only. Needs root (CI runs as
// root). Unmounted (lazily, so a process still holding a file there cannot
// keep it) when it goes out of scope, also when the test fails.
#pragma once

#include <string>

namespace sublink::test {

class TinyFileSystem {
 public:
  /// Mounts a tmpfs of `size` (e.g. "512k") at `path` (created, mode 0700).
  TinyFileSystem(const std::string& path, const std::string& size);
  ~TinyFileSystem();
  TinyFileSystem(const TinyFileSystem&) = delete;
  TinyFileSystem& operator=(const TinyFileSystem&) = delete;

  bool mounted() const { return mounted_; }
  /// Why the mount (or the last remount) failed.
  const std::string& error() const { return error_; }

  /// Writes a filler file until the file system refuses with ENOSPC; true
  /// when it did (and not some other error).
  bool fill();
  /// Removes the filler: the space is back.
  void unfill();
  /// Remounts read-only (`read_only`) or read-write, waiting out a file
  /// that is open for writing (up to 10 s); false (error() says why) when
  /// the remount failed.
  bool set_read_only(bool read_only);

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace sublink::test
