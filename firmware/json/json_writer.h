// Writes JSON into a caller-given bounded buffer, snprintf-style: nothing
// is allocated, output that does not fit is counted but not written, and
// finish() reports the size that would have been needed. Strings are
// escaped per RFC 8259 and must be valid UTF-8, since the peer closes the
// link (1007) on anything else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"

namespace sublink {

class JsonWriter {
 public:
  /// Writes into `out`; finish() adds a NUL after the text when it fits.
  explicit JsonWriter(std::span<char> out);

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  /// An object member name; the next call writes its value.
  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view text);
  JsonWriter& integer(int64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  /// A value that is already JSON (the caller vouches for it).
  JsonWriter& raw(std::string_view json);

  /// Marks the text as not to be sent (a value the caller found invalid):
  /// finish() gives invalid_argument, as for a string that is not UTF-8.
  void reject() { invalid_ = true; }

  /// Length of the text (without the NUL), or out_of_memory with detail =
  /// bytes needed including the NUL, or invalid_argument when a string was
  /// not valid UTF-8.
  Result<size_t> finish();

 private:
  void put(std::string_view bytes);
  void put(char c);
  void separate();

  std::span<char> out_;
  size_t size_ = 0;
  bool need_comma_ = false;
  bool invalid_ = false;  // a string not UTF-8, or reject()
};

}  // namespace sublink
