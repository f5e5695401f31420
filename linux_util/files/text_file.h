// Whole small files (configuration, PEM, resolv.conf) read into a string,
// for the host programs and tools. Every program reads them through here,
// so each refuses a wrong path (a log, /dev/zero, a FIFO) the same way
// instead of slurping it: only a regular file of at most kMaxTextFileBytes.
#pragma once

#include <cstddef>
#include <string>

namespace sublink {

/// Largest file read: configurations, certificates and keys are small.
inline constexpr size_t kMaxTextFileBytes = 256 * 1024;

/// Why a file was not read; ok() when it was.
struct TextFileError {
  /// True when the system refused (`why` ends with its words, strerror);
  /// false when the file is not one to read (not regular, too large).
  bool io = false;
  /// What follows the file's name in a message: ": cannot read: No such
  /// file or directory", " is not a regular file", " is larger than 262144
  /// bytes". Empty when the file was read.
  std::string why;
  bool ok() const { return why.empty(); }
};

/// Reads all of `path` (a regular file of at most kMaxTextFileBytes) into
/// `out`. A file that shrinks while read yields what is there. On an error
/// `out` holds nothing useful.
[[nodiscard]] TextFileError read_text_file(const std::string& path, std::string& out);

}  // namespace sublink
