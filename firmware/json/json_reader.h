// Typed access to the fields of a received JSON object. The reader keeps
// the first error (which field, expected what, found what) and returns
// neutral values after it, so a parser reads every field in a row and checks
// ok() once, instead of testing each call.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "firmware/json/json_error.h"

struct cJSON;

namespace sublink {

/// JSON numbers are doubles: integers beyond 2^53 are not exact, so they
/// are refused rather than silently rounded. 2^53 itself is excluded: it is
/// also what 2^53+1 rounds to.
inline constexpr int64_t kMaxJsonInteger = (int64_t{1} << 53) - 1;

/// The JsonType of a cJSON node (nullptr: missing). Integral numbers within
/// +-(2^53-1) are `integer`, other numbers `number`.
JsonType json_type_of(const cJSON* item);

/// The first element of a JSON array (nullptr when empty or not an array),
/// and the element after `element` (nullptr after the last): walking an
/// array without cJSON's header.
const cJSON* json_first_element(const cJSON* array);
const cJSON* json_next_element(const cJSON* element);

class JsonReader {
 public:
  /// Reads fields of `object`. `parent`/`index` name where the object sits
  /// (e.g. "features", 2) so errors say "features[2].qty". A non-object
  /// records a wrong_type error at once.
  explicit JsonReader(const cJSON* object, const char* parent = nullptr, int32_t index = -1);

  /// Required integer within [min, max].
  int64_t integer(const char* name, int64_t min = -kMaxJsonInteger, int64_t max = kMaxJsonInteger);
  /// Integer within [min, max]; `fallback` when absent or null.
  int64_t integer_or(const char* name, int64_t fallback, int64_t min = -kMaxJsonInteger,
                     int64_t max = kMaxJsonInteger);
  /// Integer within [min, max]; nullopt when absent or null.
  std::optional<int64_t> optional_integer(const char* name, int64_t min = -kMaxJsonInteger,
                                          int64_t max = kMaxJsonInteger);
  /// Required string of at most `max_length` bytes. The view lives as long
  /// as the document.
  std::string_view string(const char* name, size_t max_length = SIZE_MAX);
  /// String; nullopt when absent or null.
  std::optional<std::string_view> optional_string(const char* name, size_t max_length = SIZE_MAX);
  /// Required boolean.
  bool boolean(const char* name);
  /// Required array (nullptr after an error).
  const cJSON* array(const char* name);
  /// Required object (nullptr after an error).
  const cJSON* object(const char* name);
  /// Any value, nullptr when absent (never an error).
  const cJSON* optional_any(const char* name) const;

  /// Records a bad_value error for `name` (a value outside its allowed set),
  /// unless an earlier error is already kept.
  void reject(const char* name, JsonProblem problem = JsonProblem::bad_value);

  /// The object read (as given to the constructor).
  const cJSON* node() const { return object_; }
  bool ok() const { return error_.problem == JsonProblem::none; }
  /// The first error; its status is protocol_violation.
  const JsonError& error() const { return error_; }

 private:
  const cJSON* field(const char* name) const;
  void fail(const char* name, JsonProblem problem, JsonType expected, JsonType found);
  std::optional<int64_t> read_integer(const char* name, bool required, int64_t min, int64_t max);

  const cJSON* object_;
  const char* parent_;
  int32_t index_;
  JsonError error_;
};

}  // namespace sublink
