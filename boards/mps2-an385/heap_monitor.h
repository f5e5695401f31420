// How much of the board's bounded heap (the linker's .heap region) is in
// use: the agent and its event queue allocate once at start-up, so this is
// also the heap's high-water mark (newlib never gives memory back to _sbrk
// in this image's usage).
#pragma once

#include <cstddef>

namespace sublink::mps2 {

/// Bytes handed to the C library's allocator so far.
size_t heap_used_bytes();
/// Bytes the linker script reserves for the heap.
size_t heap_size_bytes();

}  // namespace sublink::mps2
