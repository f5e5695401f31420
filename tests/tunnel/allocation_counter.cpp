// Replaces the global operator new of the test program to count calls.
#include "tunnel/allocation_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace sublink {

AllocationCounter::AllocationCounter() : start_(g_allocations.load()) {}
AllocationCounter::~AllocationCounter() = default;
size_t AllocationCounter::count() const { return g_allocations.load() - start_; }

}  // namespace sublink
