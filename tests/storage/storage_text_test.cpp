// The words and names the storage layer gives the operator and the file
// system, shared by every backend.
#include <gtest/gtest.h>

#include "hal/storage.h"

namespace sublink {
namespace {

// Every storage outcome in the words the operator sees (sublinkctl status,
// the log): each of the storage layer's own details, a platform errno, and
// another reason.
TEST(StorageText, EachOutcomeHasItsOwnWords) {
  EXPECT_STREQ(storage_failure_text(Status::Ok()), "ok");
  EXPECT_STREQ(storage_failure_text(Status(Reason::io_error, storage_detail::kNotFound)), "nothing stored");
  EXPECT_STREQ(storage_failure_text(Status(Reason::io_error, storage_detail::kCorrupt)), "no intact copy");
  EXPECT_STREQ(storage_failure_text(Status(Reason::io_error, storage_detail::kTooBig)), "record too large");
  EXPECT_STREQ(storage_failure_text(Status(Reason::io_error, storage_detail::kNoSpace)), "no room on the medium");
  EXPECT_STREQ(storage_failure_text(Status(Reason::io_error, storage_detail::kBadRecordId)), "no such record");
  EXPECT_STREQ(storage_failure_text(Status(Reason::io_error, 28)), "platform error");
  EXPECT_STREQ(storage_failure_text(Status(Reason::out_of_memory)), "out_of_memory");
}

TEST(StorageText, RecordNamesAreStableFileNamesAndOutOfRangeIsNone) {
  EXPECT_STREQ(record_name(RecordId::license), "license");
  EXPECT_STREQ(record_name(RecordId::identity), "identity");
  EXPECT_STREQ(record_name(static_cast<RecordId>(15)), "record15");
  EXPECT_EQ(record_name(static_cast<RecordId>(kMaxRecordIds)), nullptr);
}

}  // namespace
}  // namespace sublink
