// JSON text of any size for host code, written with the device's bounded
// JsonWriter so server and device escape strings the same way.
#pragma once

#include <span>
#include <string>

#include "firmware/json/json_writer.h"
#include "firmware/protocol/wire_fields.h"
#include "hal/status.h"

namespace sublink {

/// Runs `build(std::span<char>)`, which writes one JSON text into the span
/// and returns its length (or out_of_memory with detail = bytes needed
/// including the NUL, as JsonWriter::finish), and returns the text. The
/// buffer grows until the text fits, so `build` may run more than once and
/// must not have side effects.
template <class Build>
Result<std::string> text_of(Build&& build) {
  std::string text(512, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<size_t> size = build(std::span<char>(text.data(), text.size()));
    if (size.ok()) {
      text.resize(*size);
      return text;
    }
    if (size.status().reason() != Reason::out_of_memory) return size.status();
    // detail is the size needed including the NUL, exact on the second run.
    text.assign(static_cast<size_t>(size.status().detail()), '\0');
  }
  return Status(Reason::out_of_memory);
}

/// Runs `write(JsonWriter&)`, which must write exactly one JSON value, and
/// returns the text (see text_of). invalid_argument when a string was not
/// valid UTF-8.
template <class Write>
Result<std::string> write_json_text(Write&& write) {
  return text_of([&](std::span<char> out) {
    JsonWriter w(out);
    write(w);
    return w.finish();
  });
}

/// A sublink/1 message as text: the codec's own writer (write_message of
/// firmware/protocol) with a buffer that fits. invalid_argument when a
/// string was not valid UTF-8 (the device would close with 1007).
template <class Message>
Result<std::string> message_text(const Envelope& envelope, const Message& message) {
  return text_of([&](std::span<char> out) { return write_message(out, envelope, message); });
}

}  // namespace sublink
