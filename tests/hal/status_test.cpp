#include "hal/status.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sublink {
namespace {

TEST(Status, EveryReasonHasADistinctName) {
  std::set<std::string> names;
  for (unsigned i = 0; i <= static_cast<unsigned>(kLastReason); ++i) {
    std::string n = reason_name(static_cast<Reason>(i));
    EXPECT_NE(n, "unknown");
    EXPECT_TRUE(names.insert(n).second) << "duplicate name " << n;
    EXPECT_STRNE(reason_hint(static_cast<Reason>(i)), "unknown");
  }
}

TEST(Result, CarriesValueOrStatus) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  Result<int> bad = Status(Reason::proxy_status, 502);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), Reason::proxy_status);
  EXPECT_EQ(bad.status().detail(), 502);
}

// A Result without a value must say why: one built from an ok Status is a
// caller's bug. Debug builds (host-asan) stop at it; release builds give a
// Result that is not ok(), never an ok one whose value is missing.
TEST(Result, FromOkStatusIsAProgrammingError) {
  bool ok = true;
  bool ok_from_reason = true;
  EXPECT_DEBUG_DEATH(
      {
        Result<int> r = Status::Ok();
        ok = r.ok();
      },
      "");
  EXPECT_DEBUG_DEATH(
      {
        Result<int> r(Reason::ok);
        ok_from_reason = r.ok();
      },
      "");
#ifdef NDEBUG
  EXPECT_FALSE(ok);
  EXPECT_FALSE(ok_from_reason);
#endif
}

TEST(Status, AReasonFromOutsideTheListIsUnknownNotAStrayRead) {
  const auto beyond = static_cast<Reason>(static_cast<unsigned>(kLastReason) + 1);
  EXPECT_STREQ(reason_name(beyond), "unknown");
  EXPECT_STREQ(reason_hint(beyond), "unknown");
}

}  // namespace
}  // namespace sublink
