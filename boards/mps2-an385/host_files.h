// Reading the files the configuration names from the debugger host
// (semihosting), as a lab board reads what its installer put on it.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "hal/status.h"

namespace sublink::mps2 {

/// A whole host file in a heap block (set-up time only), NUL-terminated.
struct HostFile {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  std::string_view view() const { return {data.get(), size}; }
  /// Overwrites the contents (private keys) before the block is freed.
  void wipe();
  ~HostFile() { wipe(); }
};

/// Reads `path` (at most `max_bytes`) into `out`. io_error when it cannot
/// be opened or read, invalid_argument when it is larger.
Status read_host_file(std::string_view path, size_t max_bytes, HostFile& out);

}  // namespace sublink::mps2
