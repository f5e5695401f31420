#include "net/bytes/byte_queue.h"

#include <cstring>

namespace sublink {

ByteQueue::ByteQueue(size_t capacity) : data_(new uint8_t[capacity ? capacity : 1]), capacity_(capacity) {}

void ByteQueue::consume(size_t n) {
  begin_ += n < size() ? n : size();
  if (begin_ == end_) begin_ = end_ = 0;
}

std::span<uint8_t> ByteQueue::writable() {
  if (end_ == capacity_ && begin_ > 0) {
    std::memmove(data_.get(), data_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  return {data_.get() + end_, capacity_ - end_};
}

void ByteQueue::commit(size_t n) {
  end_ += n < capacity_ - end_ ? n : capacity_ - end_;
}

bool ByteQueue::push(std::span<const uint8_t> bytes) {
  if (bytes.size() > free_space()) return false;
  if (bytes.size() > capacity_ - end_) {
    std::memmove(data_.get(), data_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  if (!bytes.empty()) std::memcpy(data_.get() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
  return true;
}

bool ByteQueue::push(std::string_view text) {
  return push(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace sublink
