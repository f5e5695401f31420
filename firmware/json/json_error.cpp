#include "firmware/json/json_error.h"

#include <cstdio>

namespace sublink {

const char* json_type_name(JsonType t) {
  switch (t) {
    case JsonType::missing: return "nothing";
    case JsonType::null: return "null";
    case JsonType::boolean: return "boolean";
    case JsonType::integer: return "integer";
    case JsonType::number: return "number";
    case JsonType::string: return "string";
    case JsonType::array: return "array";
    case JsonType::object: return "object";
  }
  return "unknown";
}

size_t JsonError::describe(std::span<char> out) const {
  if (out.empty()) return 0;
  char where[96] = "";
  if (field != nullptr && parent != nullptr && index >= 0) {
    std::snprintf(where, sizeof where, "field '%s[%ld].%s'", parent, static_cast<long>(index), field);
  } else if (field != nullptr && parent != nullptr) {
    std::snprintf(where, sizeof where, "field '%s.%s'", parent, field);
  } else if (parent != nullptr && index >= 0) {
    std::snprintf(where, sizeof where, "field '%s[%ld]'", parent, static_cast<long>(index));
  } else if (field != nullptr) {
    std::snprintf(where, sizeof where, "field '%s'", field);
  } else {
    std::snprintf(where, sizeof where, "message");
  }
  int n = 0;
  switch (problem) {
    case JsonProblem::none: n = std::snprintf(out.data(), out.size(), "ok"); break;
    case JsonProblem::not_json:
      n = std::snprintf(out.data(), out.size(), "not valid JSON near byte %ld", static_cast<long>(status.detail()));
      break;
    case JsonProblem::too_deep:
      n = std::snprintf(out.data(), out.size(), "JSON nested deeper than %ld levels", static_cast<long>(status.detail()));
      break;
    case JsonProblem::nul_in_string: n = std::snprintf(out.data(), out.size(), "string holds \\u0000"); break;
    case JsonProblem::control_char:
      n = std::snprintf(out.data(), out.size(), "raw control character 0x%02x at byte %ld (JSON needs it escaped)",
                        static_cast<unsigned>(byte & 0xff), static_cast<long>(status.detail()));
      break;
    case JsonProblem::no_memory:
      n = std::snprintf(out.data(), out.size(), "JSON does not fit the %ld-byte arena", static_cast<long>(status.detail()));
      break;
    case JsonProblem::missing:
      n = std::snprintf(out.data(), out.size(), "%s: missing, expected %s", where, json_type_name(expected));
      break;
    case JsonProblem::wrong_type:
      n = std::snprintf(out.data(), out.size(), "%s: expected %s, found %s", where, json_type_name(expected),
                        json_type_name(found));
      break;
    case JsonProblem::out_of_range: n = std::snprintf(out.data(), out.size(), "%s: number out of range", where); break;
    case JsonProblem::too_long: n = std::snprintf(out.data(), out.size(), "%s: too long", where); break;
    case JsonProblem::bad_value: n = std::snprintf(out.data(), out.size(), "%s: value not allowed", where); break;
  }
  if (n < 0) n = 0;
  return static_cast<size_t>(n) < out.size() ? static_cast<size_t>(n) : out.size() - 1;
}

}  // namespace sublink
