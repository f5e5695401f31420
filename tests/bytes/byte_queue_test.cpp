#include "net/bytes/byte_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace sublink {
namespace {

std::string text(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

TEST(ByteQueue, FifoOrderAcrossCompaction) {
  ByteQueue q(8);
  ASSERT_TRUE(q.push("abcdef"));
  q.consume(4);
  EXPECT_EQ(text(q.readable()), "ef");
  ASSERT_TRUE(q.push("123456"));  // needs compaction to fit
  EXPECT_EQ(text(q.readable()), "ef123456");
  EXPECT_FALSE(q.push("x"));  // full: all or nothing
  EXPECT_EQ(q.size(), 8u);
}

TEST(ByteQueue, WritableWindowCompactsAndCommits) {
  ByteQueue q(4);
  q.push("abcd");
  q.consume(2);
  auto w = q.writable();
  ASSERT_EQ(w.size(), 2u);
  w[0] = 'x';
  q.commit(1);
  EXPECT_EQ(text(q.readable()), "cdx");
  q.consume(100);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace sublink
