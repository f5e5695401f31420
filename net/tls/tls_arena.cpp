#include "net/tls/tls_arena.h"

#include <cstdlib>

#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"

namespace sublink {

namespace {
bool g_installed = false;
}

TlsArena::TlsArena(std::span<uint8_t> memory) {
  mbedtls_memory_buffer_alloc_init(memory.data(), memory.size());
  g_installed = true;
}

TlsArena::~TlsArena() {
  mbedtls_memory_buffer_alloc_free();
  mbedtls_platform_set_calloc_free(calloc, free);
  g_installed = false;
}

size_t TlsArena::current_bytes() {
  size_t bytes = 0, blocks = 0;
  if (g_installed) mbedtls_memory_buffer_alloc_cur_get(&bytes, &blocks);
  return bytes;
}

size_t TlsArena::peak_bytes() {
  size_t bytes = 0, blocks = 0;
  if (g_installed) mbedtls_memory_buffer_alloc_max_get(&bytes, &blocks);
  return bytes;
}

size_t TlsArena::peak_blocks() {
  size_t bytes = 0, blocks = 0;
  if (g_installed) mbedtls_memory_buffer_alloc_max_get(&bytes, &blocks);
  return blocks;
}

void TlsArena::reset_peak() {
  if (g_installed) mbedtls_memory_buffer_alloc_max_reset();
}

bool TlsArena::installed() { return g_installed; }

}  // namespace sublink
