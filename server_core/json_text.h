// JSON text of any size for host code, written with the device's bounded
// JsonWriter so server and device escape strings the same way.
#pragma once

#include <string>

#include "firmware/json/json_writer.h"
#include "hal/status.h"

namespace sublink {

/// Runs `write(JsonWriter&)`, which must write exactly one JSON value, and
/// returns the text. The buffer grows until the text fits, so `write` may
/// run more than once and must not have side effects. invalid_argument when
/// a string was not valid UTF-8.
template <class Write>
Result<std::string> write_json_text(Write&& write) {
  std::string text(512, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    JsonWriter w({text.data(), text.size()});
    write(w);
    Result<size_t> size = w.finish();
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

}  // namespace sublink
