#include "firmware/agent/outbox.h"

namespace sublink {

void Outbox::restart(int64_t first_id) {
  next_id_ = first_id;
  discard();
}

bool Outbox::commit(const Result<size_t>& built) {
  if (!built.ok()) {
    // With messages waiting, the space left was too small: the link's
    // output is full, as far as this message is concerned.
    if (count_ != 0) {
      log_.write(LogLevel::warning, "message not sent", reason_name(Reason::would_block));
    } else {
      log_.write(LogLevel::error, "message not built", reason_name(built.status().reason()));
    }
    return false;
  }
  if (!channel_.up() || count_ == kMaxMessages || action_ != Action::none) {
    log_.write(LogLevel::warning, "message not sent", reason_name(Reason::would_block));
    return false;
  }
  sizes_[count_++] = static_cast<uint16_t>(*built);
  used_ += *built;
  return draining_ ? flush().ok() : true;
}

void Outbox::close(uint16_t code, std::string_view reason) {
  action_ = Action::close;
  close_code_ = code;
  close_reason_ = reason;
  if (draining_) (void)flush();
}

void Outbox::drop(Status why) {
  if (action_ == Action::close) return;  // closing already
  action_ = Action::drop;
  drop_why_ = why;
  if (draining_) (void)flush();
}

void Outbox::begin_drain() {
  draining_ = true;
  (void)flush();
}

void Outbox::discard() {
  count_ = 0;
  used_ = 0;
}

Status Outbox::flush() {
  Status last;
  size_t offset = 0;
  // The link may go down while a message is written (the socket failed):
  // it then reports on_link_down, which discards the rest (count_ is 0).
  for (size_t i = 0; i < count_; ++i) {
    last = channel_.send_text({buffer_.data() + offset, sizes_[i]});
    offset += sizes_[i];
    if (!last.ok()) log_.write(LogLevel::warning, "message not sent", reason_name(last.reason()));
  }
  discard();
  const Action action = action_;
  action_ = Action::none;
  if (action == Action::close) channel_.close(close_code_, close_reason_);
  if (action == Action::drop) channel_.drop(drop_why_);
  return last;
}

}  // namespace sublink
