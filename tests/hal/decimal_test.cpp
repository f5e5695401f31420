#include "hal/decimal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace sublink {
namespace {

TEST(Decimal, UnsignedWithoutLeadingZeros) {
  EXPECT_EQ(decimal(0).view(), "0");
  EXPECT_EQ(decimal(7).view(), "7");
  EXPECT_EQ(decimal(443).view(), "443");
  EXPECT_EQ(decimal(1000000).view(), "1000000");
  EXPECT_EQ(decimal(std::numeric_limits<uint64_t>::max()).view(), "18446744073709551615");
}

TEST(Decimal, SignedNamesTheSign) {
  EXPECT_EQ(decimal_signed(0).view(), "0");
  EXPECT_EQ(decimal_signed(-1).view(), "-1");
  EXPECT_EQ(decimal_signed(-1003).view(), "-1003");
  EXPECT_EQ(decimal_signed(std::numeric_limits<int64_t>::max()).view(), "9223372036854775807");
  EXPECT_EQ(decimal_signed(std::numeric_limits<int64_t>::min()).view(), "-9223372036854775808");
}

TEST(Decimal, AgreesWithTheStandardLibraryAcrossMagnitudes) {
  for (uint64_t v = 1; v != 0 && v < std::numeric_limits<uint64_t>::max() / 3; v = v * 3 + 1) {
    EXPECT_EQ(decimal(v).view(), std::to_string(v));
    EXPECT_EQ(decimal_signed(-static_cast<int64_t>(v)).view(), std::to_string(-static_cast<int64_t>(v)));
  }
}

}  // namespace
}  // namespace sublink
