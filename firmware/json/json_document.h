// One parsed JSON text. The cJSON tree lives in the JsonArena (when one is
// installed) and is released when the document goes away; string views and
// node pointers taken from it are valid as long as the document lives.
#pragma once

#include <cstddef>
#include <string_view>

#include "firmware/json/json_error.h"

struct cJSON;

namespace sublink {

/// Deepest nesting accepted. cJSON recurses once per level; its own limit
/// (1000) would overrun a device stack long before. No sublink/1 message
/// needs more than a handful of levels.
inline constexpr int kMaxJsonDepth = 16;

class JsonDocument {
 public:
  /// Parses exactly one JSON value (surrounding whitespace allowed) from
  /// `text`, which needs no terminating NUL. The one checked entry point
  /// for every JSON text the project reads (wire messages on both sides,
  /// licenses, configuration, control and admin requests). Fails with
  /// invalid_payload (not JSON, detail: byte offset; JsonProblem::control_char
  /// for a raw U+0000..U+001F inside a string or a control byte such as NUL
  /// between tokens, which cJSON alone would take and cut the value at),
  /// message_too_big (nesting over kMaxJsonDepth), protocol_violation (a
  /// \u0000 escape) or out_of_memory (the arena is full, detail: arena
  /// capacity).
  static JsonResult<JsonDocument> parse(std::string_view text);

  JsonDocument(JsonDocument&& other) noexcept;
  JsonDocument& operator=(JsonDocument&& other) noexcept;
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;
  ~JsonDocument();

  /// The top-level value; never null for a parsed document.
  const cJSON* root() const { return root_; }
  /// The same, for an owner that edits the tree in place (detaching the
  /// members it consumed); the document still frees whatever is left.
  cJSON* mutable_root() { return root_; }

 private:
  explicit JsonDocument(cJSON* root) : root_(root) {}
  cJSON* root_ = nullptr;
};

}  // namespace sublink
