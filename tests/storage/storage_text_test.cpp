// The words and names the storage layer gives the operator and the file
// system, shared by every backend.
#include <gtest/gtest.h>

#include "hal/storage.h"

namespace sublink {
namespace {

// Every storage outcome in the words the operator sees (sublinkctl status,
// the log): each of the storage layer's own reasons, a platform errno, and
// another reason.
TEST(StorageText, EachOutcomeHasItsOwnWords) {
  EXPECT_STREQ(storage_failure_text(Status::Ok()), "ok");
  EXPECT_STREQ(storage_failure_text(Status(Reason::storage_not_found)), "nothing stored");
  EXPECT_STREQ(storage_failure_text(Status(Reason::storage_corrupt)), "no intact copy");
  EXPECT_STREQ(storage_failure_text(Status(Reason::storage_too_big)), "record too large");
  EXPECT_STREQ(storage_failure_text(Status(Reason::storage_no_space)), "no room on the medium");
  EXPECT_STREQ(storage_failure_text(Status(Reason::storage_bad_record_id)), "no such record");
  EXPECT_STREQ(storage_failure_text(Status(Reason::io_error, 28)), "platform error");
  EXPECT_STREQ(storage_failure_text(Status(Reason::out_of_memory)), "out_of_memory");
}

// The storage_failed event carries the storage layer's own reasons as the
// negative numbers it always sent (PROTOCOL.md section 5, events), an errno
// as itself.
TEST(StorageWireDetail, KeepsTheNumbersTheEventHasAlwaysCarried) {
  EXPECT_EQ(storage_wire_detail(Status(Reason::storage_not_found)), -1001);
  EXPECT_EQ(storage_wire_detail(Status(Reason::storage_corrupt)), -1002);
  EXPECT_EQ(storage_wire_detail(Status(Reason::storage_too_big)), -1003);
  EXPECT_EQ(storage_wire_detail(Status(Reason::storage_no_space)), -1004);
  EXPECT_EQ(storage_wire_detail(Status(Reason::storage_bad_record_id)), -1005);
  EXPECT_EQ(storage_wire_detail(Status(Reason::io_error, 28)), 28);
  EXPECT_EQ(storage_wire_detail(Status(Reason::io_error)), 0);
}

TEST(StorageText, RecordNamesAreStableFileNamesAndOutOfRangeIsNone) {
  EXPECT_STREQ(record_name(RecordId::license), "license");
  EXPECT_STREQ(record_name(RecordId::identity), "identity");
  EXPECT_STREQ(record_name(static_cast<RecordId>(15)), "record15");
  EXPECT_EQ(record_name(static_cast<RecordId>(kMaxRecordIds)), nullptr);
}

}  // namespace
}  // namespace sublink
