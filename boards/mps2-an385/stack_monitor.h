// Stack high-water mark: the stack is painted with a pattern at boot, and
// the deepest word no longer holding it shows how much was ever used.
#pragma once

#include <cstddef>

namespace sublink::mps2 {

/// Paints the unused part of the stack (below the current stack pointer).
/// Called once by the reset handler, before main().
void paint_stack();
/// Bytes of stack used at the deepest point so far.
size_t stack_peak_bytes();
/// Bytes reserved for the stack.
size_t stack_size_bytes();

}  // namespace sublink::mps2
