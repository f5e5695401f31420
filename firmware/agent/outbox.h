// What the agent writes to its MessageChannel, and when. Services build
// their messages into the outbox whenever they decide to send (also while
// a server message is being handled, inside the link's callback); only the
// agent's drain step (Agent::step, Agent::shutdown) writes them to the
// channel. So the link is never called back from inside its own listener:
// it needs no re-entrancy guards.
//
// Memory: one fixed buffer of kBytes (the largest message the agent
// writes) shared by the messages waiting for the drain; a message that
// does not fit waits for nothing: it is reported as not sent, as when the
// link's own output is full.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "firmware/agent/agent_log.h"
#include "hal/status.h"
#include "net/link/message_channel.h"

namespace sublink {

class Outbox {
 public:
  /// Largest message the agent writes (a status answer with 32 features, an
  /// event batch of 8 summaries fit with room to spare).
  static constexpr size_t kBytes = 4096;
  /// Messages that may wait for one drain (one server message yields at
  /// most an answer and a request).
  static constexpr size_t kMaxMessages = 8;

  Outbox(MessageChannel& channel, const AgentLog& log) : channel_(channel), log_(log) {}
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  /// The id of the next message the device sends (1 on each new link).
  int64_t next_id() { return next_id_++; }
  /// A new link: ids count from 1 again, nothing queued for the old one.
  void restart(int64_t first_id = 1);

  /// Where the next message is built: pass to a build_* function, then
  /// hand its result to commit().
  std::span<char> space() { return {buffer_.data() + used_, buffer_.size() - used_}; }
  /// Takes the message just built in space(). Inside the drain step it is
  /// written at once. False, with the reason logged, when it was not built,
  /// the channel is down or the outbox is full ("message not sent").
  bool commit(const Result<size_t>& built);

  /// Closes the channel with `code` once the messages before it are
  /// written (at the drain). `reason` must be a literal or outlive the drain.
  void close(uint16_t code, std::string_view reason);
  /// Drops the channel at the drain (a dead link).
  void drop(Status why);

  /// True when something waits for the drain.
  bool pending() const { return count_ != 0 || action_ != Action::none; }

  /// The drain step: writes everything queued, in order, then the close or
  /// drop; from here until end_drain() commit() writes at once.
  void begin_drain();
  void end_drain() { draining_ = false; }

  /// The link is gone: what waits for it is dropped.
  void discard();

 private:
  enum class Action : uint8_t { none, close, drop };
  Status flush();

  MessageChannel& channel_;
  const AgentLog& log_;
  std::array<char, kBytes> buffer_{};
  std::array<uint16_t, kMaxMessages> sizes_{};
  size_t used_ = 0;
  size_t count_ = 0;
  int64_t next_id_ = 1;
  bool draining_ = false;
  Action action_ = Action::none;
  uint16_t close_code_ = 0;
  std::string_view close_reason_;
  Status drop_why_;
};

}  // namespace sublink
