#include "hal/random.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>

namespace sublink {
namespace {

class CountingRandom : public Random {
 public:
  Status fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      state_ = state_ * 1103515245u + 12345u;
      b = static_cast<uint8_t>(state_ >> 16);
    }
    return Status::Ok();
  }
  uint32_t state_ = 1;
};

TEST(Random, UniformStaysInBoundsAndCoversThem) {
  CountingRandom r;
  bool seen[11] = {};
  for (int i = 0; i < 2000; ++i) {
    uint64_t v = r.uniform(10);
    ASSERT_LE(v, 10u);
    seen[v] = true;
  }
  for (bool s : seen) EXPECT_TRUE(s);
  EXPECT_EQ(r.uniform(0), 0u);
}

// Bytes from a script, then failure: to steer uniform() through each path.
class ScriptedRandom : public Random {
 public:
  Status fill(std::span<uint8_t> out) override {
    ++fills;
    if (script.size() < out.size()) return Status(Reason::io_error, 5);
    for (auto& b : out) {
      b = script.front();
      script.pop_front();
    }
    return Status::Ok();
  }
  void add(uint64_t big_endian) {
    for (int i = 7; i >= 0; --i) script.push_back(static_cast<uint8_t>(big_endian >> (8 * i)));
  }
  std::deque<uint8_t> script;
  int fills = 0;
};

// A draw at or above the largest multiple of the span would make the low
// values likelier (modulo bias): it is thrown away and another drawn.
TEST(Random, DrawsAboveTheLastWholeSpanAreRedrawnNotFolded) {
  ScriptedRandom r;
  // Span 10: 2^64 % 10 = 6, so the 6 values from UINT64_MAX - 5 up are rejected.
  r.add(UINT64_MAX - 5);
  r.add(UINT64_MAX);
  r.add(1234567);
  EXPECT_EQ(r.uniform(9), 7u);
  EXPECT_EQ(r.fills, 3);
  r.add(UINT64_MAX - 6);  // the last value that is kept
  EXPECT_EQ(r.uniform(9), (UINT64_MAX - 6) % 10);
}

TEST(Random, TheFullRangeAndAFailingSourceStayDefined) {
  ScriptedRandom r;
  EXPECT_EQ(r.uniform(0), 0u);
  EXPECT_EQ(r.fills, 0) << "bound 0 needs no randomness";
  r.add(UINT64_MAX - 1);
  EXPECT_EQ(r.uniform(UINT64_MAX), UINT64_MAX - 1) << "the whole range: no overflow of bound + 1";
  // A source that fails gives 0 rather than spinning or using stale bytes.
  EXPECT_EQ(r.uniform(100), 0u);
  EXPECT_EQ(r.fills, 2);
}

}  // namespace
}  // namespace sublink
