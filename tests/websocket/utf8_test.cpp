// UTF-8 validation in the style of Markus Kuhn's decoder stress test, on
// its own and through text messages split across frames and reads.
#include <gtest/gtest.h>

#include <string>

#include "net/websocket/utf8_validator.h"
#include "net/websocket/ws_client.h"
#include "websocket/ws_test_util.h"

namespace sublink {
namespace {

using namespace wstest;

struct Utf8Case {
  const char* name;
  std::string bytes;
};

const Utf8Case kValid[] = {
    {"Empty", ""},
    {"Ascii", "hello {\"json\": 1}"},
    {"KosmeGreek", "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"},
    {"FirstTwoByte_U0080", "\xC2\x80"},
    {"LastTwoByte_U07FF", "\xDF\xBF"},
    {"FirstThreeByte_U0800", "\xE0\xA0\x80"},
    {"LastBeforeSurrogates_UD7FF", "\xED\x9F\xBF"},
    {"FirstAfterSurrogates_UE000", "\xEE\x80\x80"},
    {"Bom_UFEFF", "\xEF\xBB\xBF"},
    {"NonCharacter_UFFFE", "\xEF\xBF\xBE"},
    {"LastThreeByte_UFFFF", "\xEF\xBF\xBF"},
    {"FirstFourByte_U10000", "\xF0\x90\x80\x80"},
    {"LastValid_U10FFFF", "\xF4\x8F\xBF\xBF"},
    {"Nul", std::string("a\0b", 3)},
    {"Euro", "\xE2\x82\xAC"},
};

const Utf8Case kInvalid[] = {
    {"LoneContinuation80", "\x80"},
    {"LoneContinuationBF", "\xBF"},
    {"ContinuationsInARow", "\x80\x81\x82"},
    {"LeadFollowedBySpace", "\xC2 "},
    {"OverlongSlash2", "\xC0\xAF"},
    {"OverlongSlash3", "\xE0\x80\xAF"},
    {"OverlongSlash4", "\xF0\x80\x80\xAF"},
    {"MaxOverlong2", "\xC1\xBF"},
    {"MaxOverlong3", "\xE0\x9F\xBF"},
    {"MaxOverlong4", "\xF0\x8F\xBF\xBF"},
    {"OverlongNul", "\xC0\x80"},
    {"HighSurrogateD800", "\xED\xA0\x80"},
    {"LowSurrogateDFFF", "\xED\xBF\xBF"},
    {"SurrogatePair", "\xED\xA0\x80\xED\xB0\x80"},
    {"AboveMax_U110000", "\xF4\x90\x80\x80"},
    {"LeadF5", "\xF5\x80\x80\x80"},
    {"FiveByteForm", "\xF8\x88\x80\x80\x80"},
    {"SixByteForm", "\xFC\x84\x80\x80\x80\x80"},
    {"ByteFE", "\xFE"},
    {"ByteFF", "\xFF"},
    {"TruncatedTwoAtEnd", "ab\xC2"},
    {"TruncatedThreeAtEnd", "\xE2\x82"},
    {"TruncatedFourAtEnd", "\xF0\x9F\x98"},
    {"TruncatedInMiddle", "\xE2\x82" "A"},
    {"ValidThenInvalid", "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80"},
};

class ValidUtf8 : public ::testing::TestWithParam<Utf8Case> {};
class InvalidUtf8 : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(ValidUtf8, IsAcceptedWholeAndByteByByte) {
  EXPECT_TRUE(is_valid_utf8(GetParam().bytes));
  Utf8Validator v;
  for (char c : GetParam().bytes) {
    const uint8_t b = static_cast<uint8_t>(c);
    ASSERT_TRUE(v.feed(std::span<const uint8_t>(&b, 1)));
  }
  EXPECT_TRUE(v.complete());
}

TEST_P(InvalidUtf8, IsRejectedWholeAndByteByByte) {
  EXPECT_FALSE(is_valid_utf8(GetParam().bytes));
  Utf8Validator v;
  for (char c : GetParam().bytes) {
    const uint8_t b = static_cast<uint8_t>(c);
    v.feed(std::span<const uint8_t>(&b, 1));
  }
  EXPECT_FALSE(v.complete());
}

auto case_name = [](const auto& info) { return std::string(info.param.name); };
INSTANTIATE_TEST_SUITE_P(Utf8, ValidUtf8, ::testing::ValuesIn(kValid), case_name);
INSTANTIATE_TEST_SUITE_P(Utf8, InvalidUtf8, ::testing::ValuesIn(kInvalid), case_name);

TEST(Utf8Validator, StaysFailedUntilReset) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed(bytes_of("\xFF")));
  EXPECT_FALSE(v.feed(bytes_of("a")));
  EXPECT_FALSE(v.ok());
  v.reset();
  EXPECT_TRUE(v.feed(bytes_of("a")));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8Validator, OpenSequenceIsOkButNotComplete) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed(bytes_of("\xF0\x9F")));
  EXPECT_TRUE(v.ok());
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed(bytes_of("\x98\x80")));
  EXPECT_TRUE(v.complete());
}

class TextMessages : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.host = "h";
    client_ = std::make_unique<WsClient>(cfg_, random_);
    ASSERT_TRUE(client_->start().ok());
    client_->consume_output(client_->output().size());
    ASSERT_EQ(feed_all(*client_, ok_response()).size(), 1u);
  }
  void expect_1007(const std::vector<Got>& ev) {
    ASSERT_FALSE(ev.empty());
    EXPECT_EQ(ev.back().type, WsEventType::closed);
    EXPECT_EQ(ev.back().status.reason(), Reason::invalid_payload);
    EXPECT_EQ(ev.back().close_code, 1007);
    auto sent = take_frames(*client_);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].close_code(), 1007);
  }
  ScriptedRandom random_;
  WsClientConfig cfg_;
  std::unique_ptr<WsClient> client_;
};

TEST_F(TextMessages, CodePointSplitAcrossFragmentsIsValid) {
  auto ev = feed_all(*client_, cat({frame(0x1, "price \xE2", false), frame(0x0, "\x82", false), frame(0x0, "\xAC!")}));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "price \xE2\x82\xAC!");
}

TEST_F(TextMessages, CodePointSplitAcrossReadsIsValid) {
  auto ev = feed_all(*client_, frame(0x1, "\xF0\x9F\x98\x80 \xCE\xBA"), 1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "\xF0\x9F\x98\x80 \xCE\xBA");
}

TEST_F(TextMessages, TruncatedSequenceAtMessageEndFails) {
  expect_1007(feed_all(*client_, cat({frame(0x1, "ok \xE2", false), frame(0x0, "\x82")})));
}

TEST_F(TextMessages, InvalidByteFailsBeforeTheMessageEnds) {
  // Fail fast: the first fragment is enough, the rest never has to arrive.
  expect_1007(feed_all(*client_, frame(0x1, "good then \xED\xA0\x80", false)));
}

TEST_F(TextMessages, InvalidByteFailsBeforeTheFrameEnds) {
  const Bytes f = frame(0x1, "\xC0\xAF" + std::string(100, 'x'));
  expect_1007(feed_all(*client_, Bytes(f.begin(), f.begin() + 4)));
}

TEST_F(TextMessages, EveryInvalidCaseFailsTheLink) {
  for (const Utf8Case& c : kInvalid) {
    random_ = ScriptedRandom();  // the next client must draw the sample nonce again
    SetUp();
    SCOPED_TRACE(c.name);
    expect_1007(feed_all(*client_, frame(0x1, c.bytes)));
  }
}

TEST_F(TextMessages, BinaryMessagesAreNotCheckedForUtf8) {
  auto ev = feed_all(*client_, raw_frame(0x82, bytes_of("\xFF\xC0\xAF")));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, WsEventType::binary);
}

}  // namespace
}  // namespace sublink
