// The handful of file-system calls FileStorage makes, behind an interface so
// tests can replace the file system with one that loses power (see
// tests/storage/crash_file_ops.h). PosixFileOps is the real one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "hal/status.h"

namespace sublink {

/// Failures are Reason::io_error with the errno in `detail`.
class FileOps {
 public:
  enum class OpenMode : uint8_t {
    read,       // an existing file, read-only
    replace,    // create or truncate, write-only, owner read/write only (0600)
    directory,  // an existing directory, only to fsync it
  };

  virtual ~FileOps() = default;
  /// Opens `path`; returns a descriptor. ENOENT when it does not exist.
  virtual Result<int> open(const char* path, OpenMode mode) = 0;
  /// Reads up to out.size() bytes; 0 at end of file.
  virtual Result<size_t> read(int fd, std::span<uint8_t> out) = 0;
  /// Writes some of `data` (possibly fewer bytes than asked).
  virtual Result<size_t> write(int fd, std::span<const uint8_t> data) = 0;
  /// Makes the file's data (or a directory's entries) durable.
  virtual Status fsync(int fd) = 0;
  virtual Status close(int fd) = 0;
  /// Atomically replaces `to` by `from` (rename(2)).
  virtual Status rename(const char* from, const char* to) = 0;
  /// Creates a directory, owner-only (0700); EEXIST when it exists.
  virtual Status make_directory(const char* path) = 0;
};

/// FileOps on the real file system through POSIX calls. Stateless.
class PosixFileOps : public FileOps {
 public:
  Result<int> open(const char* path, OpenMode mode) override;
  Result<size_t> read(int fd, std::span<uint8_t> out) override;
  Result<size_t> write(int fd, std::span<const uint8_t> data) override;
  Status fsync(int fd) override;
  Status close(int fd) override;
  Status rename(const char* from, const char* to) override;
  Status make_directory(const char* path) override;
};

}  // namespace sublink
