// The durable storage of one simulated device: a NOR flash part that
// survives reboots and power cuts, the FlashRecordStore the board mounts on
// it at every boot, and a ledger of every storage write across the device's
// life, so a scenario can cut the power inside the Nth write, part-way
// through its flash operations (a half-programmed word or a half-erased
// sector), and know what each record held before and after each write.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "hal/flash/flash_record_store.h"
#include "hal/sim/deterministic_random.h"
#include "hal/flash/sim_nor_flash.h"
#include "hal/storage.h"

namespace sublink {

/// One storage write as the ledger saw it.
struct SimWrite {
  uint64_t index = 0;      // 1-based, counted over the device's life
  RecordId record = RecordId::license;
  size_t bytes = 0;
  uint64_t flash_operations = 0;  // word programs and sector erases it took
  Status result;
};

class SimStorage final : public Storage {
 public:
  /// Told right after a write ended because the power was cut in it.
  using PowerCutHandler = std::function<void(const SimWrite&)>;
  /// Told after every write that stored its value (index, record, bytes).
  using WriteObserver = std::function<void(const SimWrite&, std::span<const uint8_t>)>;

  SimStorage(const NorGeometry& geometry, const FlashLayout& layout, uint64_t seed);

  /// The board mounts the record store at boot and restores the power
  /// (a cut power stays off until then). Returns the layout status.
  Status mount();
  /// The device is off: the record store is gone until the next mount().
  void unmount() { store_.reset(); }

  Result<size_t> read(RecordId id, std::span<uint8_t> out) override;
  Status write(RecordId id, std::span<const uint8_t> data) override;
  size_t max_record_size() const override { return layout_.max_record_size; }
  bool read_fell_back(RecordId id) const override { return store_ != nullptr && store_->read_fell_back(id); }

  /// Cuts the power inside write number `write_index` (1-based, over the
  /// device's life) after `operations_in` of its flash operations complete:
  /// the next operation is the interrupted one. When the write needs fewer
  /// operations, it completes and the cut is cancelled (cut_missed()).
  void cut_power_in_write(uint64_t write_index, uint64_t operations_in);
  /// From now on, each write is cut with a chance of 1 in `one_in` (0: never),
  /// after a random number of its flash operations, drawn from `seed`. A
  /// draw beyond the write's length lets it complete (the cut is missed).
  void cut_power_randomly(uint64_t one_in, uint64_t seed);
  /// Storage failing: from now on every write of `id` fails with `error`
  /// (e.g. io_error with ENOSPC, a full medium) and changes nothing, until
  /// stop_failing(). Reads keep working. Kept across boots.
  void fail_writes(RecordId id, Status error);
  void stop_failing() { failing_mask_ = 0; }
  /// Writes of `id` refused by fail_writes() so far.
  uint64_t refused_writes(RecordId id) const { return refused_[static_cast<size_t>(id) % refused_.size()]; }
  /// The device's state is wiped (a state_dir deleted, a flash erased by a
  /// factory reset): every cell back to erased and nothing committed. Call
  /// while the device is off.
  void wipe();
  /// True when the last planned cut found its write too short.
  bool cut_missed() const { return cut_missed_; }
  bool power_lost() const { return flash_.power_lost(); }

  void on_power_cut(PowerCutHandler handler) { on_cut_ = std::move(handler); }
  void on_write(WriteObserver observer) { on_write_ = std::move(observer); }

  /// The value of the last write of `id` that returned Ok (what the device
  /// was told is durable), nullopt when there was none.
  std::optional<std::vector<uint8_t>> committed(RecordId id) const;
  /// The write the last power cut interrupted and the value it carried.
  struct Interrupted {
    SimWrite write;
    std::vector<uint8_t> value;
  };
  const std::optional<Interrupted>& interrupted() const { return interrupted_; }

  /// Writes so far (including failed ones).
  uint64_t writes() const { return writes_.size(); }
  const std::vector<SimWrite>& ledger() const { return writes_; }
  SimNorFlash& flash() { return flash_; }

 private:
  FlashLayout layout_;
  SimNorFlash flash_;
  std::unique_ptr<FlashRecordStore> store_;
  std::vector<SimWrite> writes_;
  std::map<RecordId, std::vector<uint8_t>> committed_;
  std::optional<Interrupted> interrupted_;
  std::optional<std::pair<uint64_t, uint64_t>> planned_cut_;  // (write index, operations in)
  bool cut_missed_ = false;
  uint32_t failing_mask_ = 0;  // bit i: writes of RecordId i fail with failure_
  std::array<uint64_t, 32> refused_{};  // per RecordId: writes refused
  Status failure_;
  uint64_t random_one_in_ = 0;
  DeterministicRandom random_{0};
  PowerCutHandler on_cut_;
  WriteObserver on_write_;
};

}  // namespace sublink
