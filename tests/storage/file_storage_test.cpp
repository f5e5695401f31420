#include "hal/linux/file_storage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "hal/crc32.h"
#include "storage/crash_file_ops.h"
#include "storage/file_record.h"
#include "storage/storage_script.h"
#include "support/process.h"

namespace sublink {
namespace {

using test::CrashFileOps;
using test::kNamedRecords;
using test::pattern;
using test::record_file;

std::vector<uint8_t> read_value(Storage& s, RecordId id) {
  std::vector<uint8_t> buffer(s.max_record_size());
  Result<size_t> got = s.read(id, buffer);
  EXPECT_TRUE(got.ok()) << record_name(id) << " detail " << got.status().detail();
  if (!got.ok()) return {};
  buffer.resize(*got);
  return buffer;
}

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

class PosixFileStorage : public ::testing::Test {
 protected:
  std::string state() const { return dir_.file("state"); }
  test::TempDir dir_;
  PosixFileOps ops_;
};

TEST_F(PosixFileStorage, CreatesAPrivateStateDirAndPrivateFiles) {
  FileStorage storage(ops_, state(), 4096);
  ASSERT_TRUE(storage.open().ok());
  ASSERT_TRUE(storage.open().ok());  // existing directory is fine
  struct stat st {};
  ASSERT_EQ(::stat(state().c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_TRUE(storage.write(RecordId::license, pattern(100, 1)).ok());
  ASSERT_EQ(::stat((state() + "/license.a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  FileStorage orphan(ops_, dir_.file("missing/state"), 4096);
  EXPECT_FALSE(orphan.open().ok());
}

TEST_F(PosixFileStorage, RoundTripsAcrossInstancesAndKeepsRecordsApart) {
  {
    FileStorage storage(ops_, state(), 4096);
    ASSERT_TRUE(storage.open().ok());
    std::vector<uint8_t> buffer(4096);
    for (RecordId id : kNamedRecords) {
      EXPECT_TRUE(is_not_found(storage.read(id, buffer).status()));
      ASSERT_TRUE(storage.write(id, pattern(50 * static_cast<size_t>(id), 7)).ok());
    }
    for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(storage.write(RecordId::usage, pattern(9, i)).ok());
  }
  FileStorage again(ops_, state(), 4096);
  ASSERT_TRUE(again.open().ok());
  for (RecordId id : kNamedRecords) {
    const auto expected = id == RecordId::usage ? pattern(9, 4) : pattern(50 * static_cast<size_t>(id), 7);
    EXPECT_EQ(read_value(again, id), expected) << record_name(id);
  }
}

TEST_F(PosixFileStorage, MaxSizeAndBadIds) {
  FileStorage storage(ops_, state(), 1000);
  ASSERT_TRUE(storage.open().ok());
  EXPECT_EQ(storage.max_record_size(), 1000u);
  ASSERT_TRUE(storage.write(RecordId::events, pattern(1000, 3)).ok());
  EXPECT_EQ(read_value(storage, RecordId::events), pattern(1000, 3));
  EXPECT_EQ(storage.write(RecordId::events, pattern(1001, 4)),
            Status(Reason::storage_too_big));
  std::vector<uint8_t> small(999);
  EXPECT_EQ(storage.read(RecordId::events, small).status(),
            Status(Reason::storage_too_big));
  EXPECT_EQ(storage.write(static_cast<RecordId>(kMaxRecordIds), pattern(1, 1)),
            Status(Reason::storage_bad_record_id));
  ASSERT_TRUE(storage.write(static_cast<RecordId>(15), pattern(3, 1)).ok());  // room for later ids
  EXPECT_EQ(read_value(storage, static_cast<RecordId>(15)), pattern(3, 1));
  ASSERT_TRUE(storage.write(RecordId::events, {}).ok());
  EXPECT_EQ(read_value(storage, RecordId::events), std::vector<uint8_t>{});
}

// Damages the newest file every way a disk can: each single bit, truncation
// at each length, trailing junk. The read always falls back to the previous
// value, never a mix; a write afterwards works.
TEST_F(PosixFileStorage, DamagedNewestFileFallsBackToPreviousGeneration) {
  FileStorage storage(ops_, state(), 4096);
  ASSERT_TRUE(storage.open().ok());
  const auto v1 = pattern(40, 1);
  const auto v2 = pattern(60, 2);
  ASSERT_TRUE(storage.write(RecordId::license, v1).ok());  // license.a
  ASSERT_TRUE(storage.write(RecordId::license, v2).ok());  // license.b
  const std::string newest = state() + "/license.b";
  const auto good = slurp(newest);
  ASSERT_EQ(good.size(), 24u + 60u);
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    auto bad = good;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    spit(newest, bad);  // header bytes are under the header CRC, payload under its own
    EXPECT_EQ(read_value(storage, RecordId::license), v1) << "bit " << bit;
    // Files appear whole (renamed into place), so a damaged one is damage,
    // and the reader is told the value it got may not be the newest.
    EXPECT_TRUE(storage.read_fell_back(RecordId::license)) << "bit " << bit;
  }
  spit(newest, good);
  EXPECT_EQ(read_value(storage, RecordId::license), v2);
  EXPECT_FALSE(storage.read_fell_back(RecordId::license)) << "both copies intact";
  for (size_t len = 0; len < good.size(); ++len) {
    spit(newest, std::vector<uint8_t>(good.begin(), good.begin() + static_cast<ptrdiff_t>(len)));
    EXPECT_EQ(read_value(storage, RecordId::license), v1) << "length " << len;
  }
  auto longer = good;
  longer.push_back(0);
  spit(newest, longer);
  EXPECT_EQ(read_value(storage, RecordId::license), v1);
  // The damaged generation is the one replaced next; v1 stays as fallback.
  const auto v3 = pattern(10, 3);
  ASSERT_TRUE(storage.write(RecordId::license, v3).ok());
  EXPECT_EQ(read_value(storage, RecordId::license), v3);
  EXPECT_EQ(slurp(state() + "/license.a"), record_file(RecordId::license, 1, v1));
}

TEST_F(PosixFileStorage, BothCopiesDamagedIsCorrupt) {
  FileStorage storage(ops_, state(), 4096);
  ASSERT_TRUE(storage.open().ok());
  spit(state() + "/grace.a", {1, 2, 3});
  std::vector<uint8_t> buffer(4096);
  EXPECT_TRUE(is_corrupt(storage.read(RecordId::grace, buffer).status()));
  // A file of another record under this name is not this record's value.
  spit(state() + "/grace.a", record_file(RecordId::usage, 1, pattern(5, 5)));
  EXPECT_TRUE(is_corrupt(storage.read(RecordId::grace, buffer).status()));
  // A header claiming more than the maximum is not trusted.
  spit(state() + "/grace.b", record_file(RecordId::grace, 1, pattern(4097, 5)));
  EXPECT_TRUE(is_corrupt(storage.read(RecordId::grace, buffer).status()));
}

TEST_F(PosixFileStorage, SequenceWrapsAround) {
  FileStorage storage(ops_, state(), 4096);
  ASSERT_TRUE(storage.open().ok());
  spit(state() + "/boot.a", record_file(RecordId::boot, 0xFFFFFFFFu, pattern(4, 1)));
  spit(state() + "/boot.b", record_file(RecordId::boot, 0, pattern(4, 2)));
  EXPECT_EQ(read_value(storage, RecordId::boot), pattern(4, 2));
  spit(state() + "/boot.a", record_file(RecordId::boot, 0xFFFFFFFEu, pattern(4, 1)));
  spit(state() + "/boot.b", record_file(RecordId::boot, 0xFFFFFFFFu, pattern(4, 2)));
  for (uint32_t i = 0; i < 4; ++i) {  // writes sequences 0, 1, 2, 3
    ASSERT_TRUE(storage.write(RecordId::boot, pattern(4, 10 + i)).ok());
    EXPECT_EQ(read_value(storage, RecordId::boot), pattern(4, 10 + i));
  }
}

// The crucial property for files: a power cut at every syscall and after
// every written byte, under each way the file system may keep or drop what
// was not yet fsynced.
TEST(FileStorageCrash, PowerCutAtEveryByteAndSyscallKeepsPreviousOrNew) {
  const auto script = test::make_script({0, 1, 9, 64, 3, 33}, 3);
  const std::string root = "/var";
  const std::string dir = "/var/state";
  uint64_t total = 0;
  {
    CrashFileOps fs(root);
    FileStorage storage(fs, dir, 64);
    ASSERT_TRUE(storage.open().ok());
    ASSERT_EQ(test::run_script(storage, script), script.size());
    total = fs.operations();
  }
  const CrashFileOps::Survivor survivors[] = {
      CrashFileOps::Survivor::only_durable, CrashFileOps::Survivor::everything,
      CrashFileOps::Survivor::names_not_data, CrashFileOps::Survivor::data_not_names};
  size_t checked = 0;
  for (CrashFileOps::Survivor survivor : survivors) {
    for (uint64_t cut = 0; cut <= total; ++cut) {
      CrashFileOps fs(root);
      fs.cut_power_after(cut);
      size_t failed = 0;
      {
        FileStorage storage(fs, dir, 64);
        failed = storage.open().ok() ? test::run_script(storage, script) : 0;
      }
      ASSERT_EQ(failed == script.size(), cut == total) << "cut " << cut;
      fs.reboot(survivor);
      FileStorage rebooted(fs, dir, 64);
      ASSERT_TRUE(rebooted.open().ok());
      // Files never show a torn first write as corrupt: the temp file is
      // not a generation.
      ASSERT_TRUE(test::holds_previous_or_new(rebooted, script, failed, false))
          << "cut " << cut << " survivor " << static_cast<int>(survivor);
      ASSERT_TRUE(test::writes_after_recovery(rebooted, static_cast<uint32_t>(cut)))
          << "cut " << cut;
      ++checked;
    }
  }
  std::printf("[ crash    ] %zu power cuts checked (%llu operations x 4 survivor models)\n",
              checked, static_cast<unsigned long long>(total + 1));
}

// Without the fsync before rename a cut could leave the new name on an
// empty file; the model must be able to show that, or the sweep above
// proves nothing. Here a naive writer (no fsync) loses data in the model.
TEST(FileStorageCrash, ModelLosesUnsyncedDataOfARenamedFile) {
  CrashFileOps fs("/var");
  Result<int> fd = fs.open("/var/x.tmp", FileOps::OpenMode::replace);
  ASSERT_TRUE(fd.ok());
  const uint8_t data[3] = {1, 2, 3};
  ASSERT_TRUE(fs.write(*fd, data).ok());
  ASSERT_TRUE(fs.close(*fd).ok());
  ASSERT_TRUE(fs.rename("/var/x.tmp", "/var/x").ok());
  Result<int> dirfd = fs.open("/var", FileOps::OpenMode::directory);
  ASSERT_TRUE(fs.fsync(*dirfd).ok());
  fs.reboot(CrashFileOps::Survivor::only_durable);
  ASSERT_TRUE(fs.file("/var/x").has_value());
  EXPECT_TRUE(fs.file("/var/x")->empty());
  // And a rename not followed by a directory fsync is lost.
  fs.put_file("/var/y.tmp", {9});
  ASSERT_TRUE(fs.rename("/var/y.tmp", "/var/y").ok());
  fs.reboot(CrashFileOps::Survivor::only_durable);
  EXPECT_FALSE(fs.file("/var/y").has_value());
  EXPECT_TRUE(fs.file("/var/y.tmp").has_value());
}

}  // namespace
}  // namespace sublink
