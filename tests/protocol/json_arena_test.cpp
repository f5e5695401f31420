#include "firmware/json/json_arena.h"

#include <cJSON.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "firmware/json/json_document.h"
#include "firmware/protocol/server_messages.h"

namespace sublink {
namespace {

class JsonArenaTest : public ::testing::Test {
 protected:
  void SetUp() override { arena.install(); }
  std::vector<uint8_t> storage = std::vector<uint8_t>(8192);
  JsonArena arena{storage};
};

TEST_F(JsonArenaTest, ParsesInsideTheArenaAndRewindsWhenTheDocumentGoes) {
  EXPECT_EQ(JsonArena::active(), &arena);
  {
    auto doc = JsonDocument::parse(R"({"type":"welcome","time":1,"session":"abc"})");
    ASSERT_TRUE(doc.ok());
    EXPECT_GT(arena.used(), 0u);
    EXPECT_GT(arena.live_blocks(), 0u);
  }
  EXPECT_EQ(arena.used(), 0u);
  EXPECT_EQ(arena.live_blocks(), 0u);
  EXPECT_GT(arena.high_water(), 0u);
  EXPECT_LE(arena.high_water(), arena.capacity());
}

TEST_F(JsonArenaTest, KeepsTwoDocumentsAliveAtOnce) {
  auto first = JsonDocument::parse(R"({"a":"first"})");
  ASSERT_TRUE(first.ok());
  size_t after_first = arena.used();
  {
    auto second = JsonDocument::parse(R"({"b":"second"})");
    ASSERT_TRUE(second.ok());
    EXPECT_GT(arena.used(), after_first);
    EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(first->root(), "a")->valuestring, "first");
    EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(second->root(), "b")->valuestring, "second");
  }
  EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(first->root(), "a")->valuestring, "first");
}

TEST_F(JsonArenaTest, RefusesAMessageLargerThanTheArenaCleanly) {
  std::string big = R"({"type":"request","id":1,"method":"x","params":[)";
  for (int i = 0; i < 400; ++i) big += (i ? "," : "") + std::to_string(i);
  big += "]}";
  auto parsed = parse_server_message(big);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().reason(), Reason::out_of_memory);
  EXPECT_EQ(parsed.status().detail(), static_cast<int32_t>(arena.capacity()));
  EXPECT_EQ(parsed.error().problem, JsonProblem::no_memory);
  EXPECT_EQ(close_code_for(parsed.status()), 1009);
  EXPECT_GT(arena.failed_allocations(), 0u);
  EXPECT_EQ(arena.live_blocks(), 0u) << "the partial tree was released";
  EXPECT_EQ(arena.used(), 0u);
  // And the arena still serves the next message.
  EXPECT_TRUE(parse_server_message(R"({"type":"heartbeat_ack","time":5})").ok());
}

TEST_F(JsonArenaTest, ReportsTheHighWaterOfATypicalMessage) {
  auto parsed = parse_server_message(
      R"({"type":"welcome","time":1700000000000,"heartbeat_s":60,"audit_s":86400,"session":"s-123"})");
  ASSERT_TRUE(parsed.ok());
  RecordProperty("welcome_arena_bytes", static_cast<int>(arena.high_water()));
  EXPECT_LT(arena.high_water(), 1024u);
}

TEST(JsonArenaAllocation, AlignsBlocksAndRefusesZeroAndOversizedRequests) {
  std::vector<uint8_t> storage(128);
  JsonArena arena(storage);
  void* a = arena.allocate(3);
  void* b = arena.allocate(5);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 8, 0u);
  EXPECT_EQ(arena.allocate(0), nullptr);
  EXPECT_EQ(arena.allocate(SIZE_MAX), nullptr);
  EXPECT_EQ(arena.allocate(1000), nullptr);
  EXPECT_EQ(arena.failed_allocations(), 3u);
  arena.release(a);
  EXPECT_GT(arena.used(), 0u) << "b is still alive";
  int outside = 0;
  arena.release(&outside);  // not ours: ignored
  EXPECT_EQ(arena.live_blocks(), 1u);
  arena.release(b);
  EXPECT_EQ(arena.used(), 0u);
  EXPECT_EQ(JsonArena::active(), nullptr);
}

TEST(JsonArenaInstall, DestroyingTheActiveArenaRestoresMalloc) {
  {
    std::vector<uint8_t> storage(256);
    JsonArena arena(storage);
    arena.install();
  }
  EXPECT_EQ(JsonArena::active(), nullptr);
  std::string big(100000, ' ');
  big = "{\"a\":\"" + std::string(50000, 'x') + "\"}";
  EXPECT_TRUE(JsonDocument::parse(big).ok());
}

}  // namespace
}  // namespace sublink
