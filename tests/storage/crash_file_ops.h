// An in-memory file system that loses power, for testing FileStorage's
// crash safety. It models what a journaling Linux file system promises and
// no more: file data is durable only after fsync of the file, a directory
// entry (create, rename) only after fsync of its directory. A power cut can
// come at any syscall or after any single byte of a write; after it,
// reboot() picks which of the not-yet-durable changes survived.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hal/linux/file_ops.h"

namespace sublink::test {

class CrashFileOps : public FileOps {
 public:
  /// Which volatile state a power cut keeps. Every combination is legal on
  /// a real file system, so FileStorage must be right under each.
  enum class Survivor : uint8_t {
    only_durable,      // nothing that was not fsynced
    everything,        // all changes, including the partial last write
    names_not_data,    // renames/creates kept, unsynced file data lost
    data_not_names,    // unsynced file data kept, renames/creates lost
  };

  /// A file system holding one existing, durable directory `root`.
  explicit CrashFileOps(const std::string& root);

  /// After `operations` more syscalls or written bytes, power goes off:
  /// the write in progress keeps only the bytes before the cut, and every
  /// later call fails with EIO.
  void cut_power_after(uint64_t operations) { budget_ = operations; }
  bool power_lost() const { return power_lost_; }
  /// Syscalls plus written bytes so far (to size an exhaustive sweep).
  uint64_t operations() const { return operations_; }

  /// Power comes back: open descriptors are gone and `survivor` decides
  /// which volatile changes are on the disk.
  void reboot(Survivor survivor);

  /// The current (volatile) content of a file, or nullopt; for tests that
  /// damage files on purpose.
  std::optional<std::vector<uint8_t>> file(const std::string& path) const;
  /// Replaces a file's content durably (a damaged sector, an editor).
  void put_file(const std::string& path, const std::vector<uint8_t>& content);

  Result<int> open(const char* path, OpenMode mode) override;
  Result<size_t> read(int fd, std::span<uint8_t> out) override;
  Result<size_t> write(int fd, std::span<const uint8_t> data) override;
  Status fsync(int fd) override;
  Status close(int fd) override;
  Status rename(const char* from, const char* to) override;
  Status make_directory(const char* path) override;

 private:
  struct Entry {
    bool directory = false;
    int inode = -1;
    bool operator==(const Entry&) const = default;
  };
  struct Inode {
    std::vector<uint8_t> data;     // what reads see now
    std::vector<uint8_t> durable;  // what survives any power cut
  };
  struct Open {
    std::string path;
    int inode = -1;
    size_t position = 0;
    bool directory = false;
  };

  bool take_syscall();
  static std::string parent_of(const std::string& path);

  std::map<std::string, Entry> entries_;          // volatile namespace
  std::map<std::string, Entry> durable_entries_;  // namespace after a cut
  std::vector<Inode> inodes_;
  std::map<int, Open> open_;
  int next_fd_ = 3;
  uint64_t budget_ = UINT64_MAX;
  uint64_t operations_ = 0;
  bool power_lost_ = false;
};

}  // namespace sublink::test
