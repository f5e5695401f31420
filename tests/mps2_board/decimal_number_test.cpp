// The mps2-an385 board's strtod (boards/mps2-an385/decimal_number.h),
// checked against the host C library's, which is correctly rounded.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "boards/mps2-an385/decimal_number.h"

namespace sublink::mps2 {
namespace {

struct Parsed {
  double value;
  size_t used;
};

Parsed board(const std::string& text) {
  const char* end = nullptr;
  const double v = parse_decimal(text.c_str(), &end);
  return {v, static_cast<size_t>(end - text.c_str())};
}

Parsed library(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  return {v, static_cast<size_t>(end - text.c_str())};
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(DecimalNumber, IntegersUpToTwoToThe53AreExact) {
  for (const char* text : {"0", "7", "42", "-17", "+5", "86400", "1700000000000", "2592000", "9007199254740991",
                           "-9007199254740991", "000123"}) {
    const Parsed b = board(text), l = library(text);
    EXPECT_TRUE(same_bits(b.value, l.value)) << text << ": " << b.value << " vs " << l.value;
    EXPECT_EQ(b.used, std::strlen(text)) << text;
  }
}

TEST(DecimalNumber, DecimalsWithinTheExactPowersMatchTheCLibraryBitForBit) {
  for (const char* text : {"1.5", "-0.25", "3.14159", "0.1", "1e3", "2.5E-3", "1E+22", "123456789012345e-22",
                           "4.35", "99.999", ".5", "5.", "1.e5", "-.75e1", "0.000001"}) {
    const Parsed b = board(text), l = library(text);
    EXPECT_TRUE(same_bits(b.value, l.value)) << text << ": " << b.value << " vs " << l.value;
    EXPECT_EQ(b.used, l.used) << text;
  }
}

TEST(DecimalNumber, RandomFastPathNumbersMatchTheCLibrary) {
  std::mt19937_64 gen(5);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t mantissa = gen() >> 11;  // below 2^53
    const int exponent = static_cast<int>(gen() % 45) - 22;
    char text[48];
    std::snprintf(text, sizeof text, "%s%llue%d", i % 2 ? "-" : "", static_cast<unsigned long long>(mantissa),
                  exponent);
    const Parsed b = board(text), l = library(text);
    ASSERT_TRUE(same_bits(b.value, l.value)) << text << ": " << b.value << " vs " << l.value;
    ASSERT_EQ(b.used, l.used) << text;
  }
}

TEST(DecimalNumber, StopsWhereTheNumberEndsAsStrtodDoes) {
  for (const char* text : {"12abc", "1e", "1e+", "1E-x", "7.25.3", "3-4", "1e5e6", "+-1", "--1", "-", "+", ".",
                           "e5", "-.e1", ""}) {
    const Parsed b = board(text), l = library(text);
    EXPECT_EQ(b.used, l.used) << "'" << text << "'";
    EXPECT_TRUE(same_bits(b.value, l.value)) << "'" << text << "': " << b.value << " vs " << l.value;
  }
}

TEST(DecimalNumber, OutOfRangeGivesInfinityOrZero) {
  EXPECT_EQ(board("1e400").value, HUGE_VAL);
  EXPECT_EQ(board("-1e400").value, -HUGE_VAL);
  EXPECT_EQ(board("1e-400").value, 0.0);
  EXPECT_EQ(board("0e999999999").value, 0.0);
  EXPECT_EQ(board("1e999999999999").used, std::strlen("1e999999999999"));
}

TEST(DecimalNumber, LongDigitStringsStayWithinRounding) {
  for (const char* text : {"123456789012345678901234567890", "0.1234567890123456789012345", "1.5e300",
                           "2.5e-300", "98765432109876543210e-30"}) {
    const Parsed b = board(text), l = library(text);
    EXPECT_EQ(b.used, l.used) << text;
    EXPECT_NEAR(b.value / l.value, 1.0, 1e-14) << text;
  }
}

}  // namespace
}  // namespace sublink::mps2
