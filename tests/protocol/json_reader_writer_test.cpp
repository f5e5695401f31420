#include <cJSON.h>
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"
#include "firmware/json/json_writer.h"
#include "net/websocket/utf8_validator.h"

namespace sublink {
namespace {

std::string describe(const JsonError& e) {
  std::array<char, 160> buf{};
  size_t n = e.describe(buf);
  return std::string(buf.data(), n);
}

TEST(JsonDocument, RefusesTextThatIsNotExactlyOneJsonValue) {
  for (std::string_view bad : {"", "   ", "{", R"({"a":1)", R"({"a":1}x)", R"({"a":1}{})", "{'a':1}", R"({"a":01x})",
                               "nul", R"({"a":"unterminated})", "\x80"}) {
    auto doc = JsonDocument::parse(bad);
    EXPECT_FALSE(doc.ok()) << bad;
    EXPECT_EQ(doc.status().reason(), Reason::invalid_payload) << bad;
    EXPECT_EQ(doc.error().problem, JsonProblem::not_json) << bad;
  }
  EXPECT_TRUE(JsonDocument::parse(" \r\n{\"a\":1}\t\n").ok());
}

TEST(JsonDocument, ParsesWithoutATerminatingNul) {
  std::string text = R"({"a":12345}99999)";
  auto doc = JsonDocument::parse(std::string_view(text).substr(0, 11));
  ASSERT_TRUE(doc.ok());
  JsonReader r(doc->root());
  EXPECT_EQ(r.integer("a"), 12345);
}

TEST(JsonDocument, RefusesDeepNestingBeforeRecursing) {
  std::string ok_depth = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(JsonDocument::parse(ok_depth).ok());
  std::string too_deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  auto doc = JsonDocument::parse(too_deep);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().reason(), Reason::message_too_big);
  EXPECT_EQ(doc.error().problem, JsonProblem::too_deep);
  // A hostile megabyte of brackets is refused without touching the stack.
  std::string hostile(1 << 20, '{');
  EXPECT_EQ(JsonDocument::parse(hostile).status().reason(), Reason::message_too_big);
  // Brackets inside strings are not nesting.
  std::string in_string = R"({"a":")" + std::string(100, '[') + R"(\"]"})";
  EXPECT_TRUE(JsonDocument::parse(in_string).ok());
}

TEST(JsonDocument, RefusesEscapedNulBecauseDeviceStringsEndAtNul) {
  auto doc = JsonDocument::parse(R"({"a":"x\u0000y"})");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().reason(), Reason::protocol_violation);
  EXPECT_TRUE(JsonDocument::parse(R"({"a":"x\\u0000y"})").ok()) << "an escaped backslash, not an escape";
}

TEST(JsonDocument, RefusesEveryRawControlCharacterInsideAString) {
  // RFC 8259 section 7: U+0000..U+001F must be escaped. cJSON alone takes
  // them, and a raw NUL cuts the value short ("SYS-1\0..." read as "SYS-1").
  for (int b = 0; b < 0x20; ++b) {
    std::string text = R"({"system_id":"SYS-1)";
    text.push_back(static_cast<char>(b));
    text += R"(X"})";
    auto doc = JsonDocument::parse(text);
    ASSERT_FALSE(doc.ok()) << "byte " << b;
    EXPECT_EQ(doc.status().reason(), Reason::invalid_payload) << "byte " << b;
    EXPECT_EQ(doc.error().problem, JsonProblem::control_char) << "byte " << b;
    EXPECT_EQ(doc.status().detail(), 19) << "the offset of the byte";
    EXPECT_EQ(doc.error().byte, b);
  }
  auto doc = JsonDocument::parse(std::string_view("{\"a\":\"x\0y\"}", 11));
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(describe(doc.error()), "raw control character 0x00 at byte 7 (JSON needs it escaped)");
  // A backslash does not make a raw control byte legal either.
  EXPECT_EQ(JsonDocument::parse("{\"a\":\"x\\\ny\"}").error().problem, JsonProblem::control_char);
  // Escaped, they are fine (except \u0000, refused on its own).
  auto escaped = JsonDocument::parse(R"({"a":"tab\there\nline\u001f"})");
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(JsonReader(escaped->root()).string("a"), "tab\there\nline\x1f");
}

TEST(JsonDocument, RefusesANulOrControlByteBetweenTokens) {
  // cJSON skips every byte up to 0x20 as whitespace; JSON allows only
  // space, tab, LF and CR there.
  const std::string_view nul_inside("{\"a\":1,\0\"b\":2}", 14);
  auto doc = JsonDocument::parse(nul_inside);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().problem, JsonProblem::control_char);
  EXPECT_EQ(doc.status().detail(), 7);
  const std::string_view nul_after("{\"a\":1}\0", 8);
  EXPECT_EQ(JsonDocument::parse(nul_after).error().problem, JsonProblem::control_char);
  EXPECT_EQ(JsonDocument::parse("\x01{\"a\":1}").error().problem, JsonProblem::control_char);
  EXPECT_EQ(JsonDocument::parse("{\"a\":\x0b" "1}").error().problem, JsonProblem::control_char);
  EXPECT_TRUE(JsonDocument::parse("{\"a\" :\t1,\r\n\"b\":2}").ok());
}

TEST(JsonReader, ReadsTypedFieldsAndIgnoresUnknownOnes) {
  auto doc = JsonDocument::parse(
      R"({"i":-42,"big":9007199254740991,"s":"t\"x\\\u00e9","b":true,"n":null,"arr":[1],"obj":{},"extra":{"x":[1,2]}})");
  ASSERT_TRUE(doc.ok());
  JsonReader r(doc->root());
  EXPECT_EQ(r.integer("i"), -42);
  EXPECT_EQ(r.integer("big"), (int64_t{1} << 53) - 1);
  EXPECT_EQ(r.string("s"), "t\"x\\\xC3\xA9");
  EXPECT_TRUE(r.boolean("b"));
  EXPECT_EQ(r.optional_integer("n"), std::nullopt);
  EXPECT_EQ(r.optional_string("absent"), std::nullopt);
  EXPECT_EQ(r.integer_or("absent", 60), 60);
  EXPECT_NE(r.array("arr"), nullptr);
  EXPECT_NE(r.object("obj"), nullptr);
  EXPECT_TRUE(r.ok());
}

TEST(JsonReader, KeepsTheFirstErrorNamingFieldAndTypes) {
  auto doc = JsonDocument::parse(R"({"time":"now","seq":1.5})");
  ASSERT_TRUE(doc.ok());
  JsonReader r(doc->root());
  r.integer("time");
  r.integer("seq");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status.reason(), Reason::protocol_violation);
  EXPECT_STREQ(r.error().field, "time");
  EXPECT_EQ(r.error().expected, JsonType::integer);
  EXPECT_EQ(r.error().found, JsonType::string);
  EXPECT_EQ(describe(r.error()), "field 'time': expected integer, found string");
}

TEST(JsonReader, RefusesInexactAndOutOfRangeIntegers) {
  auto doc = JsonDocument::parse(
      R"({"frac":1.5,"huge":1e400,"over":9007199254740992,"neg":-1,"exp":1e3,"minus_huge":-1e300})");
  ASSERT_TRUE(doc.ok());
  auto problem = [&](const char* name, int64_t min = -kMaxJsonInteger) {
    JsonReader r(doc->root());
    r.integer(name, min);
    return r.error().problem;
  };
  EXPECT_EQ(problem("frac"), JsonProblem::wrong_type);
  EXPECT_EQ(problem("huge"), JsonProblem::out_of_range);
  EXPECT_EQ(problem("over"), JsonProblem::out_of_range);
  EXPECT_EQ(problem("minus_huge"), JsonProblem::out_of_range);
  EXPECT_EQ(problem("neg", 0), JsonProblem::out_of_range);
  EXPECT_EQ(problem("exp"), JsonProblem::none) << "1e3 is the integer 1000";
}

TEST(JsonReader, NamesNestedFieldsAndMissingOnes) {
  auto doc = JsonDocument::parse(R"({"features":[{"name":"a","qty":1},{"name":"b"}]})");
  ASSERT_TRUE(doc.ok());
  const cJSON* second = cJSON_GetArrayItem(cJSON_GetObjectItem(doc->root(), "features"), 1);
  JsonReader r(second, "features", 1);
  r.integer("qty");
  EXPECT_EQ(r.error().problem, JsonProblem::missing);
  EXPECT_EQ(describe(r.error()), "field 'features[1].qty': missing, expected integer");

  auto arr = JsonDocument::parse("[1]");
  ASSERT_TRUE(arr.ok());
  JsonReader not_object(arr->root());
  EXPECT_FALSE(not_object.ok());
  EXPECT_EQ(describe(not_object.error()), "message: expected object, found array");
}

TEST(JsonReader, BoundsStringLength) {
  auto doc = JsonDocument::parse(R"({"s":"12345"})");
  ASSERT_TRUE(doc.ok());
  JsonReader fits(doc->root());
  EXPECT_EQ(fits.string("s", 5), "12345");
  JsonReader too_long(doc->root());
  too_long.string("s", 4);
  EXPECT_EQ(too_long.error().problem, JsonProblem::too_long);
}

TEST(JsonWriter, EscapesEverythingJsonRequires) {
  std::array<char, 256> buf{};
  JsonWriter w(buf);
  std::string nasty = std::string("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f") + "\xC3\xA9\xF0\x9F\x98\x80";
  w.begin_object().key("k\"").string(nasty).end_object();
  auto n = w.finish();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf.data(), *n),
            std::string(R"({"k\"":"q\"b\\s/\b\f\n\r\t\u0001\u001f\u007f)") + "\xC3\xA9\xF0\x9F\x98\x80\"}");
  // cJSON reads back exactly what was written.
  auto doc = JsonDocument::parse(std::string_view(buf.data(), *n));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(std::string(cJSON_GetObjectItem(doc->root(), "k\"")->valuestring), nasty);
}

TEST(JsonWriter, RefusesInvalidUtf8) {
  for (std::string_view bad : {"\x80", "\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                               "\xF8\x88\x80\x80\x80", "ok\xFF"}) {
    std::array<char, 64> buf{};
    JsonWriter w(buf);
    w.string(bad);
    EXPECT_EQ(w.finish().status().reason(), Reason::invalid_argument) << testing::PrintToString(bad);
    EXPECT_FALSE(is_valid_utf8(bad));
  }
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));
  EXPECT_TRUE(is_valid_utf8(""));
}

TEST(JsonWriter, ReportsTheSizeNeededLikeSnprintf) {
  std::array<char, 8> small{};
  JsonWriter w(small);
  w.begin_array().integer(INT64_MIN).integer(INT64_MAX).end_array();
  auto n = w.finish();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().reason(), Reason::out_of_memory);
  std::string expected = "[-9223372036854775808,9223372036854775807]";
  EXPECT_EQ(n.status().detail(), static_cast<int32_t>(expected.size() + 1));

  std::vector<char> exact(expected.size() + 1);
  JsonWriter again(exact);
  again.begin_array().integer(INT64_MIN).integer(INT64_MAX).end_array();
  auto m = again.finish();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::string(exact.data()), expected);
  EXPECT_EQ(*m, expected.size());
}

}  // namespace
}  // namespace sublink
