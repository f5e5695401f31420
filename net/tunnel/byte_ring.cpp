#include "net/tunnel/byte_ring.h"

#include <algorithm>
#include <cstring>

namespace sublink {

size_t ByteRing::push(std::span<const uint8_t> bytes) {
  const size_t n = std::min(bytes.size(), free());
  size_t done = 0;
  while (done < n) {
    const size_t tail = (head_ + size_) % buf_.size();
    const size_t run = std::min(n - done, buf_.size() - tail);
    std::memcpy(buf_.data() + tail, bytes.data() + done, run);
    size_ += run;
    done += run;
  }
  return n;
}

std::span<const uint8_t> ByteRing::front() const {
  if (size_ == 0) return {};
  return {buf_.data() + head_, std::min(size_, buf_.size() - head_)};
}

size_t ByteRing::pop_into(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size() && size_ > 0) {
    std::span<const uint8_t> run = front();
    const size_t n = std::min(run.size(), out.size() - done);
    std::memcpy(out.data() + done, run.data(), n);
    pop(n);
    done += n;
  }
  return done;
}

void ByteRing::pop(size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  head_ = size_ == 0 ? 0 : (head_ + n) % buf_.size();
}

}  // namespace sublink
