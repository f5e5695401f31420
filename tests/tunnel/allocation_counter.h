// Counts the heap allocations this test program makes while a counter is
// alive: code that must not allocate in its steady state is checked with it.
#pragma once

#include <cstddef>

namespace sublink {

class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;
  /// Allocations since this counter was made.
  size_t count() const;

 private:
  size_t start_;
};

}  // namespace sublink
