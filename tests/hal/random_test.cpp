#include "hal/random.h"

#include <gtest/gtest.h>

#include <cstring>

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

}  // namespace
}  // namespace sublink
