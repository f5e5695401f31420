// A fixed arena for cJSON, so parsing messages never touches the general
// heap on the device.
//
// Design: a bump allocator that rewinds when its last live block is freed.
// cJSON allocates many small nodes per message and frees them all together
// (cJSON_Delete, or the parser's own clean-up on failure), and the agent
// holds at most a couple of documents at once (a message and, while a grant
// is checked, the license inside it). A bump pointer makes allocation O(1)
// with no per-block header and no fragmentation, and counting live blocks
// gives "free" without a free list: when the count returns to zero the whole
// arena is reusable. The cost is that memory freed while other blocks live is
// only reclaimed at that point, which is bounded by the documents alive at
// the same time: exactly what the high-water mark measures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sublink {

class JsonArena {
 public:
  /// Uses `storage` (not owned, must outlive the arena) for every cJSON
  /// allocation once install() is called.
  explicit JsonArena(std::span<uint8_t> storage);
  /// Uninstalls the arena if it is the active one.
  ~JsonArena();
  JsonArena(const JsonArena&) = delete;
  JsonArena& operator=(const JsonArena&) = delete;

  /// Routes cJSON's allocations to this arena (cJSON_InitHooks is global,
  /// so one arena serves the whole program; single-threaded use only).
  void install();
  /// Routes cJSON back to malloc/free (host tools and tests).
  static void uninstall();
  /// The installed arena, or nullptr when cJSON uses malloc.
  static JsonArena* active();

  /// Aligned block of `size` bytes, or nullptr when the arena is full.
  void* allocate(size_t size);
  /// Returns a block; the arena rewinds once no block is live.
  void release(void* block);

  size_t capacity() const { return capacity_; }
  size_t used() const { return offset_; }
  size_t live_blocks() const { return live_; }
  /// Largest `used()` seen: what a board must reserve for its messages.
  size_t high_water() const { return high_water_; }
  /// Allocations refused because the arena was full, since construction.
  uint32_t failed_allocations() const { return failed_; }

 private:
  uint8_t* base_;
  size_t capacity_;
  size_t offset_ = 0;
  size_t live_ = 0;
  size_t high_water_ = 0;
  uint32_t failed_ = 0;
};

}  // namespace sublink
