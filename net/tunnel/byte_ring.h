// A first-in first-out byte queue over storage the caller owns: a
// tunnel channel's bytes waiting to be passed on, or to go out. Fixed
// capacity, no allocation; reads hand out contiguous views so bytes go to a
// socket or into a frame without a second copy.
//
// Driving it:
//   ByteRing r(storage);                 // std::span<uint8_t>, its whole size
//   size_t taken = r.push(bytes);        // what fits
//   std::span<const uint8_t> next = r.front();   // the oldest contiguous run
//   r.pop(n);                            // n <= next.size()
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sublink {

class ByteRing {
 public:
  ByteRing() = default;
  explicit ByteRing(std::span<uint8_t> storage) : buf_(storage) {}

  /// Copies what fits of `bytes` in; returns the count taken.
  size_t push(std::span<const uint8_t> bytes);
  /// The oldest bytes held, as one contiguous run (maybe shorter than size()
  /// where the storage wraps; empty when nothing is held).
  std::span<const uint8_t> front() const;
  /// Copies up to out.size() of the oldest bytes into `out` and drops them;
  /// returns the count.
  size_t pop_into(std::span<uint8_t> out);
  /// Drops the `n` oldest bytes (at most size()).
  void pop(size_t n);
  /// Drops everything held.
  void clear() { head_ = size_ = 0; }

  size_t size() const { return size_; }
  size_t capacity() const { return buf_.size(); }
  size_t free() const { return buf_.size() - size_; }
  bool empty() const { return size_ == 0; }
  /// The storage (while empty, a caller may borrow it for something else).
  std::span<uint8_t> storage() const { return buf_; }

 private:
  std::span<uint8_t> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace sublink
