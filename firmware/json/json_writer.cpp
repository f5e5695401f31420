#include "firmware/json/json_writer.h"

#include "hal/decimal.h"
#include "net/websocket/utf8_validator.h"


namespace sublink {

JsonWriter::JsonWriter(std::span<char> out) : out_(out) {}

void JsonWriter::put(char c) {
  // Keep one byte for the NUL that finish() adds.
  if (size_ + 1 < out_.size()) out_[size_] = c;
  ++size_;
}

void JsonWriter::put(std::string_view bytes) {
  for (char c : bytes) put(c);
}

void JsonWriter::separate() {
  if (need_comma_) put(',');
  need_comma_ = true;
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  put('{');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  put('}');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  put('[');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  put(']');
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  string(name);
  put(':');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view text) {
  separate();
  if (!is_valid_utf8(text)) invalid_ = true;
  static constexpr char kHex[] = "0123456789abcdef";
  put('"');
  for (char ch : text) {
    auto c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"': put("\\\""); break;
      case '\\': put("\\\\"); break;
      case '\b': put("\\b"); break;
      case '\f': put("\\f"); break;
      case '\n': put("\\n"); break;
      case '\r': put("\\r"); break;
      case '\t': put("\\t"); break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          put(std::string_view(esc, sizeof esc));
        } else {
          put(ch);
        }
    }
  }
  put('"');
  return *this;
}

JsonWriter& JsonWriter::integer(int64_t value) {
  separate();
  // Not printf: newlib's printf for 64-bit integers is large and not always
  // built in.
  const DecimalText text = decimal_signed(value);  // named: the loop outlives a temporary
  for (char c : text.view()) put(c);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  separate();
  put(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  put("null");
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  separate();
  put(json);
  return *this;
}

Result<size_t> JsonWriter::finish() {
  if (invalid_) return Status(Reason::invalid_argument);
  if (size_ + 1 > out_.size()) return Status(Reason::out_of_memory, static_cast<int32_t>(size_ + 1));
  out_[size_] = '\0';
  return size_;
}

}  // namespace sublink
