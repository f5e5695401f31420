#include "hal/status.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sublink {
namespace {

TEST(Status, EveryReasonHasADistinctName) {
  std::set<std::string> names;
  for (unsigned i = 0; i <= static_cast<unsigned>(Reason::closed_by_peer); ++i) {
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
// failed Result, never an ok one whose value is missing.
TEST(Result, FromOkStatusIsAProgrammingError) {
  Status made = Status::Ok();
  bool ok = true;
  EXPECT_DEBUG_DEATH(
      {
        Result<int> r = Status::Ok();
        ok = r.ok();
        made = r.status();
      },
      "");
  Status from_reason = Status::Ok();
  EXPECT_DEBUG_DEATH(
      {
        Result<int> r(Reason::ok);
        from_reason = r.status();
      },
      "");
#ifdef NDEBUG
  EXPECT_FALSE(ok);
  EXPECT_EQ(made, kResultWithoutValue);
  EXPECT_EQ(from_reason, kResultWithoutValue);
  EXPECT_FALSE(kResultWithoutValue.ok());
#endif
}

}  // namespace
}  // namespace sublink
