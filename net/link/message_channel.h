// What the agent needs from the link: a channel of whole text messages that
// is up or down. The Link implements it over the real byte path; tests and
// the simulation can put anything else behind it.
#pragma once

#include <cstdint>
#include <string_view>

#include "hal/clock.h"
#include "hal/status.h"

namespace sublink {

class MessageChannel {
 public:
  virtual ~MessageChannel() = default;
  /// Starts connecting (a connection round), or restarts after close(). A
  /// restart does not reset the backoff: when the link that close() ended
  /// was never accepted, the first round waits for the backoff.
  virtual void start(Millis now) = 0;
  /// True while a message can be sent.
  virtual bool up() const = 0;
  /// Queues one text message; would_block when not up or the output is full.
  virtual Status send_text(std::string_view message) = 0;
  /// Closes the link with a WebSocket close code and stops reconnecting
  /// until start() (1000 after `disconnect`, 1001 at shutdown, 1002/1007/1009
  /// for a peer's protocol violation).
  virtual void close(uint16_t code, std::string_view reason) = 0;
  /// Drops the link at once and reconnects after the backoff (dead link).
  virtual void drop(Status why) = 0;
  /// A server-given delay: the next reconnection waits at least this long.
  virtual void set_retry_floor(Millis delay_ms) = 0;
  /// The server accepted the device on the open link (`welcome`): only this
  /// resets the reconnection backoff (PROTOCOL.md 1.5). A link that goes
  /// down before it (an `error`, a close 1008, any close before `welcome`)
  /// counts as one more failed round.
  virtual void link_accepted() = 0;
  /// When the next connection round starts (monotonic), or kNever while a
  /// round is under way or the link is up (status `next_attempt`).
  virtual Millis next_attempt() const { return kNever; }
};

}  // namespace sublink
