#include "firmware/json/json_arena.h"

#include <cJSON.h>

namespace sublink {

namespace {
// Blocks hold cJSON nodes (pointers, a double) and strings.
constexpr size_t kAlign = 8;

JsonArena* g_active = nullptr;

void* arena_malloc(size_t size) { return g_active ? g_active->allocate(size) : nullptr; }
void arena_free(void* block) {
  if (g_active) g_active->release(block);
}
}  // namespace

JsonArena::JsonArena(std::span<uint8_t> storage) {
  auto start = reinterpret_cast<uintptr_t>(storage.data());
  size_t skip = (kAlign - start % kAlign) % kAlign;
  base_ = storage.data() + (skip < storage.size() ? skip : storage.size());
  capacity_ = storage.size() > skip ? storage.size() - skip : 0;
}

JsonArena::~JsonArena() {
  if (g_active == this) uninstall();
}

void JsonArena::install() {
  g_active = this;
  cJSON_Hooks hooks{arena_malloc, arena_free};
  cJSON_InitHooks(&hooks);
}

void JsonArena::uninstall() {
  g_active = nullptr;
  cJSON_InitHooks(nullptr);
}

JsonArena* JsonArena::active() { return g_active; }

void* JsonArena::allocate(size_t size) {
  size_t rounded = (size + kAlign - 1) & ~(kAlign - 1);
  if (size == 0 || rounded < size || rounded > capacity_ - offset_) {
    ++failed_;
    return nullptr;
  }
  void* block = base_ + offset_;
  offset_ += rounded;
  ++live_;
  if (offset_ > high_water_) high_water_ = offset_;
  return block;
}

void JsonArena::release(void* block) {
  auto* p = static_cast<uint8_t*>(block);
  // Blocks from another allocator (hooks swapped while a tree was alive)
  // are not ours to count.
  if (p == nullptr || p < base_ || p >= base_ + capacity_ || live_ == 0) return;
  if (--live_ == 0) offset_ = 0;
}

}  // namespace sublink
