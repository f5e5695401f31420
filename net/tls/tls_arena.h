// A fixed arena for every Mbed TLS allocation (MBEDTLS_MEMORY_BUFFER_ALLOC_C):
// on the device, TLS memory is bounded by the arena the board gives it, and
// its high-water mark is what the footprint report states.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sublink {

class TlsArena {
 public:
  /// Routes Mbed TLS allocations into `memory` (which must outlive the
  /// arena) until this object is destroyed. One arena at a time. Every Mbed
  /// TLS object created while it is installed must be freed before it goes:
  /// the destructor hands allocation back to the C library heap.
  explicit TlsArena(std::span<uint8_t> memory);
  ~TlsArena();
  TlsArena(const TlsArena&) = delete;
  TlsArena& operator=(const TlsArena&) = delete;

  /// Bytes handed out and not yet freed (payload, without block headers).
  static size_t current_bytes();
  /// Highest current_bytes() since installation or the last reset_peak().
  static size_t peak_bytes();
  /// Highest number of live blocks: each also costs a block header.
  static size_t peak_blocks();
  /// Starts a new high-water measurement from the current use.
  static void reset_peak();
  /// True while an arena is installed.
  static bool installed();
};

}  // namespace sublink
