#include "firmware/json/json_document.h"

#include <cJSON.h>

#include "firmware/json/json_arena.h"

namespace sublink {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

struct Prescan {
  JsonProblem problem = JsonProblem::none;
  size_t offset = 0;  // of the byte at fault
};

// A linear pre-scan so hostile nesting never reaches cJSON's recursion, and
// so what cJSON would take silently is refused: strings that would be cut
// at an embedded NUL (raw or \u0000), raw control characters inside strings
// (RFC 8259 section 7 requires them escaped) and control bytes between
// tokens (cJSON skips every byte up to 0x20 as whitespace; JSON allows
// only space, tab, LF and CR).
Prescan prescan(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool control = static_cast<unsigned char>(c) < 0x20;
    if (in_string) {
      if (control) return {JsonProblem::control_char, i};
      if (c == '\\') {
        if (i + 5 < text.size() && text[i + 1] == 'u' && text.substr(i + 2, 4) == "0000") {
          return {JsonProblem::nul_in_string, i};
        }
        if (i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0x20) {
          return {JsonProblem::control_char, i + 1};  // a backslash does not make it legal
        }
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
    } else if (control && !is_space(c)) {
      return {JsonProblem::control_char, i};
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return {JsonProblem::too_deep, i};
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return {};
}

}  // namespace

JsonResult<JsonDocument> JsonDocument::parse(std::string_view text) {
  JsonError error;
  const Prescan scan = prescan(text);
  error.problem = scan.problem;
  if (error.problem == JsonProblem::control_char) {
    // Not JSON (RFC 8259): like any other syntax error, closes with 1007.
    error.byte = static_cast<unsigned char>(text[scan.offset]);
    error.status = Status(Reason::invalid_payload, static_cast<int32_t>(scan.offset));
    return error;
  }
  if (error.problem == JsonProblem::too_deep) {
    error.status = Status(Reason::message_too_big, kMaxJsonDepth);
    return error;
  }
  if (error.problem == JsonProblem::nul_in_string) {
    error.status = Status(Reason::protocol_violation);
    return error;
  }

  JsonArena* arena = JsonArena::active();
  uint32_t failed_before = arena ? arena->failed_allocations() : 0;
  const char* end = nullptr;
  cJSON* root = cJSON_ParseWithLengthOpts(text.data(), text.size(), &end, false);
  if (root == nullptr) {
    if (arena && arena->failed_allocations() != failed_before) {
      error.problem = JsonProblem::no_memory;
      error.status = Status(Reason::out_of_memory, static_cast<int32_t>(arena->capacity()));
      return error;
    }
    const char* at = cJSON_GetErrorPtr();
    size_t offset = (at != nullptr && at >= text.data() && at <= text.data() + text.size())
                        ? static_cast<size_t>(at - text.data())
                        : 0;
    error.problem = JsonProblem::not_json;
    error.status = Status(Reason::invalid_payload, static_cast<int32_t>(offset));
    return error;
  }
  // cJSON stops after the first value; anything but whitespace after it
  // means the text is not one JSON value.
  size_t pos = static_cast<size_t>(end - text.data());
  while (pos < text.size() && is_space(text[pos])) ++pos;
  if (pos != text.size()) {
    cJSON_Delete(root);
    error.problem = JsonProblem::not_json;
    error.status = Status(Reason::invalid_payload, static_cast<int32_t>(pos));
    return error;
  }
  return JsonDocument(root);
}

JsonDocument::JsonDocument(JsonDocument&& other) noexcept : root_(other.root_) { other.root_ = nullptr; }

JsonDocument& JsonDocument::operator=(JsonDocument&& other) noexcept {
  if (this != &other) {
    cJSON_Delete(root_);
    root_ = other.root_;
    other.root_ = nullptr;
  }
  return *this;
}

JsonDocument::~JsonDocument() { cJSON_Delete(root_); }

}  // namespace sublink
