// PosixFileOps against the real file system: every failure carries the
// errno that FileStorage passes on (and names in "sublinkctl status"), and
// each mode opens what it says.
#include <errno.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "hal/linux/file_ops.h"
#include "support/process.h"

namespace sublink {
namespace {

Status errno_status(int e) { return Status(Reason::io_error, e); }

TEST(PosixFileOps, EachFailureIsTheErrnoOfTheCall) {
  test::TempDir dir;
  PosixFileOps ops;
  EXPECT_EQ(ops.open(dir.file("missing").c_str(), FileOps::OpenMode::read).status(), errno_status(ENOENT));
  EXPECT_EQ(ops.open(dir.file("missing/x").c_str(), FileOps::OpenMode::replace).status(), errno_status(ENOENT));
  EXPECT_EQ(ops.open(dir.file("missing").c_str(), FileOps::OpenMode::directory).status(), errno_status(ENOENT));
  EXPECT_EQ(ops.rename(dir.file("missing").c_str(), dir.file("other").c_str()), errno_status(ENOENT));
  EXPECT_EQ(ops.make_directory(dir.file("missing/sub").c_str()), errno_status(ENOENT));
  EXPECT_EQ(ops.make_directory(dir.path().c_str()), errno_status(EEXIST));
  EXPECT_EQ(ops.fsync(-1), errno_status(EBADF));
  EXPECT_EQ(ops.close(-1), errno_status(EBADF));
  uint8_t buffer[4];
  EXPECT_EQ(ops.read(-1, buffer).status(), errno_status(EBADF));
  EXPECT_EQ(ops.write(-1, buffer).status(), errno_status(EBADF));
}

TEST(PosixFileOps, ModesOpenWhatTheySay) {
  test::TempDir dir;
  PosixFileOps ops;
  // replace: created owner-only, truncated, write-only.
  Result<int> fd = ops.open(dir.file("f").c_str(), FileOps::OpenMode::replace);
  ASSERT_TRUE(fd.ok());
  const uint8_t data[3] = {1, 2, 3};
  ASSERT_EQ(*ops.write(*fd, data), 3u);
  uint8_t back[8];
  EXPECT_EQ(ops.read(*fd, back).status(), errno_status(EBADF)) << "write-only";
  ASSERT_TRUE(ops.fsync(*fd).ok());
  ASSERT_TRUE(ops.close(*fd).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // read: read-only, up to the end, then 0.
  fd = ops.open(dir.file("f").c_str(), FileOps::OpenMode::read);
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(*ops.read(*fd, back), 3u);
  EXPECT_EQ(*ops.read(*fd, back), 0u);
  EXPECT_EQ(ops.write(*fd, data).status(), errno_status(EBADF)) << "read-only";
  ASSERT_TRUE(ops.close(*fd).ok());
  // directory: only a directory, and a directory is not a file to read.
  EXPECT_EQ(ops.open(dir.file("f").c_str(), FileOps::OpenMode::directory).status(), errno_status(ENOTDIR));
  fd = ops.open(dir.path().c_str(), FileOps::OpenMode::directory);
  ASSERT_TRUE(fd.ok());
  EXPECT_TRUE(ops.fsync(*fd).ok());
  EXPECT_EQ(ops.read(*fd, back).status(), errno_status(EISDIR));
  ASSERT_TRUE(ops.close(*fd).ok());
  EXPECT_EQ(ops.open(dir.path().c_str(), FileOps::OpenMode::replace).status(), errno_status(EISDIR));
  // replace truncates an existing file.
  fd = ops.open(dir.file("f").c_str(), FileOps::OpenMode::replace);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(ops.close(*fd).ok());
  ASSERT_EQ(::stat(dir.file("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  // A new directory is owner-only.
  ASSERT_TRUE(ops.make_directory(dir.file("d").c_str()).ok());
  ASSERT_EQ(::stat(dir.file("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_TRUE(ops.rename(dir.file("f").c_str(), dir.file("d/g").c_str()).ok());
  EXPECT_EQ(::stat(dir.file("f").c_str(), &st), -1);
}

}  // namespace
}  // namespace sublink
