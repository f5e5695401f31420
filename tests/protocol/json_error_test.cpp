// The one-line explanation of a refused JSON message, as the agent logs it
// and reports it in sublinkctl status: every problem, every place a field
// can be, and a log buffer too short for the line.
#include "firmware/json/json_error.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace sublink {
namespace {

std::string describe(const JsonError& e) {
  std::array<char, 160> buf{};
  return std::string(buf.data(), e.describe(buf));
}

JsonError at(const char* field, const char* parent, int32_t index, JsonProblem problem) {
  JsonError e;
  e.problem = problem;
  e.field = field;
  e.parent = parent;
  e.index = index;
  return e;
}

TEST(JsonErrorText, EachPlaceAFieldCanBeIsNamedAsInTheMessage) {
  JsonError e = at("qty", "features", 2, JsonProblem::wrong_type);
  e.expected = JsonType::integer;
  e.found = JsonType::string;
  EXPECT_EQ(describe(e), "field 'features[2].qty': expected integer, found string");
  e = at("key", "license", -1, JsonProblem::missing);
  e.expected = JsonType::string;
  EXPECT_EQ(describe(e), "field 'license.key': missing, expected string");
  EXPECT_EQ(describe(at(nullptr, "features", 3, JsonProblem::bad_value)), "field 'features[3]': value not allowed");
  EXPECT_EQ(describe(at("heartbeat_s", nullptr, -1, JsonProblem::out_of_range)),
            "field 'heartbeat_s': number out of range");
  EXPECT_EQ(describe(at(nullptr, nullptr, -1, JsonProblem::too_long)), "message: too long");
}

TEST(JsonErrorText, EachProblemHasItsWords) {
  JsonError e;
  EXPECT_EQ(describe(e), "ok");
  e.problem = JsonProblem::not_json;
  e.status = Status(Reason::invalid_payload, 17);
  EXPECT_EQ(describe(e), "not valid JSON near byte 17");
  e.problem = JsonProblem::too_deep;
  e.status = Status(Reason::message_too_big, 16);
  EXPECT_EQ(describe(e), "JSON nested deeper than 16 levels");
  e.problem = JsonProblem::nul_in_string;
  EXPECT_EQ(describe(e), "string holds \\u0000");
  e.problem = JsonProblem::control_char;
  e.byte = 0x1f;
  e.status = Status(Reason::invalid_payload, 9);
  EXPECT_EQ(describe(e), "raw control character 0x1f at byte 9 (JSON needs it escaped)");
  e.problem = JsonProblem::no_memory;
  e.status = Status(Reason::out_of_memory, 8192);
  EXPECT_EQ(describe(e), "JSON does not fit the 8192-byte arena");
}

TEST(JsonErrorText, EveryTypeHasAName) {
  const std::pair<JsonType, const char*> names[] = {
      {JsonType::missing, "nothing"}, {JsonType::null, "null"},     {JsonType::boolean, "boolean"},
      {JsonType::integer, "integer"}, {JsonType::number, "number"}, {JsonType::string, "string"},
      {JsonType::array, "array"},     {JsonType::object, "object"},
  };
  for (const auto& [type, name] : names) EXPECT_STREQ(json_type_name(type), name);
  EXPECT_STREQ(json_type_name(static_cast<JsonType>(200)), "unknown");
}

// A log buffer shorter than the line gets its start, NUL-terminated, and
// the length of what it holds; an empty one gets nothing.
TEST(JsonErrorText, AShortBufferHoldsTheStartOfTheLineTerminated) {
  JsonError e = at("qty", "features", 2, JsonProblem::out_of_range);
  std::array<char, 10> small{};
  small.fill('#');
  EXPECT_EQ(e.describe(small), 9u);
  EXPECT_STREQ(small.data(), "field 'fe");
  EXPECT_EQ(e.describe(std::span<char>()), 0u);
}

}  // namespace
}  // namespace sublink
