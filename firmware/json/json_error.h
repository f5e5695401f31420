// What went wrong with a received JSON text, precise enough for a log line:
// which field, what was expected, what was found. The Status tells the
// caller how to react (PROTOCOL.md section 3): invalid_payload (not JSON:
// close 1007), protocol_violation (valid JSON that breaks the contract:
// close 1002), out_of_memory / message_too_big (does not fit the device's
// fixed limits: close 1009).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "hal/status.h"

namespace sublink {

/// JSON value kinds as the typed readers name them in errors.
enum class JsonType : uint8_t { missing, null, boolean, integer, number, string, array, object };

/// Lower-case name of a JSON type ("integer", "string", ...).
const char* json_type_name(JsonType t);

enum class JsonProblem : uint8_t {
  none,
  not_json,       // the text is not one JSON value (detail: byte offset)
  too_deep,       // nesting deeper than the device accepts
  nul_in_string,  // a \u0000 escape: device strings are NUL-terminated
  control_char,   // a raw U+0000..U+001F inside a string, or a control byte
                  // (NUL included) between tokens (detail: byte offset)
  no_memory,      // the JSON arena is full
  missing,        // a required field is absent
  wrong_type,     // a field has another JSON type
  out_of_range,   // a number outside the accepted range, or not exact
  too_long,       // a string or array longer than its fixed storage
  bad_value,      // a value outside its allowed set
};

struct JsonError {
  Status status;
  JsonProblem problem = JsonProblem::none;
  /// Field at fault (a string literal from the reader's caller), or nullptr.
  const char* field = nullptr;
  /// Enclosing field when the fault is inside an array element or object.
  const char* parent = nullptr;
  int32_t index = -1;  // element of `parent`, -1 when not in an array
  int32_t byte = -1;   // control_char: the raw byte at fault (0..31)
  JsonType expected = JsonType::missing;
  JsonType found = JsonType::missing;

  /// One line for logs, e.g. "field 'features[2].qty': expected integer,
  /// found string". Always NUL-terminated when out is not empty; returns
  /// the length written.
  size_t describe(std::span<char> out) const;
};

/// A value, or the JsonError that explains why there is none.
template <class T>
class JsonResult {
 public:
  JsonResult(T value) : value_(std::move(value)) {}      // NOLINT
  JsonResult(JsonError error) : error_(error) {}        // NOLINT

  bool ok() const { return value_.has_value(); }
  const JsonError& error() const { return error_; }
  const Status& status() const { return error_.status; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  JsonError error_;
};

}  // namespace sublink
