#include "boards/sim/sim_storage.h"

#include <algorithm>

namespace sublink {

SimStorage::SimStorage(const NorGeometry& geometry, const FlashLayout& layout, uint64_t seed)
    : layout_(layout), flash_(geometry, seed) {}

Status SimStorage::mount() {
  flash_.restore_power();
  store_ = std::make_unique<FlashRecordStore>(flash_, layout_);
  return store_->layout_status();
}

Result<size_t> SimStorage::read(RecordId id, std::span<uint8_t> out) {
  if (!store_) return Status(Reason::io_error, flash_detail::kPowerLost);
  return store_->read(id, out);
}

Status SimStorage::write(RecordId id, std::span<const uint8_t> data) {
  SimWrite w;
  w.index = writes_.size() + 1;
  w.record = id;
  w.bytes = data.size();
  if (!planned_cut_ && random_one_in_ > 0 && store_ && random_.uniform(random_one_in_ - 1) == 0) {
    // Operations of a write: its payload and header words, maybe an erase.
    const uint64_t words = (data.size() + 64) / flash_.geometry().word_size + 1;
    planned_cut_ = std::make_pair(w.index, random_.uniform(words));
  }
  if ((failing_mask_ >> static_cast<uint32_t>(id)) & 1u) {
    ++refused_[static_cast<size_t>(id) % refused_.size()];
    w.result = failure_;
    writes_.push_back(w);
    return w.result;
  }
  const bool cut_here = planned_cut_ && planned_cut_->first == w.index;
  if (cut_here) flash_.cut_power_after(planned_cut_->second);
  const uint64_t before = flash_.operations();
  w.result = store_ ? store_->write(id, data) : Status(Reason::io_error, flash_detail::kPowerLost);
  w.flash_operations = flash_.operations() - before;
  writes_.push_back(w);
  if (cut_here) {
    planned_cut_.reset();
    if (!flash_.power_lost()) {
      flash_.restore_power();  // cancels the pending cut: the write was shorter
      cut_missed_ = true;
    }
  }
  if (flash_.power_lost()) {
    if (cut_here) {
      interrupted_ = Interrupted{w, std::vector<uint8_t>(data.begin(), data.end())};
      if (on_cut_) on_cut_(w);
    }
    return w.result;
  }
  if (w.result.ok()) {
    committed_[id].assign(data.begin(), data.end());
    if (on_write_) on_write_(w, data);
  }
  return w.result;
}

void SimStorage::wipe() {
  std::span<uint8_t> cells = flash_.raw();
  std::fill(cells.begin(), cells.end(), uint8_t{0xFF});
  committed_.clear();
  interrupted_.reset();
}

std::optional<std::vector<uint8_t>> SimStorage::committed(RecordId id) const {
  auto it = committed_.find(id);
  if (it == committed_.end()) return std::nullopt;
  return it->second;
}

void SimStorage::fail_writes(RecordId id, Status error) {
  failing_mask_ |= 1u << static_cast<uint32_t>(id);
  failure_ = error;
}

void SimStorage::cut_power_randomly(uint64_t one_in, uint64_t seed) {
  random_one_in_ = one_in;
  random_ = DeterministicRandom(seed);
}

void SimStorage::cut_power_in_write(uint64_t write_index, uint64_t operations_in) {
  planned_cut_ = std::make_pair(write_index, operations_in);
  cut_missed_ = false;
}

}  // namespace sublink
