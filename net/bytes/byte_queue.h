// A bounded FIFO of bytes with contiguous read and write windows, the unit
// every byte-pipe layer hands data through. Its storage is allocated once at
// construction (set-up time); pushing never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace sublink {

class ByteQueue {
 public:
  explicit ByteQueue(size_t capacity);
  ByteQueue(ByteQueue&&) noexcept = default;
  ByteQueue& operator=(ByteQueue&&) noexcept = default;

  size_t capacity() const { return capacity_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  size_t free_space() const { return capacity_ - size(); }

  /// The queued bytes, oldest first.
  std::span<const uint8_t> readable() const { return {data_.get() + begin_, size()}; }
  /// Drops the first `n` queued bytes (n is clamped to size()).
  void consume(size_t n);

  /// Free room at the tail, after moving queued bytes to the front if that
  /// makes room. Write into it, then commit() what was written.
  std::span<uint8_t> writable();
  void commit(size_t n);

  /// Appends all of `bytes` or nothing; false when they do not fit.
  bool push(std::span<const uint8_t> bytes);
  bool push(std::string_view text);

  void clear() { begin_ = end_ = 0; }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t capacity_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace sublink
