#include "hal/linux/file_storage.h"

#include <errno.h>

#include <cstdio>
#include <cstring>

#include "hal/crc32.h"

namespace sublink {

namespace {

constexpr uint32_t kMagic = 0x53464C53;
constexpr uint16_t kFormat = 1;
constexpr const char* kSuffix[2] = {".a", ".b"};

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
bool newer(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }

Status corrupt() { return Status(Reason::storage_corrupt); }

// Closes a descriptor on every path out of a function.
class Descriptor {
 public:
  Descriptor(FileOps& ops, int fd) : ops_(ops), fd_(fd) {}
  ~Descriptor() {
    // Only left open on a path that already failed: that failure is the one
    // reported, not a close error after it.
    if (fd_ >= 0) (void)ops_.close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }
  Status close() {
    const int fd = fd_;
    fd_ = -1;
    return ops_.close(fd);
  }

 private:
  FileOps& ops_;
  int fd_;
};

// Reads until `out` is full or end of file; returns the bytes read.
Result<size_t> read_fully(FileOps& ops, int fd, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    Result<size_t> n = ops.read(fd, out.subspan(done));
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    done += *n;
  }
  return done;
}

Status write_fully(FileOps& ops, int fd, std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    Result<size_t> n = ops.write(fd, data.subspan(done));
    if (!n.ok()) return n.status();
    if (*n == 0) return Status(Reason::io_error, EIO);
    done += *n;
  }
  return Status::Ok();
}

}  // namespace

FileStorage::FileStorage(FileOps& ops, std::string_view state_dir, size_t max_record_size)
    : ops_(ops), dir_(state_dir), max_record_size_(max_record_size) {}

Status FileStorage::open() {
  if (dir_.empty() || dir_.size() + 32 > kMaxPath) return Status(Reason::invalid_argument);
  Status s = ops_.make_directory(dir_.c_str());
  if (!s.ok()) return s.detail() == EEXIST ? Status::Ok() : at(dir_.c_str(), s);
  // A new directory's own entry lives in its parent: without this fsync a
  // crash can take the directory, and every record in it, away.
  Path parent;
  const size_t slash = dir_.find_last_of('/');
  if (slash == std::string::npos) {
    std::snprintf(parent.text, kMaxPath, ".");
  } else {
    std::snprintf(parent.text, kMaxPath, "%.*s", static_cast<int>(slash == 0 ? 1 : slash),
                  dir_.c_str());
  }
  return sync_directory(parent.text);
}

Status FileStorage::check_id(RecordId id) const {
  if (record_name(id) == nullptr) return Status(Reason::storage_bad_record_id);
  if (dir_.empty() || dir_.size() + 32 > kMaxPath) return Status(Reason::invalid_argument);
  return Status::Ok();
}

void FileStorage::path_of(RecordId id, const char* suffix, Path& out) const {
  std::snprintf(out.text, kMaxPath, "%s/%s%s", dir_.c_str(), record_name(id), suffix);
}

Status FileStorage::inspect(RecordId id, int generation, Generation& out) {
  out = Generation{};
  Path path;
  path_of(id, kSuffix[generation], path);
  Result<int> fd = ops_.open(path.text, FileOps::OpenMode::read);
  if (!fd.ok()) return fd.status().detail() == ENOENT ? Status::Ok() : at(path.text, fd.status());
  Descriptor file(ops_, *fd);
  out.exists = true;
  uint8_t h[kHeaderSize];
  Result<size_t> got = read_fully(ops_, file.get(), h);
  if (!got.ok()) return at(path.text, got.status());
  if (*got != kHeaderSize || get32(h) != kMagic || (h[4] | h[5] << 8) != kFormat ||
      h[6] != static_cast<uint8_t>(id) || get32(h + 20) != crc32(std::span<const uint8_t>(h, 20))) {
    return Status::Ok();
  }
  out.sequence = get32(h + 8);
  out.length = get32(h + 12);
  out.payload_crc = get32(h + 16);
  if (out.length > max_record_size_) return Status::Ok();
  out.committed = true;
  uint8_t chunk[256];
  uint32_t crc = 0;
  size_t total = 0;
  // Reads one chunk past the payload too: a longer file is not ours.
  for (;;) {
    Result<size_t> n = read_fully(ops_, file.get(), chunk);
    if (!n.ok()) return at(path.text, n.status());
    if (*n == 0) break;
    total += *n;
    if (total > out.length) return Status::Ok();
    crc = crc32(std::span<const uint8_t>(chunk, *n), crc);
  }
  out.valid = total == out.length && crc == out.payload_crc;
  return Status::Ok();
}

Status FileStorage::read_payload(RecordId id, int generation, const Generation& g,
                                 std::span<uint8_t> out) {
  Path path;
  path_of(id, kSuffix[generation], path);
  Result<int> fd = ops_.open(path.text, FileOps::OpenMode::read);
  if (!fd.ok()) return at(path.text, fd.status());
  Descriptor file(ops_, *fd);
  uint8_t h[kHeaderSize];
  Result<size_t> got = read_fully(ops_, file.get(), h);
  if (!got.ok()) return at(path.text, got.status());
  // The file may have been replaced since inspect(): trust only what is
  // read now, header and payload together.
  if (*got != kHeaderSize || get32(h + 8) != g.sequence || get32(h + 12) != g.length ||
      get32(h + 16) != g.payload_crc || get32(h + 20) != crc32(std::span<const uint8_t>(h, 20))) {
    return corrupt();
  }
  got = read_fully(ops_, file.get(), out.first(g.length));
  if (!got.ok()) return at(path.text, got.status());
  if (*got != g.length || crc32(out.first(g.length)) != g.payload_crc) return corrupt();
  return Status::Ok();
}

Result<size_t> FileStorage::read(RecordId id, std::span<uint8_t> out) {
  if (Status s = check_id(id); !s.ok()) return s;
  Generation gens[2];
  for (int g = 0; g < 2; ++g) {
    if (Status s = inspect(id, g, gens[g]); !s.ok()) return s;
  }
  // Newest valid generation first, then the other one.
  int order[2] = {0, 1};
  if (gens[1].valid && (!gens[0].valid || newer(gens[1].sequence, gens[0].sequence))) {
    order[0] = 1;
    order[1] = 0;
  }
  for (int g : order) {
    if (!gens[g].valid) continue;
    if (gens[g].length > out.size()) return Status(Reason::storage_too_big);
    Status s = read_payload(id, g, gens[g], out);
    if (!s.ok() && !is_corrupt(s)) return s;
    if (!s.ok()) continue;
    // Files appear whole (written aside, renamed over), so a generation
    // that exists and fails its checks is damage, not a cut write. When its
    // header no longer says which is newer, it may have been: report it.
    const Generation& other = gens[1 - g];
    bool fell_back = other.exists && !other.valid &&
                     (!other.committed || newer(other.sequence, gens[g].sequence));
    const uint32_t bit = uint32_t{1} << static_cast<unsigned>(id);
    fell_back_ = fell_back ? (fell_back_ | bit) : (fell_back_ & ~bit);
    return static_cast<size_t>(gens[g].length);
  }
  if (gens[0].exists || gens[1].exists) return corrupt();
  return Status(Reason::storage_not_found);
}

Status FileStorage::write_file(const char* path, std::span<const uint8_t> header,
                               std::span<const uint8_t> payload) {
  Result<int> fd = ops_.open(path, FileOps::OpenMode::replace);
  if (!fd.ok()) return fd.status();
  Descriptor file(ops_, *fd);
  if (Status s = write_fully(ops_, file.get(), header); !s.ok()) return s;
  if (Status s = write_fully(ops_, file.get(), payload); !s.ok()) return s;
  // Data must be durable before the rename makes it visible, or a crash can
  // leave the new name pointing at an empty file (the ext4 delalloc case).
  if (Status s = ops_.fsync(file.get()); !s.ok()) return s;
  return file.close();
}

Status FileStorage::sync_directory(const char* path) {
  Result<int> fd = ops_.open(path, FileOps::OpenMode::directory);
  if (!fd.ok()) return at(path, fd.status());
  Descriptor dir(ops_, *fd);
  if (Status s = ops_.fsync(dir.get()); !s.ok()) return at(path, s);
  return at(path, dir.close());
}

Status FileStorage::at(const char* path, Status s) {
  if (s.reason() == Reason::io_error && s.detail() > 0) std::snprintf(failed_path_.text, kMaxPath, "%s", path);
  return s;
}

const char* FileStorage::failure_text(const Status& s) const {
  // Platform errors carry a positive errno; the storage layer's own are negative.
  if (s.reason() != Reason::io_error || s.detail() <= 0) return storage_failure_text(s);
  if (failed_path_.text[0] == '\0') return std::strerror(s.detail());
  std::snprintf(failure_text_, sizeof failure_text_, "%s: %s", failed_path_.text, std::strerror(s.detail()));
  return failure_text_;
}

Status FileStorage::write(RecordId id, std::span<const uint8_t> data) {
  if (Status s = check_id(id); !s.ok()) return s;
  if (data.size() > max_record_size_) return Status(Reason::storage_too_big);
  Generation gens[2];
  for (int g = 0; g < 2; ++g) {
    if (Status s = inspect(id, g, gens[g]); !s.ok()) return s;
  }
  // Replace the generation that does not hold the value read() returns now.
  int target = 0;
  if (gens[0].valid && gens[1].valid) {
    target = newer(gens[0].sequence, gens[1].sequence) ? 1 : 0;
  } else if (gens[0].valid) {
    target = 1;
  }
  uint32_t sequence = 1;
  bool seen = false;
  for (const Generation& g : gens) {
    if (g.committed && (!seen || newer(g.sequence + 1, sequence))) {
      sequence = g.sequence + 1;
      seen = true;
    }
  }
  uint8_t h[kHeaderSize];
  put32(h, kMagic);
  h[4] = kFormat & 0xFF;
  h[5] = kFormat >> 8;
  h[6] = static_cast<uint8_t>(id);
  h[7] = 0;
  put32(h + 8, sequence);
  put32(h + 12, static_cast<uint32_t>(data.size()));
  put32(h + 16, crc32(data));
  put32(h + 20, crc32(std::span<const uint8_t>(h, 20)));

  Path temp;
  Path final_path;
  path_of(id, ".tmp", temp);
  path_of(id, kSuffix[target], final_path);
  if (Status s = write_file(temp.text, h, data); !s.ok()) return at(temp.text, s);
  if (Status s = ops_.rename(temp.text, final_path.text); !s.ok()) return at(final_path.text, s);
  return sync_directory(dir_.c_str());
}

}  // namespace sublink
