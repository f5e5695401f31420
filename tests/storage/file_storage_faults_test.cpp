// FileStorage when the file system misbehaves without losing power: a read,
// an open or a write that fails with an errno, a write that makes no
// progress, a file replaced between the check of a generation and the read
// of its payload. Each must give the platform error with the file it
// happened to, or fall back to the other intact generation; never a mix of
// two values, never "nothing stored" for a record that is there.
#include <errno.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "hal/linux/file_storage.h"
#include "storage/crash_file_ops.h"
#include "storage/file_record.h"
#include "storage/storage_script.h"

namespace sublink {
namespace {

using test::CrashFileOps;
using test::pattern;
using test::record_file;

// A FileOps that passes every call to a CrashFileOps, failing chosen calls
// on chosen files with an errno, and calling a hook at each open.
class FaultyFileOps : public FileOps {
 public:
  enum class Call : uint8_t { open, read, write, fsync, close, rename, make_directory };

  explicit FaultyFileOps(CrashFileOps& disk) : disk_(disk) {}

  /// The `nth` (1-based) call of `call` on the file named `path` fails with `error`.
  void fail(Call call, const std::string& path, int nth, int error) { faults_[{call, path}] = {nth, error}; }
  /// Writes to `path` report 0 bytes written (a full device that says so late).
  void stall_writes_to(const std::string& path) { stalled_ = path; }
  /// Called with the path and mode before each open reaches the disk.
  std::function<void(const std::string&, OpenMode)> before_open;
  /// Paths of directories fsynced, in order.
  std::vector<std::string> synced_directories;

  Result<int> open(const char* path, OpenMode mode) override {
    if (before_open) before_open(path, mode);
    if (Status s = injected(Call::open, path); !s.ok()) return s;
    Result<int> fd = disk_.open(path, mode);
    if (fd.ok()) paths_[*fd] = {path, mode == OpenMode::directory};
    return fd;
  }
  Result<size_t> read(int fd, std::span<uint8_t> out) override {
    if (Status s = injected(Call::read, paths_[fd].path); !s.ok()) return s;
    return disk_.read(fd, out);
  }
  Result<size_t> write(int fd, std::span<const uint8_t> data) override {
    if (Status s = injected(Call::write, paths_[fd].path); !s.ok()) return s;
    if (paths_[fd].path == stalled_) return size_t{0};
    return disk_.write(fd, data);
  }
  Status fsync(int fd) override {
    if (Status s = injected(Call::fsync, paths_[fd].path); !s.ok()) return s;
    if (paths_[fd].directory) synced_directories.push_back(paths_[fd].path);
    return disk_.fsync(fd);
  }
  Status close(int fd) override {
    const std::string path = paths_[fd].path;
    Status disk = disk_.close(fd);  // the descriptor is gone either way, as with close(2)
    if (Status s = injected(Call::close, path); !s.ok()) return s;
    return disk;
  }
  Status rename(const char* from, const char* to) override {
    if (Status s = injected(Call::rename, to); !s.ok()) return s;
    return disk_.rename(from, to);
  }
  Status make_directory(const char* path) override {
    if (Status s = injected(Call::make_directory, path); !s.ok()) return s;
    return disk_.make_directory(path);
  }

 private:
  struct Fault {
    int nth;
    int error;
  };
  struct Opened {
    std::string path;
    bool directory = false;
  };
  Status injected(Call call, const std::string& path) {
    auto it = faults_.find({call, path});
    if (it == faults_.end()) return Status::Ok();
    if (--it->second.nth != 0) return Status::Ok();
    return Status(Reason::io_error, it->second.error);
  }

  CrashFileOps& disk_;
  std::map<std::pair<Call, std::string>, Fault> faults_;
  std::map<int, Opened> paths_;
  std::string stalled_;
};

using Call = FaultyFileOps::Call;

constexpr const char* kDir = "/var/state";

std::string file(RecordId id, const char* suffix) { return std::string(kDir) + "/" + record_name(id) + suffix; }

class FileStorageFaults : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(storage_.open().ok()); }

  Result<std::vector<uint8_t>> read(RecordId id) {
    std::vector<uint8_t> buffer(storage_.max_record_size());
    Result<size_t> got = storage_.read(id, buffer);
    if (!got.ok()) return got.status();
    buffer.resize(*got);
    return buffer;
  }
  std::vector<uint8_t> value(RecordId id) {
    Result<std::vector<uint8_t>> got = read(id);
    EXPECT_TRUE(got.ok()) << storage_.failure_text(got.status());
    return got.ok() ? *got : std::vector<uint8_t>{};
  }

  CrashFileOps disk_{"/var"};
  FaultyFileOps ops_{disk_};
  FileStorage storage_{ops_, kDir, 256};
};

// Every read(2) of the stored file failing, in the check of each generation
// and in the read of the payload alike, is the platform's error with the
// file's name: never "corrupt" (the agent would set the record aside) nor
// "nothing stored" (the agent would start afresh).
TEST_F(FileStorageFaults, EachFailedReadIsThePlatformErrorNamingTheFile) {
  const auto v1 = pattern(100, 1);
  ASSERT_TRUE(storage_.write(RecordId::license, v1).ok());
  // license.a: the check reads the header, the payload, the end of file
  // (twice: once to fill a chunk, once for the next chunk); then the
  // payload read reads the header and the payload.
  for (int nth = 1; nth <= 6; ++nth) {
    ops_.fail(Call::read, file(RecordId::license, ".a"), nth, EIO);
    Result<std::vector<uint8_t>> got = read(RecordId::license);
    ASSERT_FALSE(got.ok()) << "read " << nth;
    EXPECT_EQ(got.status(), Status(Reason::io_error, EIO)) << "read " << nth;
    EXPECT_STREQ(storage_.failure_text(got.status()), "/var/state/license.a: Input/output error");
  }
  EXPECT_EQ(value(RecordId::license), v1) << "the seventh read has no fault left: the value is intact";
}

TEST_F(FileStorageFaults, AnOpenFailingForAnotherReasonThanMissingIsNotNothingStored) {
  const auto v1 = pattern(30, 1);
  ASSERT_TRUE(storage_.write(RecordId::grace, v1).ok());  // grace.a only
  // grace.b does not exist (ENOENT is "no such generation"), but EACCES is an error.
  ops_.fail(Call::open, file(RecordId::grace, ".b"), 1, EACCES);
  Result<std::vector<uint8_t>> got = read(RecordId::grace);
  EXPECT_EQ(got.status(), Status(Reason::io_error, EACCES));
  EXPECT_STREQ(storage_.failure_text(got.status()), "/var/state/grace.b: Permission denied");
  // The second open of grace.a (to read the payload after its check) failing.
  ops_.fail(Call::open, file(RecordId::grace, ".a"), 2, EMFILE);
  got = read(RecordId::grace);
  EXPECT_EQ(got.status(), Status(Reason::io_error, EMFILE));
  EXPECT_STREQ(storage_.failure_text(got.status()), "/var/state/grace.a: Too many open files");
  EXPECT_EQ(value(RecordId::grace), v1);
}

// A write(2) that reports no progress would loop forever if retried; it is
// EIO on the temp file, and the committed value stays.
TEST_F(FileStorageFaults, AWriteThatMakesNoProgressIsAnIoErrorAndKeepsTheOldValue) {
  const auto v1 = pattern(20, 1);
  ASSERT_TRUE(storage_.write(RecordId::usage, v1).ok());
  ops_.stall_writes_to(file(RecordId::usage, ".tmp"));
  const Status s = storage_.write(RecordId::usage, pattern(20, 2));
  EXPECT_EQ(s, Status(Reason::io_error, EIO));
  EXPECT_STREQ(storage_.failure_text(s), "/var/state/usage.tmp: Input/output error");
  EXPECT_EQ(value(RecordId::usage), v1);
}

// Each step of a write failing: the error names the file, and the record
// still reads as its previous value.
TEST_F(FileStorageFaults, EachFailedStepOfAWriteNamesItsFileAndKeepsThePreviousValue) {
  struct Step {
    Call call;
    std::string path;
    int error;
    const char* text;
  };
  const Step steps[] = {
      {Call::open, file(RecordId::boot, ".tmp"), EROFS, "/var/state/boot.tmp: Read-only file system"},
      {Call::write, file(RecordId::boot, ".tmp"), ENOSPC, "/var/state/boot.tmp: No space left on device"},
      {Call::fsync, file(RecordId::boot, ".tmp"), EIO, "/var/state/boot.tmp: Input/output error"},
      {Call::close, file(RecordId::boot, ".tmp"), EDQUOT, "/var/state/boot.tmp: Disk quota exceeded"},
      {Call::rename, file(RecordId::boot, ".b"), EXDEV, "/var/state/boot.b: Invalid cross-device link"},
  };
  const auto v1 = pattern(8, 1);
  ASSERT_TRUE(storage_.write(RecordId::boot, v1).ok());
  uint32_t tag = 2;
  for (const Step& step : steps) {
    ops_.fail(step.call, step.path, 1, step.error);
    const Status s = storage_.write(RecordId::boot, pattern(8, tag++));
    EXPECT_EQ(s, Status(Reason::io_error, step.error)) << step.text;
    EXPECT_STREQ(storage_.failure_text(s), step.text);
    EXPECT_EQ(value(RecordId::boot), v1) << step.text;
  }
  // The directory fsync after the rename failing: the new value is in
  // place (it may not survive a power cut), and the error says so.
  ops_.fail(Call::fsync, kDir, 1, EIO);
  const Status s = storage_.write(RecordId::boot, pattern(8, 9));
  EXPECT_EQ(s, Status(Reason::io_error, EIO));
  EXPECT_STREQ(storage_.failure_text(s), "/var/state: Input/output error");
  EXPECT_EQ(value(RecordId::boot), pattern(8, 9));
}

// The file can be replaced between the check of a generation and the read
// of its payload (another writer, an editor, a restore). Only what is read
// the second time is trusted: when it no longer matches the check, the
// other intact generation is returned, never a mix of the two.
TEST_F(FileStorageFaults, AGenerationReplacedAfterItsCheckFallsBackToTheOther) {
  const auto v1 = pattern(40, 1);
  const auto v2 = pattern(40, 2);
  ASSERT_TRUE(storage_.write(RecordId::license, v1).ok());  // .a, sequence 1
  ASSERT_TRUE(storage_.write(RecordId::license, v2).ok());  // .b, sequence 2
  const std::string newest = file(RecordId::license, ".b");
  const std::vector<uint8_t> good = record_file(RecordId::license, 2, v2);
  ASSERT_EQ(disk_.file(newest), good);
  auto payload_changed = good;
  payload_changed[30] ^= 0x40;
  auto other_header_crc = good;
  other_header_crc[7] = 1;  // reserved byte: only the header CRC notices
  struct Swap {
    const char* what;
    std::vector<uint8_t> content;
  };
  const Swap swaps[] = {
      {"a short header", std::vector<uint8_t>(good.begin(), good.begin() + 10)},
      {"another sequence", record_file(RecordId::license, 3, v2)},
      {"another length", record_file(RecordId::license, 2, pattern(39, 2))},
      {"another payload CRC", record_file(RecordId::license, 2, pattern(40, 3))},
      {"a header failing its CRC", other_header_crc},
      {"the payload cut short", std::vector<uint8_t>(good.begin(), good.end() - 1)},
      {"a payload failing its CRC", payload_changed},
  };
  for (const Swap& swap : swaps) {
    int opens = 0;
    ops_.before_open = [&](const std::string& path, FileOps::OpenMode) {
      if (path == newest && ++opens == 2) disk_.put_file(newest, swap.content);
    };
    EXPECT_EQ(value(RecordId::license), v1) << swap.what;
    EXPECT_EQ(opens, 2) << swap.what;
    disk_.put_file(newest, good);
  }
  // Both generations replaced after their checks: no intact copy is left.
  const std::string oldest = file(RecordId::license, ".a");
  ops_.before_open = [&, opens = std::map<std::string, int>{}](const std::string& path, FileOps::OpenMode) mutable {
    if (++opens[path] == 2) disk_.put_file(path, {1, 2, 3});
  };
  EXPECT_TRUE(is_corrupt(read(RecordId::license).status()));
}

TEST_F(FileStorageFaults, OnlyTheSecondGenerationPresentAndDamagedIsCorruptNotNothingStored) {
  disk_.put_file(file(RecordId::events, ".b"), {0x53, 0x4C});
  Result<std::vector<uint8_t>> got = read(RecordId::events);
  EXPECT_TRUE(is_corrupt(got.status()));
  EXPECT_STREQ(storage_.failure_text(got.status()), "no intact copy");
  // Only the second generation, intact: it is the value.
  disk_.put_file(file(RecordId::events, ".b"), record_file(RecordId::events, 7, pattern(5, 5)));
  EXPECT_EQ(value(RecordId::events), pattern(5, 5));
  EXPECT_FALSE(storage_.read_fell_back(RecordId::events));
}

// Whether the reader is told "the value may not be the newest" depends on
// what the damaged copy's header still says.
TEST_F(FileStorageFaults, FallBackIsReportedOnlyWhenTheDamagedCopyMayHaveBeenNewer) {
  const auto old_value = pattern(16, 1);
  const auto new_value = pattern(16, 2);
  // The older copy's payload damaged, its header intact and older: the
  // value read is the newest, nothing to report.
  auto damaged_old = record_file(RecordId::usage, 4, old_value);
  damaged_old.back() ^= 1;
  disk_.put_file(file(RecordId::usage, ".a"), damaged_old);
  disk_.put_file(file(RecordId::usage, ".b"), record_file(RecordId::usage, 5, new_value));
  EXPECT_EQ(value(RecordId::usage), new_value);
  EXPECT_FALSE(storage_.read_fell_back(RecordId::usage));
  // The other copy's header unreadable: it may have been newer.
  disk_.put_file(file(RecordId::usage, ".a"), {9, 9, 9});
  EXPECT_EQ(value(RecordId::usage), new_value);
  EXPECT_TRUE(storage_.read_fell_back(RecordId::usage));
  // The other copy's header intact and newer, its payload damaged: reported.
  auto damaged_new = record_file(RecordId::usage, 6, pattern(16, 3));
  damaged_new.back() ^= 1;
  disk_.put_file(file(RecordId::usage, ".a"), damaged_new);
  EXPECT_EQ(value(RecordId::usage), new_value);
  EXPECT_TRUE(storage_.read_fell_back(RecordId::usage));
}

// A write replaces the generation that is not the value read now, and its
// sequence is past every committed header, damaged payload or not: else a
// damaged copy with a higher sequence would look newer than the new value
// once its payload was repaired, or the sequences would repeat.
TEST_F(FileStorageFaults, AWriteReplacesTheCopyNotReadAndNumbersItPastEveryCommittedHeader) {
  auto damaged = record_file(RecordId::grace, 10, pattern(12, 1));
  damaged.back() ^= 1;
  disk_.put_file(file(RecordId::grace, ".a"), damaged);
  const auto kept = record_file(RecordId::grace, 3, pattern(12, 2));
  disk_.put_file(file(RecordId::grace, ".b"), kept);
  ASSERT_EQ(value(RecordId::grace), pattern(12, 2));
  ASSERT_TRUE(storage_.write(RecordId::grace, pattern(12, 3)).ok());
  EXPECT_EQ(disk_.file(file(RecordId::grace, ".a")), record_file(RecordId::grace, 11, pattern(12, 3)));
  EXPECT_EQ(disk_.file(file(RecordId::grace, ".b")), kept) << "the copy read before the write is untouched";
  EXPECT_EQ(value(RecordId::grace), pattern(12, 3));
}

// A new state directory is durable once open() returns: its entry is in its
// parent, which open() fsyncs, for a relative path (the parent is ".") as
// for a directory at the root.
TEST(FileStorageOpen, ANewStateDirectorySurvivesAPowerCutWhateverItsParent) {
  struct Case {
    const char* root;
    const char* dir;
    const char* parent;
  };
  for (const Case& c : {Case{".", "state", "."}, Case{"/", "/state", "/"}, Case{"/var", "/var/state", "/var"}}) {
    CrashFileOps disk(c.root);
    FaultyFileOps ops(disk);
    FileStorage storage(ops, c.dir, 64);
    ASSERT_TRUE(storage.open().ok()) << c.dir;
    EXPECT_EQ(ops.synced_directories, std::vector<std::string>{c.parent}) << c.dir;
    disk.reboot(CrashFileOps::Survivor::only_durable);
    Result<int> fd = disk.open(c.dir, FileOps::OpenMode::directory);
    EXPECT_TRUE(fd.ok()) << c.dir << " lost in the power cut";
  }
}

TEST(FileStorageOpen, AStateDirectoryThatCannotBeMadeIsTheErrorNamingIt) {
  CrashFileOps disk("/var");
  FaultyFileOps ops(disk);
  FileStorage storage(ops, "/var/state", 64);
  ops.fail(Call::make_directory, "/var/state", 1, EACCES);
  const Status s = storage.open();
  EXPECT_EQ(s, Status(Reason::io_error, EACCES));
  EXPECT_STREQ(storage.failure_text(s), "/var/state: Permission denied");
  ops.fail(Call::fsync, "/var", 1, EIO);
  const Status sync = storage.open();
  EXPECT_EQ(sync, Status(Reason::io_error, EIO));
  EXPECT_STREQ(storage.failure_text(sync), "/var: Input/output error");
}

// An empty state directory, or one so long that a record's path would not
// fit, is refused before any file is touched, by open, read and write alike.
TEST(FileStorageOpen, AnEmptyOrOverlongStateDirectoryIsRefused) {
  CrashFileOps disk("/var");
  for (const std::string& dir : {std::string(), "/var/" + std::string(480, 'x')}) {
    FileStorage storage(disk, dir, 64);
    EXPECT_EQ(storage.open(), Status(Reason::invalid_argument)) << dir.size();
    std::vector<uint8_t> buffer(64);
    EXPECT_EQ(storage.read(RecordId::license, buffer).status(), Status(Reason::invalid_argument));
    EXPECT_EQ(storage.write(RecordId::license, pattern(4, 1)), Status(Reason::invalid_argument));
    EXPECT_STREQ(storage.failure_text(Status(Reason::invalid_argument)), "invalid_argument");
  }
  EXPECT_EQ(disk.operations(), 0u);
  // The longest accepted, 480 characters, leaves room for "/identity.tmp".
  const std::string parent = "/" + std::string(477, 'y');
  CrashFileOps roomy(parent);
  FileStorage longest(roomy, parent + "/s", 64);
  ASSERT_TRUE(longest.open().ok());
  ASSERT_TRUE(longest.write(RecordId::identity, pattern(4, 1)).ok());
}

TEST(FileStorageText, APlatformErrorWithNoFileYetIsStrerrorAloneAndOwnOutcomesAreWords) {
  CrashFileOps disk("/var");
  FileStorage storage(disk, "/var/state", 64);
  EXPECT_STREQ(storage.failure_text(Status(Reason::io_error, ENOSPC)), "No space left on device");
  EXPECT_STREQ(storage.failure_text(Status(Reason::storage_not_found)), "nothing stored");
  EXPECT_STREQ(storage.failure_text(Status(Reason::io_error, 0)), "platform error");
}

}  // namespace
}  // namespace sublink
