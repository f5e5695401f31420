// Whole small files (PEM, JSON, resolv.conf) read into a string, for the
// host programs and tools. The agent's own configuration goes through
// boards/host/config instead, which also bounds the size and names the key.
#pragma once

#include <string>

namespace sublink {

/// Reads all of `path` into `out`; false (out unchanged) when it cannot be
/// opened or read.
bool read_text_file(const std::string& path, std::string& out);

}  // namespace sublink
