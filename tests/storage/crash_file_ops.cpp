#include "storage/crash_file_ops.h"

#include <errno.h>

#include <algorithm>

namespace sublink::test {

CrashFileOps::CrashFileOps(const std::string& root) {
  entries_[root] = Entry{true, -1};
  durable_entries_ = entries_;
}

std::string CrashFileOps::parent_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool CrashFileOps::take_syscall() {
  if (power_lost_) return false;
  if (budget_ == 0) {
    power_lost_ = true;
    return false;
  }
  if (budget_ != UINT64_MAX) --budget_;
  ++operations_;
  return true;
}

void CrashFileOps::reboot(Survivor survivor) {
  const bool keep_names = survivor == Survivor::everything || survivor == Survivor::names_not_data;
  const bool keep_data = survivor == Survivor::everything || survivor == Survivor::data_not_names;
  if (!keep_names) entries_ = durable_entries_;
  durable_entries_ = entries_;
  for (Inode& inode : inodes_) {
    if (!keep_data) inode.data = inode.durable;
    inode.durable = inode.data;
  }
  open_.clear();
  power_lost_ = false;
  budget_ = UINT64_MAX;
}

std::optional<std::vector<uint8_t>> CrashFileOps::file(const std::string& path) const {
  auto it = entries_.find(path);
  if (it == entries_.end() || it->second.directory) return std::nullopt;
  return inodes_[it->second.inode].data;
}

void CrashFileOps::put_file(const std::string& path, const std::vector<uint8_t>& content) {
  auto it = entries_.find(path);
  if (it == entries_.end()) {
    inodes_.push_back({});
    it = entries_.emplace(path, Entry{false, static_cast<int>(inodes_.size() - 1)}).first;
  }
  durable_entries_[path] = it->second;
  inodes_[it->second.inode].data = content;
  inodes_[it->second.inode].durable = content;
}

Result<int> CrashFileOps::open(const char* path_text, OpenMode mode) {
  if (!take_syscall()) return Status(Reason::io_error, EIO);
  const std::string path = path_text;
  auto it = entries_.find(path);
  Open o{path, -1, 0, mode == OpenMode::directory};
  switch (mode) {
    case OpenMode::read:
      if (it == entries_.end()) return Status(Reason::io_error, ENOENT);
      if (it->second.directory) return Status(Reason::io_error, EISDIR);
      o.inode = it->second.inode;
      break;
    case OpenMode::replace:
      if (it == entries_.end()) {
        auto parent = entries_.find(parent_of(path));
        if (parent == entries_.end() || !parent->second.directory) {
          return Status(Reason::io_error, ENOENT);
        }
        inodes_.push_back({});
        it = entries_.emplace(path, Entry{false, static_cast<int>(inodes_.size() - 1)}).first;
      }
      if (it->second.directory) return Status(Reason::io_error, EISDIR);
      o.inode = it->second.inode;
      inodes_[o.inode].data.clear();  // O_TRUNC: volatile until fsync
      break;
    case OpenMode::directory:
      if (it == entries_.end()) return Status(Reason::io_error, ENOENT);
      if (!it->second.directory) return Status(Reason::io_error, ENOTDIR);
      break;
  }
  const int fd = next_fd_++;
  open_[fd] = o;
  return fd;
}

Result<size_t> CrashFileOps::read(int fd, std::span<uint8_t> out) {
  if (!take_syscall()) return Status(Reason::io_error, EIO);
  auto it = open_.find(fd);
  if (it == open_.end() || it->second.directory) return Status(Reason::io_error, EBADF);
  const std::vector<uint8_t>& data = inodes_[it->second.inode].data;
  const size_t n = std::min(out.size(), data.size() - std::min(data.size(), it->second.position));
  std::copy_n(data.begin() + static_cast<ptrdiff_t>(it->second.position), n, out.begin());
  it->second.position += n;
  return n;
}

Result<size_t> CrashFileOps::write(int fd, std::span<const uint8_t> data) {
  if (!take_syscall()) return Status(Reason::io_error, EIO);
  auto it = open_.find(fd);
  if (it == open_.end() || it->second.directory) return Status(Reason::io_error, EBADF);
  std::vector<uint8_t>& content = inodes_[it->second.inode].data;
  for (uint8_t b : data) {
    // Every byte is a point where power can go: the page cache gets a
    // prefix of the write.
    if (budget_ == 0) {
      power_lost_ = true;
      return Status(Reason::io_error, EIO);
    }
    if (budget_ != UINT64_MAX) --budget_;
    ++operations_;
    if (content.size() < it->second.position + 1) content.resize(it->second.position + 1);
    content[it->second.position++] = b;
  }
  return data.size();
}

Status CrashFileOps::fsync(int fd) {
  if (!take_syscall()) return Status(Reason::io_error, EIO);
  auto it = open_.find(fd);
  if (it == open_.end()) return Status(Reason::io_error, EBADF);
  if (!it->second.directory) {
    Inode& inode = inodes_[it->second.inode];
    inode.durable = inode.data;
    return Status::Ok();
  }
  // A directory fsync makes its own entries durable, not those of others.
  const std::string& dir = it->second.path;
  for (auto e = durable_entries_.begin(); e != durable_entries_.end();) {
    if (parent_of(e->first) == dir && entries_.count(e->first) == 0) {
      e = durable_entries_.erase(e);
    } else {
      ++e;
    }
  }
  for (const auto& [path, entry] : entries_) {
    if (parent_of(path) == dir) durable_entries_[path] = entry;
  }
  return Status::Ok();
}

Status CrashFileOps::close(int fd) {
  if (!take_syscall()) return Status(Reason::io_error, EIO);
  return open_.erase(fd) == 1 ? Status::Ok() : Status(Reason::io_error, EBADF);
}

Status CrashFileOps::rename(const char* from, const char* to) {
  if (!take_syscall()) return Status(Reason::io_error, EIO);
  auto it = entries_.find(from);
  if (it == entries_.end()) return Status(Reason::io_error, ENOENT);
  const Entry moved = it->second;
  entries_.erase(it);
  entries_[to] = moved;
  return Status::Ok();
}

Status CrashFileOps::make_directory(const char* path_text) {
  if (!take_syscall()) return Status(Reason::io_error, EIO);
  const std::string path = path_text;
  if (entries_.count(path) != 0) return Status(Reason::io_error, EEXIST);
  auto parent = entries_.find(parent_of(path));
  if (parent == entries_.end() || !parent->second.directory) return Status(Reason::io_error, ENOENT);
  entries_[path] = Entry{true, -1};
  return Status::Ok();
}

}  // namespace sublink::test
