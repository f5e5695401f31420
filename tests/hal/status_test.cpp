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

}  // namespace
}  // namespace sublink
